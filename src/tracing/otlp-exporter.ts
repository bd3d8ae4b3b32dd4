// Finished spans sent to an OpenTelemetry collector over OTLP/HTTP with JSON encoding
// (https://opentelemetry.io/docs/specs/otlp/), in batches on a timer, off the request path. The
// queue is bounded: when the collector is slow or away, spans are dropped and counted, never
// held without limit, and a request never waits for an export.
import type { FinishedSpan, SpanKind } from './tracer.js'

export interface ExporterOptions {
  url: string
  /** OTEL_EXPORTER_OTLP_HEADERS (e.g. an authorization header): sent, never logged. */
  headers: Record<string, string>
  serviceName: string
  serviceVersion: string
  delayMs: number
  timeoutMs: number
  maxQueue?: number
  maxBatch?: number
}

export interface SpanExporter {
  add: (span: FinishedSpan) => void
  /** Sends everything queued now; resolves when the collector has answered (or failed). */
  flush: () => Promise<void>
  close: () => Promise<void>
  readonly exported: number
  readonly dropped: number
  readonly failed: number
}

const KIND: Record<SpanKind, number> = { internal: 1, server: 2, client: 3 }

function attribute (key: string, value: string | number | boolean) {
  if (typeof value === 'boolean') return { key, value: { boolValue: value } }
  if (typeof value === 'number') return { key, value: Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value } }
  return { key, value: { stringValue: value } }
}

/** The OTLP/JSON body for a batch: ids in hex, times as decimal strings, as the spec's JSON mapping says. */
export function otlpBody (spans: FinishedSpan[], serviceName: string, serviceVersion: string): string {
  return JSON.stringify({
    resourceSpans: [{
      resource: { attributes: [attribute('service.name', serviceName), attribute('service.version', serviceVersion)] },
      scopeSpans: [{
        scope: { name: 'mor-gateway', version: serviceVersion },
        spans: spans.map((s) => ({
          traceId: s.context.traceId,
          spanId: s.context.spanId,
          ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
          ...(s.context.traceState ? { traceState: s.context.traceState } : {}),
          name: s.name,
          kind: KIND[s.kind],
          startTimeUnixNano: String(s.startNs),
          endTimeUnixNano: String(s.endNs),
          attributes: Object.entries(s.attributes).map(([key, value]) => attribute(key, value)),
          links: s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
          status: s.error === undefined ? { code: 0 } : { code: 2, message: s.error }
        }))
      }]
    }]
  })
}

export function createOtlpExporter (opts: ExporterOptions): SpanExporter {
  const { maxQueue = 2048, maxBatch = 512 } = opts
  const queue: FinishedSpan[] = []
  let exported = 0
  let dropped = 0
  let failed = 0

  async function send (batch: FinishedSpan[]): Promise<void> {
    try {
      const res = await fetch(opts.url, {
        method: 'POST',
        headers: { ...opts.headers, 'content-type': 'application/json' },
        body: otlpBody(batch, opts.serviceName, opts.serviceVersion),
        signal: AbortSignal.timeout(opts.timeoutMs)
      })
      await res.arrayBuffer()
      if (res.ok) exported += batch.length
      else failed += batch.length
    } catch {
      failed += batch.length
    }
  }

  // One export at a time, in order: a flush while one runs waits for it, then sends what is left.
  let chain: Promise<void> = Promise.resolve()
  let busy = false
  async function drain (): Promise<void> {
    busy = true
    while (queue.length > 0) await send(queue.splice(0, maxBatch))
    busy = false
  }
  const flush = () => (chain = chain.then(drain))

  const timer = setInterval(() => { if (queue.length > 0 && !busy) flush().catch(() => {}) }, opts.delayMs)
  timer.unref()
  return {
    add (span) {
      if (queue.length >= maxQueue) dropped++
      else queue.push(span)
    },
    flush,
    close: async () => {
      clearInterval(timer)
      await flush()
    },
    get exported () { return exported },
    get dropped () { return dropped },
    get failed () { return failed }
  }
}
