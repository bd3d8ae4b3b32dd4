import type { IncomingHttpHeaders } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { responseHeaders, upstreamRequestHeaders } from '../../src/legacy/headers.js'
import { startEchoUpstream, type Echo } from '../helpers/echo-upstream.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { rawRequest } from '../helpers/raw-http.js'

/** A flat name, value list as a headers object (repeated names become arrays). */
function headersObject (list: string[]): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {}
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i] as string
    const value = list[i + 1] as string
    const prior = out[name]
    out[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value]
  }
  return out
}

/** Header pairs as undici hands them over: a flat list of Buffers. */
const raw = (...pairs: string[]) => pairs.map((text) => Buffer.from(text, 'latin1'))

describe('responseHeaders', () => {
  it('drops the RFC 9110 hop-by-hop headers and those Connection names, keeping the rest after the gateway\'s own', () => {
    expect(headersObject(responseHeaders(['x-request-id', 'r1'], raw(
      'Connection', 'keep-alive, X-Named',
      'Keep-Alive', 'timeout=5',
      'Transfer-Encoding', 'chunked',
      'TE', 'trailers',
      'Trailer', 'x',
      'Upgrade', 'websocket',
      'Proxy-Connection', 'keep-alive',
      'Proxy-Authorization', 'Basic eA==',
      'X-Named', '1',
      'Content-Type', 'text/xml',
      'Set-Cookie', 'a=1',
      'Set-Cookie', 'b=2'
    )))).toStrictEqual({ 'x-request-id': 'r1', 'content-type': 'text/xml', 'set-cookie': ['a=1', 'b=2'] })
  })

  it('leaves headers without hop-by-hop ones as they are', () => {
    expect(headersObject(responseHeaders([], raw('Content-Encoding', 'gzip', 'Content-Length', '10')))).toStrictEqual({ 'content-encoding': 'gzip', 'content-length': '10' })
  })
})

describe('upstreamRequestHeaders', () => {
  const client = { forwardedFor: '127.0.0.1', protocol: 'http', host: 'gw:3000' }

  it('sets Host to MOR\'s and starts X-Forwarded-For with the client address', () => {
    expect(upstreamRequestHeaders({ host: 'gw:3000', accept: '*/*' }, 'mor:80', client)).toStrictEqual([
      'host', 'mor:80', 'accept', '*/*', 'x-forwarded-for', '127.0.0.1', 'x-forwarded-proto', 'http', 'x-forwarded-host', 'gw:3000'
    ])
  })

  it('replaces every forwarding header a client sends with the gateway\'s own view', () => {
    const list = upstreamRequestHeaders({
      'x-forwarded-for': '10.0.0.1',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil',
      'x-forwarded-port': '443',
      forwarded: 'for=10.0.0.1',
      'x-real-ip': '10.0.0.1',
      'true-client-ip': '10.0.0.1',
      'x-original-url': '/admin',
      'x-rewrite-url': '/admin',
      'x-keep': 'v'
    }, 'mor', { forwardedFor: '203.0.113.9', protocol: 'http', host: 'api' })
    expect(headersObject(list)).toStrictEqual({ host: 'mor', 'x-keep': 'v', 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'api' })
  })

  // Rack reads X_Forwarded_For as X-Forwarded-For (HTTP_X_FORWARDED_FOR either way).
  it('drops the underscore spellings of every forwarding, hop-by-hop, framing and request-id header, whatever their case', () => {
    const list = upstreamRequestHeaders({
      connection: 'keep-alive, X-Named',
      x_forwarded_for: '10.0.0.1',
      'x-forwarded_proto': 'https',
      x_forwarded_host: 'evil',
      x_real_ip: '10.0.0.2',
      true_client_ip: '10.0.0.3',
      cf_connecting_ip: '10.0.0.4',
      x_original_url: '/admin',
      transfer_encoding: 'chunked',
      keep_alive: 'timeout=5',
      proxy_authorization: 'Basic eA==',
      content_length: '5',
      content_type: 'text/plain',
      x_request_id: 'other-id',
      x_named: '1',
      'x-request-id': 'r1',
      x_custom_thing: 'kept',
      accept_language: 'fi'
    }, 'mor', client)
    expect(headersObject(list)).toStrictEqual({
      host: 'mor', 'x-request-id': 'r1', x_custom_thing: 'kept', accept_language: 'fi', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'gw:3000'
    })
  })

  it('never sends a header undici refuses to send (a refused header would poison a pool connection)', () => {
    const list = upstreamRequestHeaders({
      expect: '100-continue',
      'transfer-encoding': 'chunked',
      'keep-alive': 'timeout=5',
      upgrade: 'h2c',
      connection: 'keep-alive, Upgrade',
      host: 'gw'
    }, 'mor', client)
    expect(headersObject(list)).toStrictEqual({ host: 'mor', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'gw:3000' })
  })

  it('drops hop-by-hop headers and those Connection names, and keeps repeated headers repeated', () => {
    const list = upstreamRequestHeaders({ connection: 'keep-alive, X-Named', 'x-named': '1', te: 'trailers', 'proxy-authorization': 'Basic eA==', cookie: 'a=1', 'set-cookie': ['a=1', 'b=2'] }, 'mor', client)
    expect(headersObject(list)).toStrictEqual({
      host: 'mor', cookie: 'a=1', 'set-cookie': ['a=1', 'b=2'], 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'gw:3000'
    })
  })
})

describe('what MOR receives, over a raw socket through the gateway', () => {
  let echo: Awaited<ReturnType<typeof startEchoUpstream>>
  let gw: TestGateway
  beforeAll(async () => {
    echo = await startEchoUpstream()
    gw = await startGateway(echo.url)
  })
  afterAll(async () => {
    await gw.close()
    await echo.close()
  })

  // Spellings a client could use to make Rack see an address of its choosing, or a second length.
  const SPOOFED = 'X_Forwarded_For: 198.51.100.66\r\nX-Forwarded_Proto: https\r\nx_forwarded_HOST: evil.example\r\nX_Real_IP: 198.51.100.67\r\n' +
    'True_Client_IP: 198.51.100.68\r\nForwarded: for=198.51.100.69\r\nContent_Length: 99\r\nTransfer_Encoding: chunked\r\nX_Request_Id: other-id\r\n'

  // GET goes through the legacy lane, DELETE through the route: both must send the same.
  it.each(['GET', 'DELETE'])('%s: MOR sees only the gateway\'s forwarding headers, whatever spelling the client used', async (method) => {
    const res = await rawRequest(Number(new URL(gw.url).port), `${method} /billing/api/devices_get HTTP/1.1\r\nHost: gw.example\r\nX-Request-Id: req-1\r\n${SPOOFED}X_Custom: kept\r\n\r\n`)
    expect(res.status).toBe(200)
    const seen = JSON.parse(res.body) as Echo
    expect(seen.method).toBe(method)
    expect(seen.headers).toStrictEqual({
      host: echo.host,
      connection: 'keep-alive', // undici's own, for its pooled connection
      'x-request-id': 'req-1',
      x_custom: 'kept',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'gw.example'
    })
  })
})
