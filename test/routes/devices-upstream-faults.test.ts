// Every way MOR can fail, over real sockets: each gets its exact problem, and the gateway keeps
// serving afterwards.
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { devicesXml } from '../../src/demo/xml.js'
import { getJson, NO_CACHE, startGateway, type TestGateway } from '../helpers/gateway.js'
import { refusedUrl, startFaultUpstream, type FaultHandler, type FaultUpstream } from '../helpers/fault-upstream.js'
import { problem } from '../helpers/expected.js'

const TIMEOUT_MS = 400
const MAX_BYTES = 256 * 1024
const GOOD_XML = devicesXml([{ device_id: 1, device_type: 'SIP', ipaddr: '192.0.2.1', port: 5060 }])
const GOOD_BODY = { userId: 7, devices: [{ id: 1, type: 'SIP', ipAddress: '192.0.2.1', port: 5060, username: null, callerId: null, deviceGroupId: null, primary: null }], nextCursor: null }

const bad = (detail: string) => problem('upstream-bad-response', 'Bad response from MOR', 502, `MOR sent a response the gateway cannot use: ${detail}`)

const xml = (body: string | Buffer, headers: Record<string, string> = {}): FaultHandler => (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/xml', ...headers }).end(body)
}

let upstream: FaultUpstream
let gw: TestGateway

beforeAll(async () => {
  upstream = await startFaultUpstream()
  // No caching here: every request must reach the faulty upstream (the cache tests cover stale-if-error).
  gw = await startGateway(upstream.url, { ...NO_CACHE, UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS), UPSTREAM_MAX_BYTES: String(MAX_BYTES) })
})
afterAll(async () => {
  await gw.close()
  await upstream.close()
})

async function expectProblemThenRecovery (handler: FaultHandler, status: number, body: unknown) {
  upstream.handle(handler)
  const res = await getJson(`${gw.url}/v1/users/7/devices`)
  expect(res.status).toBe(status)
  expect(res.type).toBe('application/problem+json; charset=utf-8')
  expect(res.body).toStrictEqual(body)
  upstream.handle(xml(gzipSync(GOOD_XML), { 'content-encoding': 'gzip' }))
  const after = await getJson(`${gw.url}/v1/users/7/devices`)
  expect(after.body).toStrictEqual(GOOD_BODY)
}

describe('upstream-bad-response (502)', () => {
  const cases: Array<[string, FaultHandler, string]> = [
    ['an HTML 500 page', (_req, res) => { res.writeHead(500, { 'content-type': 'text/html' }).end('<html><body>Internal Server Error</body></html>') }, 'HTTP status 500'],
    ['a 302 redirect to a login page', (_req, res) => { res.writeHead(302, { location: '/billing/callc/login' }).end() }, 'HTTP status 302'],
    ['broken gzip', xml(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02, 0x03, 0x04, 0xde, 0xad, 0xbe, 0xef])), 'broken gzip body'],
    ['truncated gzip', xml(gzipSync(GOOD_XML).subarray(0, 40), { 'content-encoding': 'gzip' }), 'broken gzip body'],
    ['text that is not XML', xml('Service temporarily unavailable'), 'malformed XML'],
    ['malformed XML', xml('<page><devices><device><device_id>1</device_id></devices></page>'), 'malformed XML'],
    ['truncated XML', xml(GOOD_XML.slice(0, -20)), 'malformed XML'],
    ['a DOCTYPE with entity expansion', xml('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><page><devices/></page>'), 'XML with a DOCTYPE declaration is refused'],
    ['a device without device_id', xml('<page><devices><device><device_type>SIP</device_type></device></devices></page>'), 'device #1 has no valid device_id'],
    ['a document that is neither <page> nor <error>', xml('<html><body><h1>Maintenance</h1></body></html>'), 'neither <page> nor <error> in the XML'],
    ['an unexpected document', xml('<page><users/></page>'), 'no <devices> list in <page>'],
    ['a Content-Length over the cap', xml(Buffer.alloc(MAX_BYTES + 1, 0x20)), `body exceeds ${MAX_BYTES} bytes`],
    ['a chunked body over the cap', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' })
      for (let i = 0; i < 5; i++) res.write(Buffer.alloc(MAX_BYTES / 2, 0x20))
      res.end()
    }, `body exceeds ${MAX_BYTES} bytes`],
    ['a gzip bomb', xml(gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20))), `decompressed body exceeds ${MAX_BYTES} bytes`],
    ['an unsupported Content-Encoding', xml('<page/>', { 'content-encoding': 'compress' }), 'unsupported Content-Encoding "compress"']
  ]
  for (const [name, handler, detail] of cases) {
    it(`returns 502 upstream-bad-response for ${name}, then serves again`, async () => {
      await expectProblemThenRecovery(handler, 502, bad(detail))
    })
  }
})

describe('upstream-unavailable (502) and upstream-timeout (504)', () => {
  it('returns 502 upstream-unavailable when MOR hangs up without answering', async () => {
    await expectProblemThenRecovery((req) => { req.socket.destroy() }, 502,
      problem('upstream-unavailable', 'MOR unavailable', 502, 'MOR could not be reached: the connection was closed'))
  })

  it('returns 502 upstream-unavailable when MOR hangs up mid-body', async () => {
    await expectProblemThenRecovery((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml', 'content-length': '5000' })
      res.write('<page><devices>', () => res.socket?.destroy())
    }, 502, problem('upstream-unavailable', 'MOR unavailable', 502, 'MOR could not be reached: the connection was closed'))
  })

  it('returns 504 upstream-timeout when MOR never answers', async () => {
    await expectProblemThenRecovery(() => {}, 504,
      problem('upstream-timeout', 'MOR timed out', 504, `MOR did not answer within ${TIMEOUT_MS} ms`))
  })

  it('returns 504 upstream-timeout when MOR trickles its answer past the deadline', async () => {
    await expectProblemThenRecovery((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' })
      const timer = setInterval(() => { if (!res.destroyed) res.write(' ') }, 50)
      res.on('close', () => clearInterval(timer))
    }, 504, problem('upstream-timeout', 'MOR timed out', 504, `MOR did not answer within ${TIMEOUT_MS} ms`))
  })

  it('returns 502 upstream-unavailable when MOR refuses connections', async () => {
    const refusing = await startGateway(await refusedUrl())
    try {
      const res = await getJson(`${refusing.url}/v1/users/7/devices`)
      expect(res.status).toBe(502)
      expect(res.body).toStrictEqual(problem('upstream-unavailable', 'MOR unavailable', 502, 'MOR could not be reached: connection refused'))
    } finally {
      await refusing.close()
    }
  })
})
