// Traces: W3C Trace Context continued from the caller, spans exported over OTLP/HTTP when an
// endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT or _TRACES_ENDPOINT). Owns the tracer and
// the exporter (flushed on close). With no endpoint nothing is hooked: a request costs nothing
// extra, and a call to MOR still carries a child traceparent (the tracer makes ids either way).
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { createOtlpExporter } from '../tracing/otlp-exporter.js'
import { createSampler } from '../tracing/sampler.js'
import { parseTraceparent } from '../tracing/trace-context.js'
import { createTracer, endServerSpan, startServerSpan, type Span, type Tracer } from '../tracing/tracer.js'
import { handedOver } from '../http/handover.js'

declare module 'fastify' {
  interface FastifyInstance {
    tracer: Tracer
  }
  interface FastifyRequest {
    /** The request's span while tracing records; undefined otherwise. */
    span: Span | undefined
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
    // A lane decided the trace of a request it handed over (lanes/traced-lane.ts): the same one.
    const decision = handedOver(request.raw)?.trace ?? tracer.decide(remote)
    const span = startServerSpan(tracer, request.method, request.routeOptions.url ?? 'unmatched', remote, decision)
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
