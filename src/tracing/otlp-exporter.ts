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
  /** Told once, at the first export that fails (a wrong endpoint shows in the log, not only in a counter). */
  onFirstFailure?: (reason: string) => void
}

/** The most a close waits for the last export: shutdown has its own grace to keep. */
export const CLOSE_BUDGET_MS = 2000

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
  let stopped = false
  const inFlight = new Set<AbortController>()

  function failure (count: number, reason: string): void {
    if (failed === 0) opts.onFirstFailure?.(reason)
    failed += count
  }

  async function send (batch: FinishedSpan[]): Promise<void> {
    const controller = new AbortController()
    inFlight.add(controller)
    const timer = setTimeout(() => controller.abort(), opts.timeoutMs)
    try {
      const res = await fetch(opts.url, {
        method: 'POST',
        headers: { ...opts.headers, 'content-type': 'application/json' },
        body: otlpBody(batch, opts.serviceName, opts.serviceVersion),
        signal: controller.signal
      })
      await res.arrayBuffer()
      if (res.ok) exported += batch.length
      else failure(batch.length, `HTTP ${res.status}`)
    } catch (err) {
      failure(batch.length, controller.signal.aborted ? 'timed out' : (err as Error).message)
    } finally {
      clearTimeout(timer)
      inFlight.delete(controller)
    }
  }

  // One export at a time, in order: a flush while one runs waits for it, then sends what is left.
  let chain: Promise<void> = Promise.resolve()
  let busy = false
  async function drain (): Promise<void> {
    busy = true
    while (queue.length > 0) {
      if (stopped) break // closed meanwhile: the rest is counted as dropped
      await send(queue.splice(0, maxBatch))
    }
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
    // One last flush, bounded: what has not gone when the budget is over is dropped and counted.
    close: async () => {
      clearInterval(timer)
      let over: NodeJS.Timeout | undefined
      await Promise.race([flush(), new Promise<void>((resolve) => { over = setTimeout(resolve, Math.min(CLOSE_BUDGET_MS, opts.timeoutMs)) })])
      clearTimeout(over)
      stopped = true
      for (const controller of inFlight) controller.abort()
      dropped += queue.splice(0).length
    },
    get exported () { return exported },
    get dropped () { return dropped },
    get failed () { return failed }
  }
}
