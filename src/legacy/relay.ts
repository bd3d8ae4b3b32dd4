// One legacy call relayed to MOR: the request body read (small ones whole, large ones streamed and
// counted), the call dispatched on the passthrough's pool, and MOR's answer written straight to the
// client's socket with backpressure (by the call's handler, relay-handler.ts). The proxy route and
// the legacy lane both relay through here.
//
// Every way a call can end is decided here and in the handler, once: MOR answers (the bytes go back unchanged), MOR
// fails before answering (the caller answers a problem), MOR fails mid-answer (the connection is
// cut: only that tells the client the answer is incomplete), the client leaves (the call to MOR is
// aborted and nothing is reported as an upstream failure), or the gateway fails the call itself
// (too large, too slow a sender, no free connection). Whatever happens, the pool's slot and the
// gate's place come back.
//
// Calls to MOR's write methods (writes.ts) differ in three ways, all so the cache follows every
// write MOR applies: their body is read whole whatever its framing, and one whose target cannot
// be read is not forwarded; MOR's answer is read on (while it can still confirm the write) even
// once the client has left, since MOR applies the write anyway; and what that answer says goes to
// `onWriteAnswered` before the client gets it.
import { Transform, type TransformCallback } from 'node:stream'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ClientGoneError, PassthroughBusyError, PayloadTooLargeError, UnreadableWriteError, WriteAsHeadError } from './errors.js'
import { Relay } from './relay-handler.js'
import { handover } from '../http/handover.js'
import { HEAD_REASON, WRITE_BODY_MAX_BYTES, writeMethodOf, writeRequestOf, type WritePath } from './writes.js'
import type { RelayCall, RelayDeps, Write } from './relay-call.js'

/** Bodies up to this size are read whole before MOR is called: a slow sender holds no connection. */
export const SMALL_BODY_BYTES = 64 * 1024

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
 * Conditional request headers, left out of a write: Rack answers a GET whose If-None-Match
 * matches with an empty 304, after the write has run.
 */
const CONDITIONAL = new Set(['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range'])

function withoutConditionals (headers: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (!CONDITIONAL.has(headers[i] as string)) out.push(headers[i] as string, headers[i + 1] as string)
  }
  return out
}

/** Relays `req` to MOR at `path`, answering on `res` (see RelayCall for who answers what). */
export function relay (deps: RelayDeps, req: IncomingMessage, res: ServerResponse, path: string, call: RelayCall): void {
  // How to fail this call: the client leaving, and (shared with the client-error handler through
  // the request's record, only for a request with a body to arrive) a request timeout or a
  // malformed chunk. A request without a body has nothing left to fail that way.
  const kind = bodyKind(req)
  const record = kind === 'none' ? undefined : handover(req)
  const failable: { failBody?: ((err: Error) => void) | undefined } = record ?? {}
  let finished = false
  const finish = (fn: () => void) => {
    if (finished) return
    finished = true
    failable.failBody = undefined
    fn()
  }
  const refuse = (err: Error) => finish(() => call.onFailure(err))
  const gone = () => { if (!res.writableFinished) failable.failBody?.(new ClientGoneError()) }
  res.once('close', gone)

  const dispatch = (body: Buffer | Transform | null, write?: Write) => {
    if (res.destroyed) return finish(() => call.onEnd('gone'))
    if (!deps.gate.enter()) return refuse(new PassthroughBusyError(1))
    const relayed = new Relay(res, {
      ...call,
      onFailure: refuse,
      onEnd: (outcome) => finish(() => call.onEnd(outcome))
    }, deps, write)
    failable.failBody = (err) => relayed.fail(err)
    const headers = write ? withoutConditionals(call.headers) : call.headers
    deps.pool.dispatch({ origin: deps.origin, method: req.method ?? 'GET', path, headers, body }, relayed)
  }

  /** Reads the body whole, up to `maxBytes`; the request timeout or the client leaving ends the read. */
  const readWhole = (maxBytes: number, then: (body: Buffer | null) => void, tooLarge = refuse) => {
    if (kind === 'none') return then(null)
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        stop()
        tooLarge(new PayloadTooLargeError(maxBytes))
      } else {
        chunks.push(chunk)
      }
    }
    const onEnd = () => { stop(); then(Buffer.concat(chunks)) }
    const stop = () => { req.off('data', onData).off('end', onEnd) }
    failable.failBody = (err) => {
      stop()
      if (err instanceof ClientGoneError) finish(() => call.onEnd('gone'))
      else refuse(err)
    }
    req.on('data', onData).on('end', onEnd)
  }

  const mark = path.indexOf('?')
  const write = writeMethodOf(deps.apiPrefix, mark < 0 ? path : path.slice(0, mark))
  if (write !== undefined) return relayWrite(write)

  if (kind === 'stream') return dispatch(req.pipe(countingStream(deps.maxBodyBytes)))
  readWhole(SMALL_BODY_BYTES, (body) => { dispatch(body) })

  /** A call to a write method: forwarded only once its body is read and its target known. */
  function relayWrite (target: WritePath): void {
    const refused = (err: Error, reason: string) => {
      deps.onWriteRefused(target.method, reason, call.requestId)
      refuse(err)
    }
    if (req.method === 'HEAD') return refused(new WriteAsHeadError(target.method), HEAD_REASON)
    const maxBytes = Math.min(WRITE_BODY_MAX_BYTES, deps.maxBodyBytes)
    const tooLarge = (err: Error) => { refused(err, `the body is larger than ${maxBytes} bytes`) }
    if (Number(req.headers['content-length']) > maxBytes) return tooLarge(new PayloadTooLargeError(maxBytes))
    readWhole(maxBytes, (body) => {
      const override = req.headers['x-http-method-override']
      const request = writeRequestOf(target, {
        httpMethod: req.method ?? 'GET',
        query: mark < 0 ? '' : path.slice(mark + 1),
        contentType: req.headers['content-type'],
        methodOverride: typeof override === 'string' ? override : undefined,
        body
      })
      if (request.kind === 'unreadable') return refused(new UnreadableWriteError(`${request.method}: ${request.reason}`), request.reason)
      dispatch(body, request)
    }, tooLarge)
  }
}
