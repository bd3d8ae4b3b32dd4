// A MOR-compatible simulator of devices_get (and its old name device_list), over real HTTP. It
// checks logins and hashes with MOR's own error texts and can answer in each encoding real MOR
// installs use, so the gateway, the demo and the tests all meet the same upstream behaviour.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { signParams } from '../mor/sign.js'
import { findUser, type SimUser } from './data.js'
import { devicesXml, errorXml, withHtmlWrapper, type ErrorShape } from './xml.js'

/** gzip: Content-Encoding gzip; gzip-file: a .gz download with no Content-Encoding; plain: text/xml. */
export type SimEncoding = 'gzip' | 'gzip-file' | 'plain'
export const SIM_ENCODINGS: readonly SimEncoding[] = ['gzip', 'gzip-file', 'plain']

export interface SimulatorOptions {
  apiUser: string
  secret: string
  /** When set, MOR's older login: `p` must match too. */
  password?: string | undefined
  encoding?: SimEncoding
  allowGet?: boolean
  errorShape?: ErrorShape
  htmlWrapper?: boolean
  /** Delay before answering, to look like a billing server under load. */
  delayMs?: number
  users?: (id: number) => SimUser | undefined
}

export interface MorSimulator {
  /** MOR base URL, like MOR_URL: http://127.0.0.1:PORT/billing */
  url: string
  port: number
  /** Mutable behaviour, so a test can switch encodings or latency between requests. */
  options: Required<Omit<SimulatorOptions, 'password'>> & { password: string | undefined }
  /** devices_get/device_list calls received, by user_id as sent. */
  calls: { total: number, byUser: Map<string, number> }
  close: () => Promise<void>
}

const API_PREFIX = '/billing/api/'
/** How many devices_get calls the simulator has answered, in total and by user_id. */
export const STATS_PATH = '/_sim/stats'
const METHODS = new Set(['devices_get', 'device_list'])
const MAX_FORM_BYTES = 64 * 1024

async function readForm (req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_FORM_BYTES) break
    chunks.push(chunk as Buffer)
  }
  const type = req.headers['content-type'] ?? ''
  return type.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(Buffer.concat(chunks).toString('utf8')) : new URLSearchParams()
}

function send (res: ServerResponse, xml: string, sim: MorSimulator['options']) {
  const text = sim.htmlWrapper ? withHtmlWrapper(xml) : xml
  // Rails sets a session cookie on every API answer; legacy clients see it through the gateway too.
  res.setHeader('set-cookie', '_mor_session=sim; path=/; HttpOnly')
  if (sim.encoding === 'plain') {
    res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(text)
    return
  }
  const gz = gzipSync(text)
  if (sim.encoding === 'gzip') res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8', 'content-encoding': 'gzip' })
  else res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-disposition': 'attachment; filename="devices.xml.gz"' })
  res.end(gz)
}

function answer (params: URLSearchParams, method: string, sim: MorSimulator['options']): string {
  const err = (message: string) => errorXml(message, sim.errorShape)
  if (method === 'GET' && !sim.allowGet) return err('GET Requests are disabled')
  if (params.get('u') !== sim.apiUser || (sim.password !== undefined && params.get('p') !== sim.password)) return err('Bad login')
  const userId = params.get('user_id') ?? ''
  if (userId === '') return err('user_id is empty')
  if (params.get('hash') !== signParams([userId], sim.secret)) return err('Incorrect hash')
  const user = /^[0-9]{1,10}$/.test(userId) ? sim.users(Number(userId)) : undefined
  if (!user) return err('User not found')
  return devicesXml(user.devices)
}

export async function startMorSimulator (opts: SimulatorOptions, port = 0, host = '127.0.0.1'): Promise<MorSimulator> {
  const options: MorSimulator['options'] = {
    encoding: 'gzip', allowGet: true, errorShape: 'bare', htmlWrapper: false, delayMs: 0, users: findUser, ...opts, password: opts.password
  }
  const calls = { total: 0, byUser: new Map<string, number>() }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim')
    if (url.pathname === STATS_PATH) {
      // Outside MOR's API: lets the benchmark and curious operators count upstream calls.
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ total: calls.total, byUser: Object.fromEntries(calls.byUser) }))
      return
    }
    const method = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) : ''
    if (!METHODS.has(method)) {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body><h1>404 Not Found</h1></body></html>')
      return
    }
    readForm(req).then(async (form) => {
      // Rails merges both; the form body wins over the query string.
      const params = new URLSearchParams([...form, ...url.searchParams])
      calls.total++
      const user = params.get('user_id') ?? ''
      calls.byUser.set(user, (calls.byUser.get(user) ?? 0) + 1)
      if (options.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, options.delayMs))
      send(res, answer(params, req.method ?? 'GET', options), options)
    }).catch(() => res.destroy())
  })
  server.keepAliveTimeout = 5000

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const bound = (server.address() as AddressInfo).port
  return {
    url: `http://${host}:${bound}/billing`,
    port: bound,
    options,
    calls,
    close: () => new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
}
