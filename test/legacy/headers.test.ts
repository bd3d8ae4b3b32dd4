import { describe, expect, it } from 'vitest'
import { headersObject, upstreamRequestHeaders, withoutHopByHop } from '../../src/legacy/headers.js'

describe('withoutHopByHop', () => {
  it('drops the RFC 9110 hop-by-hop headers and those Connection names, keeping the rest', () => {
    expect(withoutHopByHop({
      connection: 'keep-alive, X-Named',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      te: 'trailers',
      trailer: 'x',
      upgrade: 'websocket',
      'proxy-connection': 'keep-alive',
      'proxy-authorization': 'Basic eA==',
      'x-named': '1',
      'content-type': 'text/xml',
      'set-cookie': ['a=1', 'b=2']
    })).toStrictEqual({ 'content-type': 'text/xml', 'set-cookie': ['a=1', 'b=2'] })
  })

  it('leaves headers without hop-by-hop ones as they are', () => {
    expect(withoutHopByHop({ 'content-encoding': 'gzip', 'content-length': '10' })).toStrictEqual({ 'content-encoding': 'gzip', 'content-length': '10' })
  })
})

describe('upstreamRequestHeaders', () => {
  const client = { ip: '127.0.0.1', protocol: 'http', host: 'gw:3000' }

  it('sets Host to MOR\'s and starts X-Forwarded-For with the client address', () => {
    expect(upstreamRequestHeaders({ host: 'gw:3000', accept: '*/*' }, 'mor:80', client)).toStrictEqual([
      'host', 'mor:80', 'accept', '*/*', 'x-forwarded-for', '127.0.0.1', 'x-forwarded-proto', 'http', 'x-forwarded-host', 'gw:3000'
    ])
  })

  it('appends the client address to an existing X-Forwarded-For, and replaces the client\'s other forwarding headers', () => {
    const list = upstreamRequestHeaders({ 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil' }, 'mor', { ip: '10.1.1.1', protocol: 'http', host: 'api' })
    expect(headersObject(list)).toStrictEqual({ host: 'mor', 'x-forwarded-for': '203.0.113.9, 10.1.1.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'api' })
  })

  it('drops hop-by-hop headers and those Connection names, and keeps repeated headers repeated', () => {
    const list = upstreamRequestHeaders({ connection: 'keep-alive, X-Named', 'x-named': '1', te: 'trailers', 'proxy-authorization': 'Basic eA==', cookie: 'a=1', 'set-cookie': ['a=1', 'b=2'] }, 'mor', client)
    expect(headersObject(list)).toStrictEqual({
      host: 'mor', cookie: 'a=1', 'set-cookie': ['a=1', 'b=2'], 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'gw:3000'
    })
  })
})
