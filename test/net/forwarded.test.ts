import { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { forwardedFor, trustFunction } from '../../src/net/forwarded.js'

/** A request as Node's server builds it: the socket's peer address and the client's headers. */
function requestFrom (peer: string, xff?: string): IncomingMessage {
  const socket = new Socket()
  Object.defineProperty(socket, 'remoteAddress', { value: peer })
  const req = new IncomingMessage(socket)
  if (xff !== undefined) req.headers['x-forwarded-for'] = xff
  return req
}

describe('forwardedFor', () => {
  it('at the edge is the socket address alone, whatever the client wrote', () => {
    expect(forwardedFor(requestFrom('203.0.113.5', '10.0.0.1, 127.0.0.1'), trustFunction(false))).toBe('203.0.113.5')
  })

  it('behind one trusted hop keeps the address that hop reported, then appends the hop', () => {
    expect(forwardedFor(requestFrom('10.0.0.2', '10.9.9.9, 198.51.100.7'), trustFunction(1))).toBe('198.51.100.7, 10.0.0.2')
  })

  it('behind two trusted hops keeps both hops\' reports, client first', () => {
    expect(forwardedFor(requestFrom('10.0.0.2', '6.6.6.6, 198.51.100.7, 10.0.0.3'), trustFunction(2))).toBe('198.51.100.7, 10.0.0.3, 10.0.0.2')
  })

  it('trusts listed proxies only: an untrusted peer\'s X-Forwarded-For is dropped', () => {
    const trust = trustFunction(['10.0.0.0/8'])
    expect(forwardedFor(requestFrom('10.0.0.2', '198.51.100.7'), trust)).toBe('198.51.100.7, 10.0.0.2')
    expect(forwardedFor(requestFrom('203.0.113.5', '10.0.0.1'), trust)).toBe('203.0.113.5')
  })

  it('with a trusted peer and no X-Forwarded-For is the peer alone', () => {
    expect(forwardedFor(requestFrom('10.0.0.2'), trustFunction(1))).toBe('10.0.0.2')
  })
})
