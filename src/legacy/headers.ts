// Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection and are never copied across the
// proxy, in either direction; nor is anything a Connection header names. The request side is built
// as a flat name, value list (what undici takes), by one function for the proxy route and the
// legacy lane alike. It also decides what MOR learns about the client: only the gateway's own view
// (X-Forwarded-For/-Proto/-Host), never a client's claims about its address.
import type { IncomingHttpHeaders } from 'node:http'

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-authenticate'])
/**
 * Never copied from the client. The gateway sets Host and X-Forwarded-* for this hop; the other
 * names are ways a client could claim an address or URL that Rails (remote_ip) or a proxy in front
 * of MOR might believe. `Expect` is answered by the gateway itself (Node sends 100 Continue), and
 * undici refuses to send it.
 */
const NOT_FORWARDED = new Set([
  'host', 'expect',
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-prefix', 'x-forwarded-server', 'x-forwarded-ssl',
  'forwarded', 'x-real-ip', 'true-client-ip', 'x-client-ip', 'x-cluster-client-ip', 'cf-connecting-ip', 'fastly-client-ip',
  'x-original-url', 'x-rewrite-url', 'x-original-host'
])

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

/** The gateway's view of the client: the X-Forwarded-For chain (net/forwarded.ts), scheme and host. */
export interface Client { forwardedFor: string, protocol: string, host: string }

/**
 * The request headers for MOR as a flat name, value list: the client's, without hop-by-hop and
 * forwarding ones, Host set to MOR's, and the gateway's own X-Forwarded-For/-Proto/-Host.
 */
export function upstreamRequestHeaders (headers: IncomingHttpHeaders, upstreamHost: string, client: Client): string[] {
  const dropped = hopByHop(headers.connection)
  const out = ['host', upstreamHost]
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || NOT_FORWARDED.has(name) || dropped(name)) continue
    if (typeof value === 'string') out.push(name, value)
    else for (const one of value) out.push(name, one)
  }
  out.push('x-forwarded-for', client.forwardedFor, 'x-forwarded-proto', client.protocol, 'x-forwarded-host', client.host)
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
