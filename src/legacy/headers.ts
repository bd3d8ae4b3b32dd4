// Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection and are never copied across the
// proxy, in either direction; nor is anything a Connection header names. The request side is built
// as a flat name, value list (what undici takes), by one function for the proxy route and the
// legacy lane alike.
import type { IncomingHttpHeaders } from 'node:http'

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-authenticate'])
/** Set by the gateway for this hop, never copied from the client. */
const THIS_HOP = new Set(['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'])

type Headers = IncomingHttpHeaders | Record<string, string | string[] | number | undefined>

/**
 * A test for "is this lower-case name never copied", given a Connection value. Most messages name
 * nothing beyond keep-alive or close, and get the fixed set.
 */
export function hopByHop (connection: string | undefined): (name: string) => boolean {
  const named = connection === undefined ? [] : connection.toLowerCase().split(',').map((h) => h.trim()).filter((h) => h !== '' && !HOP_BY_HOP.has(h))
  return named.length === 0 ? (name) => HOP_BY_HOP.has(name) : (name) => HOP_BY_HOP.has(name) || named.includes(name)
}

export function withoutHopByHop<T extends Headers> (headers: T): T {
  const dropped = hopByHop(headers.connection === undefined ? undefined : String(headers.connection))
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || dropped(name.toLowerCase())) continue
    out[name] = value
  }
  return out as T
}

export interface Client { ip: string, protocol: string, host: string }

/**
 * The request headers for MOR as a flat name, value list: the client's, without hop-by-hop ones,
 * Host set to MOR's, this hop appended to X-Forwarded-For, and how the client reached the gateway.
 */
export function upstreamRequestHeaders (headers: IncomingHttpHeaders, upstreamHost: string, client: Client): string[] {
  const dropped = hopByHop(headers.connection)
  const out = ['host', upstreamHost]
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || THIS_HOP.has(name) || dropped(name)) continue
    if (typeof value === 'string') out.push(name, value)
    else for (const one of value) out.push(name, one)
  }
  const prior = headers['x-forwarded-for']
  out.push('x-forwarded-for', prior ? `${prior}, ${client.ip}` : client.ip, 'x-forwarded-proto', client.protocol, 'x-forwarded-host', client.host)
  return out
}

/** A flat name, value list as a headers object (repeated names become arrays). */
export function headersObject (list: string[]): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {}
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i] as string
    const value = list[i + 1] as string
    const prior = out[name]
    out[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value]
  }
  return out
}
