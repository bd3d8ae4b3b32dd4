// Who the client is, as the gateway may believe it: the socket's address at the edge, or what the
// trusted proxies in front said (TRUST_PROXY). One trust function serves Fastify's request.ip and
// the X-Forwarded-For the legacy passthrough sends MOR, so the two can never disagree.
import type { IncomingMessage } from 'node:http'
import proxyAddr from '@fastify/proxy-addr'
import type { Config } from '../config.js'

/** proxy-addr's trust test: is the address at `hop` (0 = the socket's peer) a trusted proxy? */
export type Trust = (address: string, hop: number) => boolean

const TRUST_NONE: Trust = () => false

export function trustFunction (trustProxy: Config['trustProxy']): Trust {
  if (trustProxy === false) return TRUST_NONE
  if (typeof trustProxy === 'number') return (_address, hop) => hop < trustProxy
  return proxyAddr.compile(trustProxy)
}

/**
 * X-Forwarded-For for the next hop: the addresses the trusted proxies reported (client first),
 * then the socket's peer. A client's own X-Forwarded-For entries are dropped unless a trusted
 * proxy stands between: at the edge the value is the socket address alone.
 */
export function forwardedFor (req: IncomingMessage, trust: Trust): string {
  const peer = req.socket.remoteAddress ?? ''
  if (trust === TRUST_NONE || peer === '') return peer
  return proxyAddr.all(req, trust).reverse().join(', ')
}

const lastEntry = (value: string) => {
  const at = value.lastIndexOf(',')
  return at === -1 ? value.trim() : value.slice(at + 1).trim()
}

/** How the client reached the gateway, as Fastify's request.ip, .host and .protocol say it. */
export interface ClientView { ip: string, host: string, protocol: string }

/**
 * The client's address, the host it asked for and its scheme: from the trusted proxy in front when
 * the socket's peer is one, else from the connection itself. The same rules as Fastify's own
 * request.ip/host/protocol, for the paths that answer before Fastify (the lanes' logs, the
 * passthrough's X-Forwarded-*), so no path can tell a different story.
 */
export function clientView (req: IncomingMessage, trust: Trust): ClientView {
  const peer = req.socket.remoteAddress ?? ''
  const { headers } = req
  const ownProtocol = 'encrypted' in req.socket && req.socket.encrypted === true ? 'https' : 'http'
  if (trust === TRUST_NONE || peer === '' || !trust(peer, 0)) return { ip: peer, host: headers.host ?? '', protocol: ownProtocol }
  const chain = proxyAddr.all(req, trust)
  const forwardedHost = headers['x-forwarded-host']
  const forwardedProto = headers['x-forwarded-proto']
  return {
    ip: chain[chain.length - 1] ?? peer,
    host: typeof forwardedHost === 'string' && forwardedHost !== '' ? lastEntry(forwardedHost) : headers.host ?? '',
    protocol: typeof forwardedProto === 'string' && forwardedProto !== '' ? lastEntry(forwardedProto) : ownProtocol
  }
}
