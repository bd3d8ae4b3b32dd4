// The cache as clients see it, in-process tier only: hits, misses, expiry, stale-while-revalidate,
// stale-if-error, negative caching, coalescing, ETag/304, no-cache and compression. Time passes on
// a faked wall clock (helpers/clock.ts), never in a sleep.
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import type { MorSimulator } from '../../src/demo/simulator.js'
import { findUser, type SimUser } from '../../src/demo/data.js'
import { devicesXml } from '../../src/demo/xml.js'
import { AUTH, getJson } from '../helpers/gateway.js'
import { startFaultUpstream, type FaultHandler, type FaultUpstream } from '../helpers/fault-upstream.js'
import { closeAfterTest, gateway, simulator } from '../helpers/scoped.js'
import { withoutInstance } from '../helpers/expected.js'
import { fakeWallClock } from '../helpers/clock.js'
import { waitFor } from '../helpers/wait.js'

const callsFor = (sim: MorSimulator, userId: number) => sim.calls.byUser.get(String(userId)) ?? 0

describe('in-process cache', () => {
  it('answers a miss from MOR, then a hit from the cache with its age and freshness', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    const first = await getJson(`${gw.url}/v1/users/3/devices`)
    expect(first.headers.get('cache-status')).toBe('mor-gateway; fwd=miss; stored')
    expect(first.headers.get('cache-control')).toBe('private, max-age=60')
    expect(first.headers.get('age')).toBe('0')
    expect(first.headers.get('vary')).toBe('Accept-Encoding')
    expect(first.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{27}"$/)
    const second = await getJson(`${gw.url}/v1/users/3/devices`)
    expect(second.headers.get('cache-status')).toMatch(/^mor-gateway; hit; ttl=(59|60)$/)
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'))
    expect(second.body).toStrictEqual(first.body)
    expect(callsFor(sim, 3)).toBe(1)
  })

  it('goes back to MOR once an entry has expired with no stale window', async () => {
    const clock = fakeWallClock()
    const sim = await simulator()
    const gw = await gateway(sim.url, { CACHE_TTL_SECONDS: '1', CACHE_STALE_SECONDS: '0' })
    await getJson(`${gw.url}/v1/users/3/devices`)
    clock.advance(999)
    expect((await getJson(`${gw.url}/v1/users/3/devices`)).headers.get('cache-status')).toBe('mor-gateway; hit; ttl=0')
    clock.advance(1)
    const res = await getJson(`${gw.url}/v1/users/3/devices`)
    expect(res.headers.get('cache-status')).toBe('mor-gateway; fwd=miss; stored')
    expect(callsFor(sim, 3)).toBe(2)
  })

  it('serves a stale entry at once and refreshes it with one background call', async () => {
    const clock = fakeWallClock()
    const sim = await simulator()
    const gw = await gateway(sim.url, { CACHE_TTL_SECONDS: '1', CACHE_STALE_SECONDS: '60' })
    const before = await getJson(`${gw.url}/v1/users/3/devices`)
    clock.advance(1100)
    // MOR now has a changed device list, and answers slowly.
    const changed: SimUser = { id: 3, username: 'bob', devices: [{ device_id: 56, device_type: 'SIP' }] }
    sim.options.users = (id) => (id === 3 ? changed : findUser(id))
    sim.options.delayMs = 300
    const stale = await Promise.all(Array.from({ length: 20 }, () => getJson(`${gw.url}/v1/users/3/devices`)))
    for (const res of stale) {
      expect(res.status).toBe(200)
      expect(res.body).toStrictEqual(before.body)
      expect(res.headers.get('cache-status')).toMatch(/^mor-gateway; fwd=stale; ttl=-1; detail=stale-while-revalidate$/)
      expect(res.headers.get('cache-control')).toBe('private, max-age=0')
    }
    // Requests while the refresh runs join it (the count below says so); the first hit is its entry.
    await waitFor(async () => /^mor-gateway; hit;/.test((await getJson(`${gw.url}/v1/users/3/devices`)).headers.get('cache-status') ?? ''), { what: 'the refreshed entry' })
    const fresh = await getJson(`${gw.url}/v1/users/3/devices`)
    expect(fresh.headers.get('cache-status')).toMatch(/^mor-gateway; hit; ttl=/)
    expect(fresh.body).toStrictEqual({ userId: 3, devices: [{ id: 56, type: 'SIP', ipAddress: null, port: null, username: null, callerId: null, deviceGroupId: null, primary: null }], nextCursor: null })
    expect(callsFor(sim, 3)).toBe(2)
  })

  it('caches User not found for the negative TTL only', async () => {
    const clock = fakeWallClock()
    const sim = await simulator()
    const gw = await gateway(sim.url, { CACHE_NEGATIVE_TTL_SECONDS: '1' })
    const first = await getJson(`${gw.url}/v1/users/9/devices`)
    const second = await getJson(`${gw.url}/v1/users/9/devices`)
    expect(first.status).toBe(404)
    expect(second.status).toBe(404)
    expect(withoutInstance(second.body)).toStrictEqual(withoutInstance(first.body))
    expect(second.headers.get('cache-status')).toBe('mor-gateway; hit; ttl=1')
    expect(second.headers.get('etag')).toBeNull()
    expect(callsFor(sim, 9)).toBe(1)
    clock.advance(999)
    expect((await getJson(`${gw.url}/v1/users/9/devices`)).headers.get('cache-status')).toBe('mor-gateway; hit; ttl=0')
    expect(callsFor(sim, 9)).toBe(1)
    clock.advance(1)
    expect((await getJson(`${gw.url}/v1/users/9/devices`)).status).toBe(404)
    expect(callsFor(sim, 9)).toBe(2)
  })

  it('never caches a rejection by MOR', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url, { MOR_API_SECRET: 'wrong' })
    expect((await getJson(`${gw.url}/v1/users/3/devices`)).status).toBe(502)
    expect((await getJson(`${gw.url}/v1/users/3/devices`)).status).toBe(502)
    expect(callsFor(sim, 3)).toBe(2)
  })

  it('answers 304 to a matching If-None-Match, and 200 to a stale ETag', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    const first = await getJson(`${gw.url}/v1/users/2/devices`)
    const etag = first.headers.get('etag') ?? ''
    for (const header of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
      const res = await fetch(`${gw.url}/v1/users/2/devices`, { headers: { ...AUTH, 'if-none-match': header } })
      expect(res.status).toBe(304)
      expect(await res.text()).toBe('')
      expect(res.headers.get('etag')).toBe(etag)
    }
    const other = await getJson(`${gw.url}/v1/users/2/devices`, { 'if-none-match': '"other"' })
    expect(other.status).toBe(200)
    expect(other.body).toStrictEqual(first.body)
  })

  it('revalidates with MOR on Cache-Control: no-cache', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    await getJson(`${gw.url}/v1/users/3/devices`)
    const res = await getJson(`${gw.url}/v1/users/3/devices`, { 'cache-control': 'no-cache' })
    expect(res.headers.get('cache-status')).toBe('mor-gateway; fwd=request; stored')
    expect(callsFor(sim, 3)).toBe(2)
    expect((await getJson(`${gw.url}/v1/users/3/devices`)).headers.get('cache-status')).toMatch(/^mor-gateway; hit/)
    expect(callsFor(sim, 3)).toBe(2)
  })

  it('makes exactly one upstream call for 500 concurrent cold requests', async () => {
    const sim = await simulator()
    sim.options.delayMs = 200
    const gw = await gateway(sim.url)
    const responses = await Promise.all(Array.from({ length: 500 }, () => getJson(`${gw.url}/v1/users/5/devices`)))
    expect(callsFor(sim, 5)).toBe(1)
    expect(new Set(responses.map((r) => r.status))).toStrictEqual(new Set([200]))
    expect(new Set(responses.map((r) => JSON.stringify(r.body))).size).toBe(1)
    const statuses = responses.map((r) => r.headers.get('cache-status'))
    expect(statuses.filter((s) => s === 'mor-gateway; fwd=miss; stored')).toHaveLength(1)
    // The rest waited for that call, unless the client's own queue let them in after it had ended.
    const waited = statuses.filter((s) => s === 'mor-gateway; fwd=miss; stored; collapsed').length
    const later = statuses.filter((s) => s?.startsWith('mor-gateway; hit; ttl=') === true).length
    expect(waited + later).toBe(499)
    expect(waited).toBeGreaterThan(0)
  })

  it('coalesces concurrent no-cache revalidations into one call', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    await getJson(`${gw.url}/v1/users/3/devices`)
    sim.options.delayMs = 200
    await Promise.all(Array.from({ length: 50 }, () => getJson(`${gw.url}/v1/users/3/devices`, { 'cache-control': 'no-cache' })))
    expect(callsFor(sim, 3)).toBe(2)
  })

  it('compresses large answers once for br and gzip clients and leaves small ones alone', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    const plain = await fetch(`${gw.url}/v1/users/100/devices`, { headers: { ...AUTH, 'accept-encoding': 'identity' } })
    const identity = Buffer.from(await plain.arrayBuffer())
    expect(plain.headers.get('content-encoding')).toBeNull()
    const { request } = await import('undici')
    for (const [coding, decode] of [['br', brotliDecompressSync], ['gzip', gunzipSync]] as const) {
      for (let i = 0; i < 2; i++) {
        const res = await request(`${gw.url}/v1/users/100/devices`, { headers: { ...AUTH, 'accept-encoding': `${coding}, identity;q=0.5` } })
        const body = Buffer.from(await res.body.arrayBuffer())
        expect(res.headers['content-encoding']).toBe(coding)
        expect(res.headers.vary).toBe('Accept-Encoding')
        expect(body.length).toBeLessThan(identity.length / 5)
        expect(decode(body).equals(identity)).toBe(true)
      }
    }
    const small = await request(`${gw.url}/v1/users/3/devices`, { headers: { ...AUTH, 'accept-encoding': 'br, gzip' } })
    expect(small.headers['content-encoding']).toBeUndefined()
    expect(JSON.parse(await small.body.text())).toStrictEqual((await getJson(`${gw.url}/v1/users/3/devices`)).body)
  })
})

