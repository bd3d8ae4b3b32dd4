// What the gateway knows about one request outside the framework's request object, in one typed
// record per request, kept here and nowhere else. The lanes decide some things before Fastify
// sees a request (its id, its rate count, its trace, a failure met while relaying it); when a lane
// hands the request over, Fastify's hooks read those decisions here instead of taking them again.
// A relay still reading a request's body leaves here how to fail it, for the client-error handler
// (a request timeout, a malformed chunk). And the front door notes each connection's latest
// exchange, so that handler knows what is under way on a connection without Node's internals.
//
// Kept in a field the gateway's own request class declares (GatewayRequest, which the front door's
// server makes its requests with), so every request has the same shape from its construction: a
// property added to some requests only would change the hidden class of Node's own objects and slow
// the http internals down, and a WeakMap entry per request costs the garbage collector (ephemerons)
// on every request, about 3% of a passthrough's CPU. Requests made elsewhere (Fastify's inject, a
// server without the front door) keep theirs in a WeakMap.
import { IncomingMessage, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { RateDecision } from '../rate-limit/request-limiter.js'
import type { TraceDecision } from '../tracing/tracer.js'

export interface Handover {
  /** The request's id, once something has needed it (Fastify's genReqId reads it from here). */
  id?: string
  /** The lane counted the request against its caller's rate limit: the route must not count it again. */
  rate?: RateDecision
  /** The trace decided for the request, so the framework continues that one. */
  trace?: TraceDecision
  /** A failure the legacy lane met before answering: the route answers it as a problem. */
  failure?: Error
  /** The access log's incoming line is written (plugins/request-end.ts). */
  announced?: boolean
  /** Fails the relayed call still reading this request's body; set only while it reads. */
  failBody?: (err: Error) => void
}

/** The request class of the gateway's server: its record is a field every request has. */
export class GatewayRequest extends IncomingMessage {
  /** Made on first use (handover()); most requests never need one. */
  handover: Handover | undefined = undefined
}

const records = new WeakMap<IncomingMessage, Handover>()

/** The request's record, made on first use. */
export function handover (req: IncomingMessage): Handover {
  if (req instanceof GatewayRequest) return (req.handover ??= {})
  let record = records.get(req)
  if (record === undefined) {
    record = {}
    records.set(req, record)
  }
  return record
}

/** The request's record if anything was recorded for it (no record is made). */
export const handedOver = (req: IncomingMessage): Handover | undefined => req instanceof GatewayRequest ? req.handover : records.get(req)

/** One request and its answer on a connection. */
export interface Exchange { req: IncomingMessage, res: ServerResponse }

// The answer only: it knows its request (`res.req`), and a keep-alive connection's entry is
// replaced in place, with nothing made per request.
const latest = new WeakMap<Duplex, ServerResponse>()

/** Notes the latest request on its connection (the front door does, for every request). */
export function noteExchange (req: IncomingMessage, res: ServerResponse): void {
  latest.set(req.socket, res)
}

/**
 * The latest request on a connection and its answer. Answers leave in request order, so when the
 * latest answer has finished, every earlier one on the connection has too.
 */
export function latestExchange (socket: Duplex): Exchange | undefined {
  const res = latest.get(socket)
  return res === undefined ? undefined : { req: res.req, res }
}
