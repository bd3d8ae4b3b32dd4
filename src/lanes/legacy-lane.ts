// The legacy lane: a plain legacy GET relayed to MOR before the framework, on undici's dispatcher
// with the answer written straight to the socket. Relaying is all the passthrough does, and
// @fastify/http-proxy spends most of its time in machinery around it (request and reply objects,
// hooks, undici's stream API, header copies). Measured on a fixed load: about half the CPU per call.
// The lane forwards exactly what the route would (same confinement, headers either way, timeouts),
// and hands everything else to Fastify untouched: bodies, other methods, CORS, refused paths and
// addresses, and anything while closing or overloaded. An upstream failure before the answer has
// started is handed over too, marked, and the route answers it with its usual problem.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import { hopByHop, upstreamRequestHeaders } from '../legacy/headers.js'
import { refusePath } from '../legacy/confine.js'
import type { Lane } from './hit-lane.js'

export interface LegacyLaneDeps {
  dispatcher: Dispatcher
  /** MOR's origin (`http://host:port`): the Host sent upstream is its host. */
  origin: URL
  apiPrefix: string
  /** LEGACY_ALLOW_CIDRS as a predicate on the client's address, if configured. */
  allowed: ((ip: string) => boolean) | undefined
  open: () => boolean
  requestId: (req: IncomingMessage) => string
  /** Called once the answer has ended (metrics and the access log). */
  served: (req: IncomingMessage, id: string, status: number, startedAt: number) => void
}

const FAILURE = Symbol('upstream failure met by the legacy lane')
type Marked = IncomingMessage & { [FAILURE]?: Error }

/** The upstream failure the lane met before answering, for the route to answer as a problem. */
export function laneFailure (req: IncomingMessage): Error | undefined {
  return (req as Marked)[FAILURE]
}

/** True when the request is one the lane relays: a body-less, same-origin GET to an allowed path. */
function relayable (req: IncomingMessage, apiPrefix: string): boolean {
  if (req.method !== 'GET') return false
  const { headers } = req
  if (headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0')) return false
  if (headers.origin !== undefined || headers.expect !== undefined) return false
  const url = req.url ?? ''
  const query = url.indexOf('?')
  return refusePath(query === -1 ? url : url.slice(0, query), apiPrefix) === undefined
}

/** MOR's response headers (undici's raw list) as a flat name, value list, hop-by-hop ones left out. */
function responseHeaders (id: string, raw: Buffer[]): string[] {
  const pairs: string[] = []
  let connection: string | undefined
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = String(raw[i]?.toString('latin1')).toLowerCase()
    const value = String(raw[i + 1]?.toString('latin1'))
    if (name === 'connection') connection = connection === undefined ? value : `${connection}, ${value}`
    pairs.push(name, value)
  }
  const dropped = hopByHop(connection)
  const out = ['x-request-id', id]
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const name = pairs[i] as string
    if (!dropped(name)) out.push(name, pairs[i + 1] as string)
  }
  return out
}

/**
 * One relayed call, as undici's dispatch handler. A class rather than a literal of closures: its
 * methods are shared, so a call allocates one object.
 */
class Relay implements Dispatcher.DispatchHandler {
  status = 0
  answer: string[] = []
  abort: ((err?: Error) => void) | undefined = undefined
  resume: (() => void) | undefined = undefined

  constructor (
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly next: () => void,
    readonly id: string,
    readonly startedAt: number,
    readonly served: LegacyLaneDeps['served']
  ) {
    // A client gone before the answer ends takes the upstream request with it.
    res.once('close', () => { if (!res.writableFinished) this.abort?.() })
  }

  onConnect (abort: (err?: Error) => void): void { this.abort = abort }

  onHeaders (statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200 || statusCode > 599) {
      this.abort?.(new Error(`MOR answered with status ${statusCode}`))
      return false
    }
    this.status = statusCode
    this.answer = responseHeaders(this.id, rawHeaders)
    this.resume = resume
    return true
  }

  onData (chunk: Buffer): boolean {
    this.start()
    if (this.res.write(chunk)) return true
    // The client reads slower than MOR sends: MOR's side waits until the client has caught up.
    if (this.resume) this.res.once('drain', this.resume)
    return false
  }

  onComplete (): void {
    this.start()
    this.res.end()
    this.served(this.req, this.id, this.status, this.startedAt)
  }

  onError (err: Error): void {
    if (this.res.headersSent) {
      // Part of the answer is out: only a cut connection tells the client it is incomplete.
      this.res.destroy(err)
    } else if (!this.res.destroyed) {
      ;(this.req as Marked)[FAILURE] = err
      this.next()
    }
  }

  private start (): void {
    if (!this.res.headersSent) this.res.writeHead(this.status, this.answer)
  }
}

export function createLegacyLane (deps: LegacyLaneDeps): Lane {
  const { dispatcher, origin, apiPrefix, allowed, open, requestId, served } = deps

  return function legacyLane (req, res, next) {
    if (!relayable(req, apiPrefix) || !open()) return next()
    const ip = req.socket.remoteAddress ?? ''
    if (allowed && !allowed(ip)) return next()
    const startedAt = performance.now()
    const id = requestId(req)
    const headers = upstreamRequestHeaders(req.headers, origin.host, {
      ip,
      protocol: 'encrypted' in req.socket && req.socket.encrypted === true ? 'https' : 'http',
      host: req.headers.host ?? ''
    })
    dispatcher.dispatch({ origin: origin.origin, method: 'GET', path: req.url ?? '/', headers }, new Relay(req, res, next, id, startedAt, served))
  }
}
