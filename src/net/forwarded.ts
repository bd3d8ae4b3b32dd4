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
