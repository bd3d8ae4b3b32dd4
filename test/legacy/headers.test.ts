import { describe, expect, it } from 'vitest'
import { forwardedHeaders, withoutHopByHop } from '../../src/legacy/headers.js'

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

describe('forwardedHeaders', () => {
  it('starts X-Forwarded-For with the client address', () => {
    expect(forwardedHeaders({ host: 'mor' }, { ip: '127.0.0.1', protocol: 'http', host: 'gw:3000' })).toStrictEqual({
      host: 'mor', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'gw:3000'
    })
  })

  it('appends the client address to an existing X-Forwarded-For', () => {
    expect(forwardedHeaders({ 'x-forwarded-for': '203.0.113.9' }, { ip: '10.1.1.1', protocol: 'https', host: 'api' })['x-forwarded-for']).toBe('203.0.113.9, 10.1.1.1')
  })
})