describe('ETags per content coding (RFC 9110 8.8.3)', () => {
  it('gives identity, br and gzip bodies their own strong ETag, each revalidating to a 304 for its own coding only', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    const { request } = await import('undici')
    const url = `${gw.url}/v1/users/100/devices`
    const tags: Record<string, string> = {}
    for (const coding of ['identity', 'br', 'gzip']) {
      const res = await request(url, { headers: { ...AUTH, 'accept-encoding': coding } })
      await res.body.arrayBuffer()
      tags[coding] = String(res.headers.etag)
    }
    expect(tags.identity).toMatch(/^"[^"]+"$/)
    expect(tags.br).toBe(`${tags.identity?.slice(0, -1)}-br"`)
    expect(tags.gzip).toBe(`${tags.identity?.slice(0, -1)}-gzip"`)
    for (const coding of ['identity', 'br', 'gzip']) {
      for (const [tagOf, tag] of Object.entries(tags)) {
        const res = await request(url, { headers: { ...AUTH, 'accept-encoding': coding, 'if-none-match': tag } })
        await res.body.arrayBuffer()
        expect(res.statusCode, `${coding} request with the ${tagOf} ETag`).toBe(tagOf === coding ? 304 : 200)
        expect(res.headers.etag).toBe(tags[coding])
      }
    }
  })
})

