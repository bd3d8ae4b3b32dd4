// Spans for the work that matters on a miss (the request, the Redis lookup and lock, the wait for
// another caller's or instance's fetch, the MOR call, the translation), recorded only for sampled
// traces and handed to an exporter. Without an exporter the tracer still makes span ids, so the
// call to MOR carries a child traceparent either way; nothing is recorded and nothing runs on a
// cache hit.
import { newSpanId, newTraceId, type SpanContext } from './trace-context.js'
import type { Sampler } from './sampler.js'

export type SpanKind = 'internal' | 'server' | 'client'
type AttributeValue = string | number | boolean

/** A span as the exporter sends it. */
export interface FinishedSpan {
  context: SpanContext
  parentSpanId: string | undefined
  name: string
  kind: SpanKind
  startNs: bigint
  endNs: bigint
  attributes: Record<string, AttributeValue>
  links: SpanContext[]
  error: string | undefined
}

export interface Span {
  readonly context: SpanContext
  setAttribute: (key: string, value: AttributeValue) => void
  addLink: (context: SpanContext) => void
  /** Marks the span failed (status ERROR), with a message that never holds a secret. */
  fail: (message: string) => void
  end: () => void
}

export interface Tracer {
  /** Whether spans are exported at all. */
  readonly recording: boolean
  /** Whether a request is recorded: the caller's trace or a new one, and the sampler's decision on it. */
  decide: (remote: SpanContext | undefined) => TraceDecision
  /** The span of a request this process serves, under the caller's span (if any), as decided. */
  startRequest: (name: string, remote: SpanContext | undefined, decision: TraceDecision, attributes?: Record<string, AttributeValue>) => Span
  /**
   * The context of a request nothing records (tracing off): the caller's trace and sampled flag
   * carried on, so whatever MOR's side records still joins the caller's trace.
   */
  unrecorded: (remote: SpanContext | undefined) => SpanContext
  /** A span under one of this process's own spans, recorded when that one is. */
  start: (name: string, parent: SpanContext, kind?: SpanKind, attributes?: Record<string, AttributeValue>) => Span
}

export interface TraceDecision { traceId: string, sampled: boolean }

/** What work below a request needs to trace itself and propagate the trace: the tracer and the span it runs under. */
export interface TraceScope { tracer: Tracer, parent: SpanContext, requestId: string }

/** A child span of `scope`, and the scope for work under that span. */
export function childOf (scope: TraceScope, name: string, kind: SpanKind = 'internal', attributes?: Record<string, AttributeValue>): { span: Span, scope: TraceScope } {
  const span = scope.tracer.start(name, scope.parent, kind, attributes)
  return { span, scope: { ...scope, parent: span.context } }
}

/** `work` in a child span of `trace` while traces are recorded (else just `work`); a failure marks the span. */
export function traced<T> (trace: TraceScope | undefined, name: string, kind: SpanKind, attributes: Record<string, AttributeValue> | undefined, work: (span: Span | undefined) => Promise<T>): Promise<T> {
  return trace?.tracer.recording === true ? inSpan(childOf(trace, name, kind, attributes).span, work) : work(undefined)
}

async function inSpan<T> (span: Span, work: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await work(span)
  } catch (err) {
    span.fail((err as Error).message)
    throw err
  } finally {
    span.end()
  }
}

// Wall-clock nanoseconds, from the monotonic clock: spans of one trace never go backwards.
const nowNs = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6))

const UNRECORDED: Omit<Span, 'context'> = { setAttribute () {}, addLink () {}, fail () {}, end () {} }

/** A request's server span, named by its route template, never its URL (a query may carry a credential). */
export function startServerSpan (tracer: Tracer, method: string, route: string, remote: SpanContext | undefined, decision: TraceDecision): Span {
  return tracer.startRequest(`${method} ${route}`, remote, decision, { 'http.request.method': method, 'http.route': route })
}

/** Ends a request's server span with the answer's status; a 5xx marks it failed. */
export function endServerSpan (span: Span, status: number): void {
  span.setAttribute('http.response.status_code', status)
  if (status >= 500) span.fail(`HTTP ${status}`)
  span.end()
}

export function createTracer (sampler: Sampler, exportSpan: ((span: FinishedSpan) => void) | undefined): Tracer {
  function make (name: string, context: SpanContext, parentSpanId: string | undefined, kind: SpanKind, initial?: Record<string, AttributeValue>): Span {
    if (!exportSpan || !context.sampled) return { context, ...UNRECORDED }
    const startNs = nowNs()
    // Its own copy: a caller may hand the same constant attributes to many spans.
    const attributes = { ...initial }
    const links: SpanContext[] = []
    let error: string | undefined
    let ended = false
    return {
      context,
      setAttribute (key, value) { attributes[key] = value },
      addLink (link) { if (links.length < 32) links.push(link) },
      fail (message) { error = message },
      end () {
        if (ended) return
        ended = true
        exportSpan({ context, parentSpanId, name, kind, startNs, endNs: nowNs(), attributes, links, error })
      }
    }
  }
  return {
    recording: exportSpan !== undefined,
    decide (remote) {
      const traceId = remote?.traceId ?? newTraceId()
      return { traceId, sampled: sampler(traceId, remote?.sampled) }
    },
    startRequest (name, remote, { traceId, sampled }, attributes) {
      return make(name, { traceId, spanId: newSpanId(), sampled, traceState: remote?.traceState }, remote?.spanId, 'server', attributes)
    },
    unrecorded: (remote) => ({ traceId: remote?.traceId ?? newTraceId(), spanId: newSpanId(), sampled: remote?.sampled ?? false, traceState: remote?.traceState }),
    start: (name, parent, kind = 'internal', attributes) => make(name, { ...parent, spanId: newSpanId() }, parent.spanId, kind, attributes)
  }
}
