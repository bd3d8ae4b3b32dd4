// A lane while traces are recorded: the trace is decided once per request and kept in the
// request's record (http/handover.ts), so the framework continues the same one if the lane hands
// the request on; a sampled answer the lane gives itself gets its server span here. An unsampled
// one costs a header parse and a decision.
import type { IncomingMessage } from 'node:http'
import { parseTraceparent } from '../tracing/trace-context.js'
import { endServerSpan, startServerSpan, type Tracer } from '../tracing/tracer.js'
import { handover } from '../http/handover.js'
import type { Lane } from './front-door.js'

/** `routeOf` names the route template of a request the lane may answer (never its URL). */
export function tracedLane (tracer: Tracer, lane: Lane, routeOf: (req: IncomingMessage) => string): Lane {
  return (req, res, next) => {
    const remote = parseTraceparent(req.headers.traceparent, req.headers.tracestate)
    const decision = tracer.decide(remote)
    handover(req).trace = decision
    if (!decision.sampled) {
      lane(req, res, next)
      return
    }
    const span = startServerSpan(tracer, req.method ?? 'GET', routeOf(req), remote, decision)
    let handedOn = false
    res.once('finish', () => { if (!handedOn) endServerSpan(span, res.statusCode) })
    lane(req, res, () => {
      handedOn = true
      next()
    })
  }
}