describe('stale-if-error', () => {
  const GOOD_XML = devicesXml([{ device_id: 1, device_type: 'SIP', ipaddr: '192.0.2.1', port: 5060 }])
  const GOOD = { userId: 7, devices: [{ id: 1, type: 'SIP', ipAddress: '192.0.2.1', port: 5060, username: null, callerId: null, deviceGroupId: null, primary: null }], nextCursor: null }
  const failures: Array<[string, FaultHandler]> = [
    ['is unavailable', (req) => { req.socket.destroy() }],
    ['times out', () => {}],
    ['answers badly', (_req, res) => { res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>500</h1>') }]
  ]
  let upstream: FaultUpstream
  for (const [name, failure] of failures) {
    it(`serves the cached answer instead of an error when MOR ${name}`, async () => {
      const clock = fakeWallClock()
      upstream = await startFaultUpstream()
      closeAfterTest(upstream.close)
      const gw = await gateway(upstream.url, { UPSTREAM_TIMEOUT_MS: '300', CACHE_TTL_SECONDS: '1', CACHE_STALE_SECONDS: '60' })
      upstream.handle((_req, res) => { res.writeHead(200, { 'content-type': 'text/xml' }).end(GOOD_XML) })
      expect((await getJson(`${gw.url}/v1/users/7/devices`)).body).toStrictEqual(GOOD)
      upstream.handle(failure)
      // A forced revalidation fails, so the fresh copy is served instead.
      const forced = await getJson(`${gw.url}/v1/users/7/devices`, { 'cache-control': 'no-cache' })
      expect(forced.status).toBe(200)
      expect(forced.body).toStrictEqual(GOOD)
      expect(forced.headers.get('cache-status')).toMatch(/^mor-gateway; fwd=stale; ttl=[01]; detail=stale-if-error$/)
      // Once stale, it is still served while background refreshes keep failing.
      clock.advance(1100)
      for (let i = 0; i < 3; i++) {
        const res = await getJson(`${gw.url}/v1/users/7/devices`)
        expect(res.status).toBe(200)
        expect(res.body).toStrictEqual(GOOD)
        expect(res.headers.get('cache-status')).toBe('mor-gateway; fwd=stale; ttl=-1; detail=stale-while-revalidate')
      }
    })
  }

  it('does not hide a rejection behind a cached answer', async () => {
    upstream = await startFaultUpstream()
    closeAfterTest(upstream.close)
    const gw = await gateway(upstream.url)
    upstream.handle((_req, res) => { res.writeHead(200, { 'content-type': 'text/xml' }).end(GOOD_XML) })
    await getJson(`${gw.url}/v1/users/7/devices`)
    upstream.handle((_req, res) => { res.writeHead(200, { 'content-type': 'text/xml' }).end('<error>Access Denied</error>') })
    const res = await getJson(`${gw.url}/v1/users/7/devices`, { 'cache-control': 'no-cache' })
    expect(res.status).toBe(502)
    expect((res.body as { type: string }).type).toBe('/problems/upstream-rejected')
  })
})
