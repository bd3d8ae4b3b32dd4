// Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection and are never copied across the
// proxy, in either direction; nor is anything a Connection header names. The request side is built
// as a flat name, value list (what undici takes), by one function for the proxy route and the
// legacy lane alike. It also decides what MOR learns about the client: only the gateway's own view
// (X-Forwarded-For/-Proto/-Host), never a client's claims about its address, in any spelling.
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

/**
 * Names whose underscore spellings are dropped too, beyond the two sets above. Rack (MOR is Rails),
 * like CGI, reads a header as HTTP_<NAME> with `-` and `_` alike turned to `_`, so `X_Forwarded_For`
 * is X-Forwarded-For there. Mongrel-style parsers (Puma, Unicorn) also read `Content_Length` as
 * the body's length. An underscore twin of a name the gateway sets or decides on would stand next
 * to (or in for) the gateway's: the framing headers, and the request id the gateway logged.
 */
const OWNED = new Set(['content-length', 'content-type', 'x-request-id'])

/**
 * A test for "is this lower-case name never copied", given a Connection value. Most messages name
 * nothing beyond keep-alive or close, and get the fixed set.
 */
export function hopByHop (connection: string | undefined): (name: string) => boolean {
  const named = connection === undefined ? [] : connection.toLowerCase().split(',').map((h) => h.trim()).filter((h) => h !== '' && !HOP_BY_HOP.has(h))
  return named.length === 0 ? (name) => HOP_BY_HOP.has(name) : (name) => HOP_BY_HOP.has(name) || named.includes(name)
}

/**
 * MOR's answer headers (undici's raw name, value list) after the gateway's own `first` ones, as one
 * flat list for writeHead: hop-by-hop ones, and any MOR's Connection header names, left out.
 */
export function responseHeaders (first: string[], raw: Buffer[]): string[] {
  const pairs: string[] = []
  let connection: string | undefined
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = String(raw[i]?.toString('latin1')).toLowerCase()
    const value = String(raw[i + 1]?.toString('latin1'))
    if (name === 'connection') connection = connection === undefined ? value : `${connection}, ${value}`
    pairs.push(name, value)
  }
  const dropped = hopByHop(connection)
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const name = pairs[i] as string
    if (!dropped(name)) first.push(name, pairs[i + 1] as string)
  }
  return first
}

/** True when a name, read with `_` as `-`, is one the gateway sets or never forwards. */
function shadows (dashed: string, dropped: (name: string) => boolean): boolean {
  return NOT_FORWARDED.has(dashed) || OWNED.has(dashed) || dropped(dashed)
}

/** The gateway's view of the client: the X-Forwarded-For chain (net/forwarded.ts), scheme and host. */
export interface Client { forwardedFor: string, protocol: string, host: string }

/**
 * The request headers for MOR as a flat name, value list: the client's, without hop-by-hop and
 * forwarding ones (nor their underscore spellings), Host set to MOR's, and the gateway's own
 * X-Forwarded-For/-Proto/-Host.
 */
export function upstreamRequestHeaders (headers: IncomingHttpHeaders, upstreamHost: string, client: Client): string[] {
  const dropped = hopByHop(headers.connection)
  const out = ['host', upstreamHost]
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || NOT_FORWARDED.has(name) || dropped(name)) continue
    // Most names have no `_`: one scan, no copy.
    if (name.includes('_') && shadows(name.replaceAll('_', '-'), dropped)) continue
    if (typeof value === 'string') out.push(name, value)
    else for (const one of value) out.push(name, one)
  }
  out.push('x-forwarded-for', client.forwardedFor, 'x-forwarded-proto', client.protocol, 'x-forwarded-host', client.host)
  return out
}
