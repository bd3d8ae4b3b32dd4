// One legacy call relayed to MOR: the request body read (small ones whole, large ones streamed and
// counted), the call dispatched on the passthrough's pool, and MOR's answer written straight to the
// client's socket with backpressure. The proxy route and the legacy lane both relay through here.
//
// Every way a call can end is decided here, once: MOR answers (the bytes go back unchanged), MOR
// fails before answering (the caller answers a problem), MOR fails mid-answer (the connection is
// cut: only that tells the client the answer is incomplete), the client leaves (the call to MOR is
// aborted and nothing is reported as an upstream failure), or the gateway fails the call itself
// (too large, too slow a sender, no free connection). Whatever happens, the pool's slot and the
// gate's place come back.
import { Transform, type TransformCallback } from 'node:stream'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import { responseHeaders } from './headers.js'
import { ClientGoneError, PassthroughBusyError, PayloadTooLargeError, upstreamError } from './errors.js'
import type { Gate } from './gate.js'
import { legacyWriteOf, WRITE_ANSWER_MAX_BYTES, writeMayHaveChanged, type LegacyWrite } from './writes.js'

/** Bodies up to this size are read whole before MOR is called: a slow sender holds no connection. */
export const SMALL_BODY_BYTES = 64 * 1024

export interface RelayDeps {
  pool: Dispatcher
  /** MOR's origin, e.g. `http://10.0.0.5`. */
  origin: string
  gate: Gate
  maxBodyBytes: number
  /** UPSTREAM_TIMEOUT_MS, quoted by the 504 problem. */
  timeoutMs: number
  /** MOR_URL's path + /api: where the write methods live. */
  apiPrefix: string
  /** A device-changing call MOR may have carried out, known once its answer has gone out whole. */
  onWrite: (write: LegacyWrite) => void
}

export interface RelayCall {
  /** Headers for MOR (legacy/headers.ts). */
  headers: string[]
  /** Headers the gateway adds to MOR's answer (X-Request-Id, CORS), as a flat name, value list. */
  answerHeaders: () => string[]
  /** The answer is about to start: from here on the relay owns the response. */
  onStart: () => void
  /** The call failed before any answer was written: the caller answers with this error's problem. */
  onFailure: (err: Error) => void
  /** The call is over: `answered` (MOR's answer went out whole), `cut` (it broke off), or `gone` (the client left). */
  onEnd: (outcome: 'answered' | 'cut' | 'gone') => void
}

const FAIL = Symbol('fails the relayed call of this request')
type Failable = IncomingMessage & { [FAIL]?: (err: Error) => void }

/**
 * Fails the passthrough call still receiving this request's body, if there is one (a request
 * timeout, a malformed body): true when the relay took the error over and will answer or cut.
 */
export function failRelayedRequest (req: IncomingMessage, err: Error): boolean {
  const fail = (req as Failable)[FAIL]
  if (fail === undefined) return false
  fail(err)
  return true
}

/** How the body comes: none, small enough to read whole, or streamed. */
function bodyKind (req: IncomingMessage): 'none' | 'small' | 'stream' {
  const length = req.headers['content-length']
  if (length === undefined) return req.headers['transfer-encoding'] === undefined ? 'none' : 'stream'
  const bytes = Number(length)
  return bytes === 0 ? 'none' : bytes <= SMALL_BODY_BYTES ? 'small' : 'stream'
}

/** Counts a streamed body on its way to MOR; fails once it passes the limit. */
function countingStream (maxBytes: number): Transform {
  let seen = 0
  const counter = new Transform({
    transform (chunk: Buffer, _enc, done: TransformCallback) {
      seen += chunk.length
      done(seen > maxBytes ? new PayloadTooLargeError(maxBytes) : null, chunk)
    }
  })
  // Ours for its whole life: undici listens only while its call lasts, and an error after that
  // (the client aborting once MOR has answered) must not become an uncaught exception.
  counter.on('error', () => {})
  return counter
}

/**
 * One call as undici's dispatch handler. A class rather than a literal of closures: its methods
 * are shared, so a call allocates one object.
 */
class Relay implements Dispatcher.DispatchHandler {
  status = 0
  abort: ((err?: Error) => void) | undefined = undefined
  resume: (() => void) | undefined = undefined
  /** Set when the gateway fails the call before undici has connected it. */
  pending: Error | undefined = undefined
  ended = false
  /** A write's answer, copied (bounded) to see whether MOR carried it out. */
  copy: Buffer[] | undefined = undefined
  copied = 0
  encoding: string | undefined = undefined

  constructor (readonly res: ServerResponse, readonly call: RelayCall, readonly deps: RelayDeps, readonly write: LegacyWrite | undefined) {
    if (write) this.copy = []
  }

