// Redis killed and restarted under load: every request is still answered, and the gateway uses
// Redis again by itself once it is back. Run by `npm run test:faults`.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { AUTH, TEST_API_SECRET, TEST_API_USER } from '../helpers/gateway.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js'
import { waitFor } from '../helpers/wait.js'

const REQUESTS = 600
const CONCURRENCY = 12

let sim: MorSimulator
let redis: TestRedis
let gw: GatewayProcess

beforeAll(async () => {
  sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET, delayMs: 5 })
  redis = await startRedis()
  gw = await startGatewayProcess(sim.url, { REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '100', CACHE_MAX_ENTRIES: '50' })
}, 180_000)

afterAll(async () => {
  await gw?.stop()
  await Promise.all([sim?.close(), redis?.close()])
})

const redisUp = async () => /^gateway_redis_up 1$/m.test(await (await fetch(`${gw.url}/metrics`)).text())

it('answers every request while Redis is killed and restarted under load, then uses Redis again', async () => {
  await waitFor(redisUp, { timeoutMs: 10_000 })
  const statuses: number[] = []
  let next = 0
  const worker = async () => {
    while (next < REQUESTS) {
      const n = next++
      if (n === REQUESTS / 3) await redis.stop()
      if (n === (2 * REQUESTS) / 3) await redis.start()
      // A working set larger than the in-process tier, so Redis is really in the path.
      const res = await fetch(`${gw.url}/v1/users/${1000 + (n % 200)}/devices`, { headers: AUTH })
      await res.arrayBuffer()
      statuses.push(res.status)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  expect(statuses).toHaveLength(REQUESTS)
  expect(statuses.filter((s) => s !== 200)).toStrictEqual([])
  await waitFor(redisUp, { timeoutMs: 10_000 })
  // Back in use: a user fetched now is stored in Redis, and a fresh instance finds it there.
  await fetch(`${gw.url}/v1/users/5000/devices`, { headers: AUTH }).then((r) => r.arrayBuffer())
  const other = await startGatewayProcess(sim.url, { REDIS_URL: redis.url })
  try {
    await waitFor(async () => /^gateway_redis_up 1$/m.test(await (await fetch(`${other.url}/metrics`)).text()), { timeoutMs: 10_000 })
    const res = await fetch(`${other.url}/v1/users/5000/devices`, { headers: AUTH })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-status')).toMatch(/^mor-gateway; hit/)
    expect(sim.calls.byUser.get('5000')).toBe(1)
  } finally {
    await other.stop()
  }
  expect(await gw.rss()).toBeLessThan(400 * 1024 * 1024)
})
