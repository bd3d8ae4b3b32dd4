// The shared Redis tier with a real redis-server: instances see each other's entries, cold misses
// are coalesced across instances, and Redis going away costs nothing but the shared tier.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { getJson, startGateway, TEST_API_SECRET, TEST_API_USER, type TestGateway } from '../helpers/gateway.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'
import { upstreamKeyPrefix } from '../../src/redis/namespace.js'
import { Redis } from 'ioredis'
import { waitFor } from '../helpers/wait.js'

let redis: TestRedis
let sim: MorSimulator
const gateways: TestGateway[] = []

beforeAll(async () => {
  redis = await startRedis()
  sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
})
afterAll(async () => {
  await sim.close()
  await redis.close()
})
afterEach(async () => {
  sim.options.delayMs = 0
  await Promise.all(gateways.splice(0).map((gw) => gw.close()))
})

const callsFor = (userId: number) => sim.calls.byUser.get(String(userId)) ?? 0

async function gateway (env: Record<string, string> = {}): Promise<TestGateway> {
  const gw = await startGateway(sim.url, { REDIS_URL: redis.url, ...env })
  gateways.push(gw)
  await waitFor(() => gw.app.redisStore?.available === true)
  return gw
}

describe('the Redis tier', () => {
  it('lets a second instance answer from the first one\'s entry without calling MOR', async () => {
    const [a, b] = [await gateway(), await gateway()]
    const first = await getJson(`${a.url}/v1/users/1001/devices`)
    const second = await getJson(`${b.url}/v1/users/1001/devices`)
    expect(second.status).toBe(200)
    expect(second.body).toStrictEqual(first.body)
    expect(second.headers.get('cache-status')).toMatch(/^mor-gateway; hit; ttl=(59|60)$/)
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'))
    expect(callsFor(1001)).toBe(1)
  })

  it('shares negative entries too', async () => {
    const [a, b] = [await gateway(), await gateway()]
    expect((await getJson(`${a.url}/v1/users/9/devices`)).status).toBe(404)
    const second = await getJson(`${b.url}/v1/users/9/devices`)
    expect(second.status).toBe(404)
    expect(second.headers.get('cache-status')).toMatch(/^mor-gateway; hit/)
    expect(callsFor(9)).toBe(1)
  })

  it('keeps concurrent cold misses on two instances to at most two upstream calls', async () => {
    const [a, b] = [await gateway(), await gateway()]
    sim.options.delayMs = 200
    const requests = []
    for (let i = 0; i < 100; i++) requests.push(getJson(`${(i % 2 === 0 ? a : b).url}/v1/users/1002/devices`))
    const responses = await Promise.all(requests)
    expect(new Set(responses.map((r) => r.status))).toStrictEqual(new Set([200]))
    expect(new Set(responses.map((r) => JSON.stringify(r.body))).size).toBe(1)
    expect(callsFor(1002)).toBeLessThanOrEqual(2)
    expect(callsFor(1002)).toBeGreaterThanOrEqual(1)
  })

  it('keeps gateways for different MOR servers apart in one Redis', async () => {
    const a = await gateway()
    const other = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
    try {
      const b = await startGateway(other.url, { REDIS_URL: redis.url })
      gateways.push(b)
      await waitFor(() => b.app.redisStore?.available === true)
      await getJson(`${a.url}/v1/users/1003/devices`)
      const res = await getJson(`${b.url}/v1/users/1003/devices`)
      expect(res.headers.get('cache-status')).toBe('mor-gateway; fwd=miss; stored')
      expect(other.calls.byUser.get('1003')).toBe(1)
    } finally {
      await other.close()
    }
  })

  it('answers every request while Redis is down, and uses Redis again once it is back', async () => {
    const [a, b] = [await gateway({ REDIS_TIMEOUT_MS: '100' }), await gateway({ REDIS_TIMEOUT_MS: '100' })]
    await getJson(`${a.url}/v1/users/1004/devices`)
    await redis.stop()
    await waitFor(() => a.app.redisStore?.available === false && b.app.redisStore?.available === false)
    // The in-process tier still answers what it has; MOR answers the rest.
    const cached = await getJson(`${a.url}/v1/users/1004/devices`)
    expect(cached.status).toBe(200)
    expect(cached.headers.get('cache-status')).toMatch(/^mor-gateway; hit/)
    for (const gw of [a, b]) {
      const res = await getJson(`${gw.url}/v1/users/1005/devices`)
      expect(res.status).toBe(200)
    }
    expect(callsFor(1005)).toBe(2)
    expect(a.logs.filter((line) => line.includes('redis cache tier unavailable'))).toHaveLength(1)

    await redis.start()
    await waitFor(() => a.app.redisStore?.available === true && b.app.redisStore?.available === true)
    await getJson(`${a.url}/v1/users/1006/devices`)
    const shared = await getJson(`${b.url}/v1/users/1006/devices`)
    expect(shared.headers.get('cache-status')).toMatch(/^mor-gateway; hit/)
    expect(callsFor(1006)).toBe(1)
    expect(a.logs.filter((line) => line.includes('redis cache tier available'))).toHaveLength(2)
  })

  it('answers within a bounded delay while Redis hangs', async () => {
    const a = await gateway({ REDIS_TIMEOUT_MS: '100' })
    redis.pause()
    try {
      const res = await getJson(`${a.url}/v1/users/1007/devices`)
      expect(res.status).toBe(200)
      expect(res.headers.get('cache-status')).toBe('mor-gateway; fwd=miss; stored')
      expect(callsFor(1007)).toBe(1)
    } finally {
      redis.resume()
    }
  })

  it('does not let a lock left by a dead instance block the key for longer than one upstream timeout', async () => {
    const a = await gateway({ UPSTREAM_TIMEOUT_MS: '500' })
    const client = new Redis(redis.url)
    try {
      // A holder that died mid-fetch leaves its lock behind until it expires.
      await client.set(`${upstreamKeyPrefix(a.config.mor)}:devices:1008:lock`, 'dead-instance', 'PX', 1500)
      const res = await getJson(`${a.url}/v1/users/1008/devices`)
      expect(res.status).toBe(200)
      expect(callsFor(1008)).toBe(1)
    } finally {
      client.disconnect()
    }
  })
})