  onConnect (abort: (err?: Error) => void): void {
    this.abort = abort
    if (this.pending) abort(this.pending)
  }

  onHeaders (statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200 || statusCode > 599) {
      this.abort?.(new Error(`MOR answered with status ${statusCode}`))
      return false
    }
    if (this.res.destroyed) {
      this.abort?.(new ClientGoneError())
      return false
    }
    this.call.onStart()
    this.status = statusCode
    if (this.copy) this.encoding = headerOf(rawHeaders, 'content-encoding')
    this.res.writeHead(statusCode, responseHeaders(this.call.answerHeaders(), rawHeaders))
    this.resume = resume
    return true
  }

  onData (chunk: Buffer): boolean {
    if (this.copy && this.copied <= WRITE_ANSWER_MAX_BYTES) {
      this.copy.push(Buffer.from(chunk))
      this.copied += chunk.length
    }
    if (this.res.write(chunk)) return true
    // The client reads slower than MOR sends: MOR's side waits until the client has caught up.
    if (this.resume) this.res.once('drain', this.resume)
    return false
  }

  onComplete (): void {
    this.res.end()
    this.end('answered')
    const { write, copy } = this
    if (write && copy) {
      const complete = this.copied <= WRITE_ANSWER_MAX_BYTES
      writeMayHaveChanged(this.status, Buffer.concat(copy), complete, this.encoding)
        .then((changed) => { if (changed) this.deps.onWrite(write) }, () => { this.deps.onWrite(write) })
    }
  }

  onError (err: Error): void {
    if (err instanceof ClientGoneError || this.res.destroyed) {
      this.end('gone')
    } else if (this.res.headersSent) {
      this.res.destroy(err)
      this.end('cut')
    } else {
      this.end(undefined)
      // The gateway's own errors (too large, too slow a sender) carry their status; undici's do not.
      this.call.onFailure('statusCode' in err ? err : upstreamError(err, this.deps.timeoutMs))
    }
  }

  /** The gateway ends the call (the client left, a limit was hit). */
  fail (err: Error): void {
    if (this.abort) this.abort(err)
    else this.pending = err
  }

  private end (outcome: 'answered' | 'cut' | 'gone' | undefined): void {
    if (this.ended) return
    this.ended = true
    this.deps.gate.leave()
    if (outcome) this.call.onEnd(outcome)
  }
}

/** One header's value from undici's raw name, value list. */
function headerOf (rawHeaders: Buffer[], name: string): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toString('latin1').toLowerCase() === name) return rawHeaders[i + 1]?.toString('latin1')
  }
  return undefined
}

/** Relays `req` to MOR at `path`, answering on `res` (see RelayCall for who answers what). */
export function relay (deps: RelayDeps, req: IncomingMessage, res: ServerResponse, path: string, call: RelayCall): void {
  const kind = bodyKind(req)
  const failable = req as Failable
  let finished = false
  const finish = (fn: () => void) => {
    if (finished) return
    finished = true
    failable[FAIL] = undefined
    fn()
  }
  const gone = () => { if (!res.writableFinished) failable[FAIL]?.(new ClientGoneError()) }
  res.once('close', gone)

  const dispatch = (body: Buffer | Transform | null) => {
    if (res.destroyed) return finish(() => call.onEnd('gone'))
    if (!deps.gate.enter()) return finish(() => call.onFailure(new PassthroughBusyError(1)))
    // A streamed body is not read: write methods take a few short parameters.
    const write = legacyWriteOf(deps.apiPrefix, path, body instanceof Transform ? null : body, req.headers['content-type'])
    const relayed = new Relay(res, {
      ...call,
      onFailure: (err) => finish(() => call.onFailure(err)),
      onEnd: (outcome) => finish(() => call.onEnd(outcome))
    }, deps, write)
    failable[FAIL] = (err) => relayed.fail(err)
    deps.pool.dispatch({ origin: deps.origin, method: req.method ?? 'GET', path, headers: call.headers, body }, relayed)
  }

  if (kind === 'none') return dispatch(null)
  if (kind === 'stream') return dispatch(req.pipe(countingStream(deps.maxBodyBytes)))

  // A small body is read whole first; the request timeout or the client leaving ends the read.
  const chunks: Buffer[] = []
  const onData = (chunk: Buffer) => { chunks.push(chunk) }
  const onEnd = () => { stop(); dispatch(Buffer.concat(chunks)) }
  const stop = () => { req.off('data', onData).off('end', onEnd) }
  failable[FAIL] = (err) => {
    stop()
    if (err instanceof ClientGoneError) finish(() => call.onEnd('gone'))
    else finish(() => call.onFailure(err))
  }
  req.on('data', onData).on('end', onEnd)
}
