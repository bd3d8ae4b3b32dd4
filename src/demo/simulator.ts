// A MOR-compatible simulator of devices_get (and its old name device_list) and
// device_details_get, over real HTTP. It checks logins and hashes with MOR's own error texts and
// can answer in each encoding real MOR installs use, so the gateway, the demo and the tests all
// meet the same upstream behaviour.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { signParams } from '../mor/sign.js'
import { findDevice, findUser, type SimOwnedDevice, type SimUser } from './data.js'
import { deviceDetailsXml, devicesXml, errorXml, withHtmlWrapper, type ErrorShape } from './xml.js'

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
  /** device_details_get's lookup: the device and its owner's id. */
  devices?: (id: number) => SimOwnedDevice | undefined
}

export interface MorSimulator {
  /** MOR base URL, like MOR_URL: http://127.0.0.1:PORT/billing */
  url: string
  port: number
  /** Mutable behaviour, so a test can switch encodings or latency between requests. */
  options: Required<Omit<SimulatorOptions, 'password'>> & { password: string | undefined }
  /**
   * API calls received: total counts every method; byUser the devices_get/device_list calls by
   * user_id as sent; byDevice the device_details_get calls by device_id as sent.
   */
  calls: SimCalls
  close: () => Promise<void>
}

export interface SimCalls { total: number, byUser: Map<string, number>, byDevice: Map<string, number> }

const API_PREFIX = '/billing/api/'
/** How many calls the simulator has answered: in total, devices_get by user_id, device_details_get by device_id. */
export const STATS_PATH = '/_sim/stats'
const LIST_METHODS = new Set(['devices_get', 'device_list'])
const DETAILS_METHOD = 'device_details_get'
const ID = /^[0-9]{1,10}$/
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

function answer (params: URLSearchParams, apiMethod: string, method: string, sim: MorSimulator['options']): string {
  const err = (message: string) => errorXml(message, sim.errorShape)
  if (method === 'GET' && !sim.allowGet) return err('GET Requests are disabled')
  if (params.get('u') !== sim.apiUser || (sim.password !== undefined && params.get('p') !== sim.password)) return err('Bad login')
  if (apiMethod === DETAILS_METHOD) {
    // Only device_id is hashed; an empty or unknown one is simply a device MOR cannot find.
    const deviceId = params.get('device_id') ?? ''
    if (params.get('hash') !== signParams([deviceId], sim.secret)) return err('Incorrect hash')
    const owned = ID.test(deviceId) ? sim.devices(Number(deviceId)) : undefined
    return owned ? deviceDetailsXml(owned) : err('Device was not found')
  }
  const userId = params.get('user_id') ?? ''
  if (userId === '') return err('user_id is empty')
  if (params.get('hash') !== signParams([userId], sim.secret)) return err('Incorrect hash')
  const user = ID.test(userId) ? sim.users(Number(userId)) : undefined
  if (!user) return err('User not found')
  return devicesXml(user.devices)
}

function count (calls: SimCalls, apiMethod: string, params: URLSearchParams): void {
  calls.total++
  const [counts, key] = apiMethod === DETAILS_METHOD ? [calls.byDevice, params.get('device_id')] : [calls.byUser, params.get('user_id')]
  counts.set(key ?? '', (counts.get(key ?? '') ?? 0) + 1)
}

export async function startMorSimulator (opts: SimulatorOptions, port = 0, host = '127.0.0.1'): Promise<MorSimulator> {
  const options: MorSimulator['options'] = {
    encoding: 'gzip', allowGet: true, errorShape: 'bare', htmlWrapper: false, delayMs: 0, users: findUser, devices: findDevice, ...opts, password: opts.password
  }
  const calls: SimCalls = { total: 0, byUser: new Map(), byDevice: new Map() }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim')
    if (url.pathname === STATS_PATH) {
      // Outside MOR's API: lets the benchmark and curious operators count upstream calls.
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ total: calls.total, byUser: Object.fromEntries(calls.byUser), byDevice: Object.fromEntries(calls.byDevice) }))
      return
    }
    const apiMethod = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) : ''
    if (!LIST_METHODS.has(apiMethod) && apiMethod !== DETAILS_METHOD) {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body><h1>404 Not Found</h1></body></html>')
      return
    }
    readForm(req).then(async (form) => {
      // Rails merges both; the form body wins over the query string.
      const params = new URLSearchParams([...form, ...url.searchParams])
      count(calls, apiMethod, params)
      if (options.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, options.delayMs))
      send(res, answer(params, apiMethod, req.method ?? 'GET', options), options)
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
