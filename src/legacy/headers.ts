// Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection and are never copied across the
// proxy, in either direction; nor is anything a Connection header names.
import type { IncomingHttpHeaders } from 'node:http'

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-authenticate'])

type Headers = IncomingHttpHeaders | Record<string, string | string[] | number | undefined>

export function withoutHopByHop<T extends Headers> (headers: T): T {
  const named = String(headers.connection ?? '').toLowerCase().split(',').map((h) => h.trim()).filter(Boolean)
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase()
    if (value === undefined || HOP_BY_HOP.has(lower) || named.includes(lower)) continue
    out[name] = value
  }
  return out as T
}

/** Appends this hop to X-Forwarded-For and records how the client reached the gateway. */
export function forwardedHeaders (headers: IncomingHttpHeaders, client: { ip: string, protocol: string, host: string }): IncomingHttpHeaders {
  const prior = headers['x-forwarded-for']
  return {
    ...headers,
    'x-forwarded-for': prior ? `${String(prior)}, ${client.ip}` : client.ip,
    'x-forwarded-proto': client.protocol,
    'x-forwarded-host': client.host
  }
}
