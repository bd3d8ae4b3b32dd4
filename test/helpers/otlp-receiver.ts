// A local OpenTelemetry collector stand-in: takes OTLP/HTTP JSON on /v1/traces and keeps the spans
// it decodes, so tests see exactly what a real collector would receive.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  traceState?: string
  name: string
  kind: number
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes: Array<{ key: string, value: Record<string, unknown> }>
  links: Array<{ traceId: string, spanId: string }>
  status: { code: number, message?: string }
}

export interface OtlpReceiver {
  /** OTEL_EXPORTER_OTLP_ENDPOINT for the gateway. */
  endpoint: string
  spans: ReceivedSpan[]
  /** Every body as sent, for checks on the raw text. */
  bodies: string[]
  resources: unknown[]
  close: () => Promise<void>
}

export async function startOtlpReceiver (): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const bodies: string[] = []
  const resources: unknown[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || req.headers['content-type'] !== 'application/json') {
        res.writeHead(404).end()
        return
      }
      const text = Buffer.concat(chunks).toString('utf8')
      bodies.push(text)
      const body = JSON.parse(text) as { resourceSpans: Array<{ resource: unknown, scopeSpans: Array<{ spans: ReceivedSpan[] }> }> }
      for (const rs of body.resourceSpans) {
        resources.push(rs.resource)
        for (const ss of rs.scopeSpans) spans.push(...ss.spans)
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    bodies,
    resources,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}

/** A span attribute's value, whatever its OTLP type. */
export function attributeOf (span: ReceivedSpan, key: string): unknown {
  const value = span.attributes.find((a) => a.key === key)?.value
  return value === undefined ? undefined : Object.values(value)[0]
}
