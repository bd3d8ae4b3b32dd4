// A MOR-compatible simulator of devices_get (and its old name device_list), device_details_get
// and the device writes (device_create, device_update, device_delete and its old name
// device_destroy), over real HTTP. It reads parameters as MOR's Rails does (query string and any
// body Rails parses), checks logins and hashes with MOR's own error texts and can answer in each
// encoding real MOR installs use, so the gateway, the demo and the tests all meet the same
// upstream behaviour. Like Rails it runs the action for any HTTP method (a `match` route): HEAD
// as a GET whose body is stripped, OPTIONS as any other non-GET. Writes change what later reads of
// the same instance return, and of no other instance.
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { findDevice, findUser, type SimOwnedDevice, type SimUser } from './data.js'
import { answer, API_METHODS, type ApiMethod } from './methods.js'
import { createOverlay, type SimOverlay } from './overlay.js'
import { createParamsReader, type SimParams } from './request.js'
import { badRequest, send, tooLarge, type SimEncoding } from './reply.js'
import type { ErrorShape, SimRevision } from './xml.js'

export { SIM_ENCODINGS, type SimEncoding } from './reply.js'

export interface SimulatorOptions {
  apiUser: string
  secret: string
  /** When set, MOR's older login: `p` must match too. */
  password?: string | undefined
  encoding?: SimEncoding
  allowGet?: boolean
  errorShape?: ErrorShape
  htmlWrapper?: boolean
  /** Which MOR revision's write answers to give (xml.ts): `current` by default. */
  revision?: SimRevision
  /** Devices that have calls: MOR refuses to delete them and they stay in place. */
  devicesWithCalls?: Set<number>
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
   * user_id as sent; byDevice the device_details_get calls by device_id as sent; writes the
   * device_create/device_update/device_delete/device_destroy calls by the name called. A call MOR
   * never sees (a body over the bound, or one Rails cannot parse) is not counted.
   */
  calls: SimCalls
  /** This instance's device writes, laid over `options.users` and `options.devices`. */
  overlay: SimOverlay
  close: () => Promise<void>
}

export interface SimCalls {
  total: number
  byUser: Map<string, number>
  byDevice: Map<string, number>
  writes: Map<string, number>
  /** The catalogue's read calls, by the name called and the subject as sent (`user_details_get:2`; `users_get`). */
  reads: Map<string, number>
  /** The trace headers of the last calls (at most 100), as a traced MOR would read them. */
  traces: SimTrace[]
}

export interface SimTrace { method: string, traceparent: string | undefined, tracestate: string | undefined, requestId: string | undefined }
const TRACES_KEPT = 100

const API_PREFIX = '/billing/api/'
/** How many calls the simulator has answered: in total, devices_get by user_id, device_details_get by device_id, writes by the name called. */
export const STATS_PATH = '/_sim/stats'

function count (calls: SimCalls, name: string, method: ApiMethod, params: SimParams, headers: IncomingMessage['headers']): void {
  calls.total++
  const header = (value: string | string[] | undefined) => (typeof value === 'string' ? value : undefined)
  calls.traces.push({ method: name, traceparent: header(headers.traceparent), tracestate: header(headers.tracestate), requestId: header(headers['x-request-id']) })
  if (calls.traces.length > TRACES_KEPT) calls.traces.shift()
  const [counts, key] = method.tally === 'writes'
    ? [calls.writes, name]
    : method.tally === 'reads'
      ? [calls.reads, method.subject === '' ? name : `${name}:${params.get(method.subject) ?? ''}`]
      : [calls[method.tally], params.get(method.subject) ?? '']
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

export async function startMorSimulator (opts: SimulatorOptions, port = 0, host = '127.0.0.1'): Promise<MorSimulator> {
  const options: MorSimulator['options'] = {
    encoding: 'gzip',
    allowGet: true,
    errorShape: 'bare',
    htmlWrapper: false,
    revision: 'current',
    devicesWithCalls: new Set(),
    delayMs: 0,
    users: findUser,
    devices: findDevice,
    ...opts,
    password: opts.password
  }
  const calls: SimCalls = { total: 0, byUser: new Map(), byDevice: new Map(), writes: new Map(), reads: new Map(), traces: [] }
  const overlay = createOverlay()
  const readParams = createParamsReader()

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim')
    if (url.pathname === STATS_PATH) {
      // Outside MOR's API: lets the benchmark and curious operators count upstream calls.
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        total: calls.total, byUser: Object.fromEntries(calls.byUser), byDevice: Object.fromEntries(calls.byDevice), writes: Object.fromEntries(calls.writes), reads: Object.fromEntries(calls.reads)
      }))
      return
    }
    const name = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) : ''
    const method = API_METHODS.get(name)
    if (method === undefined) {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body><h1>404 Not Found</h1></body></html>')
      return
    }
    // Only now is the body read: a call to no method costs nothing past its headers. The query
    // string goes as sent, byte for byte (URL's would be re-encoded).
    const target = req.url ?? ''
    const mark = target.indexOf('?')
    readParams(req, mark < 0 ? '' : target.slice(mark + 1)).then(async (read) => {
      if (read.kind === 'too-large') return tooLarge(res)
      if (read.kind === 'unparsable') return badRequest(res)
      count(calls, name, method, read.params, req.headers)
      if (options.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, options.delayMs))
      send(res, answer(method, read.params, req.method ?? 'GET', options, overlay), options)
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
    overlay,
    close: () => new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
}
