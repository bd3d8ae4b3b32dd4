// Fault injection against the compiled gateway in its own process: for each way MOR can fail,
// a burst of requests gets its exact problem (or stale data), the process stays up, its memory
// stays bounded, and it serves normally again once the fault ends. Run by `npm run test:faults`.
import { createGzip, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { devicesXml } from '../../src/demo/xml.js'
import { generatedUser } from '../../src/demo/data.js'
import { AUTH } from '../helpers/gateway.js'
import { startFaultUpstream, type FaultHandler, type FaultUpstream } from '../helpers/fault-upstream.js'
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js'

const TIMEOUT_MS = 500
const BURST = 20
/** Far above a healthy gateway's ~100 MB, far below what a leak or an unbounded buffer would reach. */
const RSS_LIMIT = 400 * 1024 * 1024

const GOOD_XML = devicesXml(generatedUser(7, 3).devices)
const good: FaultHandler = (_req, res) => { res.writeHead(200, { 'content-type': 'text/xml', 'content-encoding': 'gzip' }).end(gzipSync(GOOD_XML)) }

let upstream: FaultUpstream
let gw: GatewayProcess
let cached: GatewayProcess
let bomb: Buffer

beforeAll(async () => {
  upstream = await startFaultUpstream()
  upstream.handle(good)
  // No caching here: every request meets the fault.
  gw = await startGatewayProcess(upstream.url, { UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS), CACHE_TTL_SECONDS: '0', CACHE_STALE_SECONDS: '0', CACHE_NEGATIVE_TTL_SECONDS: '0', CIRCUIT_FAILURES: '1000' })
  // With caching: faults are hidden behind stale data. A TTL of 0 makes every entry stale as soon as
  // it is stored, so no test waits for one to age (this gateway's clock cannot be moved from here).
  cached = await startGatewayProcess(upstream.url, { UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS), CACHE_TTL_SECONDS: '0', CACHE_STALE_SECONDS: '600', CIRCUIT_FAILURES: '1000' })
  // 256 MiB of zeros in about 256 KiB of gzip, made without holding 256 MiB.
  bomb = await new Promise<Buffer>((resolve) => {
    const gz = createGzip({ level: 9 })
    const chunks: Buffer[] = []
    gz.on('data', (c: Buffer) => chunks.push(c))
    gz.on('end', () => resolve(Buffer.concat(chunks)))
    const zeros = Buffer.alloc(1024 * 1024)
    for (let i = 0; i < 256; i++) gz.write(zeros)
    gz.end()
  })
}, 180_000)

afterAll(async () => {
  await Promise.all([gw?.stop(), cached?.stop()])
  await upstream?.close()
})

async function burst (target: GatewayProcess, userId = 7) {
  return await Promise.all(Array.from({ length: BURST }, async () => {
    const res = await fetch(`${target.url}/v1/users/${userId}/devices`, { headers: AUTH })
    const body = await res.json() as { type?: string, userId?: number }
    return { status: res.status, type: body.type, userId: body.userId, cacheStatus: res.headers.get('cache-status') }
  }))
}

async function expectHealthyAfter (target: GatewayProcess, headers: Record<string, string> = { 'cache-control': 'no-cache' }) {
  upstream.handle(good)
  expect((await fetch(`${target.url}/health/live`)).status).toBe(200)
  const res = await fetch(`${target.url}/v1/users/7/devices`, { headers: { ...AUTH, ...headers } })
  expect(res.status).toBe(200)
  expect(((await res.json()) as { devices: unknown[] }).devices).toHaveLength(3)
  expect(await target.rss()).toBeLessThan(RSS_LIMIT)
}

const trickle: FaultHandler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/xml' })
  const timer = setInterval(() => { if (!res.destroyed) res.write(' ') }, 50)
  res.on('close', () => clearInterval(timer))
}

const faults: Array<[string, FaultHandler, number, string]> = [
  ['MOR refusing connections', (req) => { req.socket.destroy() }, 502, 'upstream-unavailable'],
  ['MOR hanging up mid-body', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/xml', 'content-length': '100000' })
    res.write(GOOD_XML.slice(0, 100), () => res.socket?.destroy())
  }, 502, 'upstream-unavailable'],
  ['MOR answering after the timeout', (_req, res) => { setTimeout(() => { if (!res.destroyed) good(_req, res) }, TIMEOUT_MS * 3) }, 504, 'upstream-timeout'],
  ['MOR trickling bytes', trickle, 504, 'upstream-timeout'],
  ['MOR returning HTML 500s', (_req, res) => { res.writeHead(500, { 'content-type': 'text/html' }).end('<html><body><h1>500 Internal Server Error</h1></body></html>') }, 502, 'upstream-bad-response'],
  ['truncated gzip', (_req, res) => { res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(GOOD_XML).subarray(0, 60)) }, 502, 'upstream-bad-response'],
  ['a gzip bomb', (_req, res) => { res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bomb) }, 502, 'upstream-bad-response'],
  ['50 MB of valid XML', (_req, res) => {
    // Streamed, as a real server would; the gateway stops reading at UPSTREAM_MAX_BYTES (32 MiB).
    res.writeHead(200, { 'content-type': 'text/xml' })
    const device = '<device><device_id>1</device_id><device_type>SIP</device_type><ipaddr>192.0.2.1</ipaddr><port>5060</port></device>'
    const chunk = device.repeat(Math.floor(1024 * 1024 / device.length))
    let sent = 0
    const pump = () => {
      while (sent < 50 && !res.destroyed) {
        sent++
        if (!res.write(sent === 1 ? `<page><devices>${chunk}` : chunk)) { res.once('drain', pump); return }
      }
      if (!res.destroyed) res.end('</devices></page>')
    }
    pump()
  }, 502, 'upstream-bad-response'],
  ['malformed XML', (_req, res) => { res.writeHead(200, { 'content-type': 'text/xml' }).end('<page><devices><device><device_id>1</devices></page>') }, 502, 'upstream-bad-response'],
  ['DOCTYPE XML', (_req, res) => { res.writeHead(200, { 'content-type': 'text/xml' }).end('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><page><devices/></page>') }, 502, 'upstream-bad-response']
]

describe('each fault gets its problem, and the gateway recovers by itself', () => {
  for (const [name, fault, status, slug] of faults) {
    it(`${name}: ${status} ${slug} for every request, then normal service`, async () => {
      upstream.handle(fault)
      const results = await burst(gw)
      expect(results.map((r) => [r.status, r.type])).toStrictEqual(Array.from({ length: BURST }, () => [status, `/problems/${slug}`]))
      await expectHealthyAfter(gw)
    })
  }
})

describe('with a cached answer, each fault is hidden behind stale data', () => {
  beforeAll(async () => {
    upstream.handle(good)
    expect((await burst(cached))[0]?.status).toBe(200)
  })
  for (const [name, fault] of faults) {
    it(`${name}: 200 with the cached devices`, async () => {
      upstream.handle(fault)
      const results = await burst(cached)
      expect(results.map((r) => [r.status, r.userId])).toStrictEqual(Array.from({ length: BURST }, () => [200, 7]))
      expect(new Set(results.map((r) => r.cacheStatus?.split(';').slice(0, 2).join(';')))).toStrictEqual(new Set(['mor-gateway; fwd=stale']))
      await expectHealthyAfter(cached, {})
    })
  }
})
