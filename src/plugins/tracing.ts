// Traces: W3C Trace Context continued from the caller, spans exported over OTLP/HTTP when an
// endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT or _TRACES_ENDPOINT). Owns the tracer and
// the exporter (flushed on close). With no endpoint nothing is hooked: a request costs nothing
// extra, and a call to MOR still carries a child traceparent (the tracer makes ids either way).
import type { IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { createOtlpExporter } from '../tracing/otlp-exporter.js'
import { createSampler } from '../tracing/sampler.js'
import { parseTraceparent, type SpanContext } from '../tracing/trace-context.js'
import { createTracer, type Span, type TraceDecision, type Tracer } from '../tracing/tracer.js'
import type { Lane } from '../lanes/hit-lane.js'

declare module 'fastify' {
  interface FastifyInstance {
    tracer: Tracer
  }
  interface FastifyRequest {
    /** The request's span while tracing records; undefined otherwise. */
    span: Span | undefined
  }
}

const DECIDED = Symbol('trace decision taken by a lane')
type Decided = IncomingMessage & { [DECIDED]?: TraceDecision }

/** The trace decision a lane took for this request, if one did. */
export const laneTrace = (req: IncomingMessage): TraceDecision | undefined => (req as Decided)[DECIDED]

/** A request's server span, named by its route template, never its URL (a query may carry a credential). */
function serverSpan (tracer: Tracer, method: string, route: string, remote: SpanContext | undefined, decision: TraceDecision): Span {
  return tracer.startRequest(`${method} ${route}`, remote, decision, { 'http.request.method': method, 'http.route': route })
}

function endServerSpan (span: Span, status: number): void {
  span.setAttribute('http.response.status_code', status)
  if (status >= 500) span.fail(`HTTP ${status}`)
  span.end()
}

/**
 * A lane while traces are recorded: the trace is decided once per request and kept, so the
 * framework traces the same one if the lane hands the request on; a sampled answer the lane gives
 * itself gets its server span here. An unsampled one costs a header parse and a decision.
 */
export function tracedLane (tracer: Tracer, lane: Lane, route: string): Lane {
  return (req, res, next) => {
    const remote = parseTraceparent(req.headers.traceparent, req.headers.tracestate)
    const decision = tracer.decide(remote)
    ;(req as Decided)[DECIDED] = decision
    if (!decision.sampled) {
      lane(req, res, next)
      return
    }
    const span = serverSpan(tracer, req.method ?? 'GET', route, remote, decision)
    let handedOn = false
    res.once('finish', () => { if (!handedOn) endServerSpan(span, res.statusCode) })
    lane(req, res, () => {
      handedOn = true
      next()
    })
  }
}

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const settings = config.tracing
  const exporter = settings && createOtlpExporter({
    url: settings.url,
    headers: settings.headers,
    serviceName: settings.serviceName,
    serviceVersion: '0.1.0',
    delayMs: settings.delayMs,
    timeoutMs: settings.timeoutMs,
    // The collector's origin only: its URL path or headers may carry a tenant's token.
    onFirstFailure: (reason) => { fastify.log.warn({ collector: new URL(settings.url).origin, reason }, 'OTLP span export failed; further failures are counted in gateway_trace_spans_failed_total') }
  })
  const tracer = createTracer(createSampler(settings?.sampler ?? 'parentbased_always_on', settings?.ratio ?? 1), exporter?.add)
  fastify.decorate('tracer', tracer)
  fastify.decorateRequest('span', undefined)
  if (!exporter) return

  fastify.metrics.addCounter('gateway_trace_spans_exported_total', 'Spans the OTLP collector accepted', () => exporter.exported)
  fastify.metrics.addCounter('gateway_trace_spans_dropped_total', 'Spans dropped because the export queue was full', () => exporter.dropped)
  fastify.metrics.addCounter('gateway_trace_spans_failed_total', 'Spans the OTLP collector refused or did not take in time', () => exporter.failed)

  fastify.addHook('onRequest', (request, reply, done) => {
    const remote = parseTraceparent(request.headers.traceparent, request.headers.tracestate)
    const decision = (request.raw as Decided)[DECIDED] ?? tracer.decide(remote)
    const span = serverSpan(tracer, request.method, request.routeOptions.url ?? 'unmatched', remote, decision)
    request.span = span
    // A recorded trace's ids join the request's log lines (both loggers: Fastify logs the completed
    // request through the reply's).
    if (decision.sampled) request.log = reply.log = request.log.child({ traceId: span.context.traceId, spanId: span.context.spanId })
    done()
  })
  fastify.addHook('onResponse', (request, reply, done) => {
    if (request.span) endServerSpan(request.span, reply.statusCode)
    done()
  })
  fastify.addHook('onClose', async () => { await exporter.close() })
}, { name: 'tracing', dependencies: ['metrics'], fastify: '5.x' })
