// REDIS_URL=redis-cluster://...: two gateways share a real three-master Redis Cluster for their
// cache, their cold-miss locks, the rate limit, the upstream budget and the invalidation bus; one
// master killed under load costs no request more than the shared tier, and the Cluster is used
// again once the master is back.
import { Agent, request } from 'undici'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { upstreamKeyPrefix } from '../../src/redis/namespace.js'
import { FIRST_BACKOFF_MS } from '../../src/redis/shard-breaker.js'
import { signParams } from '../../src/mor/sign.js'
import { AUTH, getJson, startGateway, TEST_API_SECRET, TEST_API_USER, type TestGateway } from '../helpers/gateway.js'
import { expectedBulkBody } from '../helpers/expected.js'
import { startRedisCluster, type ClusterNode, type TestCluster } from '../helpers/redis-cluster.js'
import { waitFor } from '../helpers/wait.js'
import { fakeWallClock } from '../helpers/clock.js'

let cluster: TestCluster
let sim: MorSimulator
const gateways: TestGateway[] = []
// Bounds every request of the load loop, so a wedged gateway fails the test instead of hanging it.
const agent = new Agent({ headersTimeout: 10_000, bodyTimeout: 10_000 })

beforeAll(async () => {
  cluster = await startRedisCluster()
  sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
})
afterAll(async () => {
  await agent.close()
  await sim?.close()
  await cluster?.close()
})
beforeEach(async () => { await cluster.flush() })
afterEach(async () => {
  sim.options.delayMs = 0
  await Promise.all(gateways.splice(0).map((gw) => gw.close()))
})

const callsFor = (userId: number) => sim.calls.byUser.get(String(userId)) ?? 0
const status = (res: { headers: Headers }) => res.headers.get('cache-status') ?? ''

async function gateway (env: Record<string, string> = {}): Promise<TestGateway> {
  const gw = await startGateway(sim.url, { REDIS_URL: cluster.url, ...env })
  gateways.push(gw)
  await waitFor(() => gw.app.redisStore?.available === true, { what: 'the gateway to reach the Cluster' })
  return gw
}

/** Users (from `from` on) whose cached list lives on `node`, as the gateway names the key. */
async function usersOn (gw: TestGateway, node: ClusterNode, count: number, from: number): Promise<number[]> {
  const ownerOf = await cluster.slotOwners()
  const users: number[] = []
  for (let id = from; users.length < count; id++) {
    if (ownerOf(`${upstreamKeyPrefix(gw.config.mor)}:devices:${id}`) === node) users.push(id)
  }
  return users
}

/** A legacy client's device_update through the gateway's passthrough. */
async function legacyUpdate (gw: TestGateway, deviceId: number): Promise<void> {
  const body = new URLSearchParams({ u: TEST_API_USER, device: String(deviceId), description: 'moved', hash: signParams([String(deviceId)], TEST_API_SECRET) })
  const write = await fetch(`${gw.url}/billing/api/device_update`, { method: 'POST', body })
  expect(await write.text()).toContain('Device successfully updated')
}

describe('a Redis Cluster', () => {
  it('shares entries between gateways and coalesces their cold misses', async () => {
    const [a, b] = [await gateway(), await gateway()]
    await getJson(`${a.url}/v1/users/1100/devices`)
    expect(status(await getJson(`${b.url}/v1/users/1100/devices`))).toMatch(/^mor-gateway; hit/)
    expect(callsFor(1100)).toBe(1)

    sim.options.delayMs = 200
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => getJson(`${(i % 2 === 0 ? a : b).url}/v1/users/1101/devices`)))
    expect(new Set(answers.map((r) => r.status))).toStrictEqual(new Set([200]))
    expect(answers[0]?.body).toStrictEqual(expectedBulkBody(1101))
    expect(callsFor(1101)).toBe(1)
  })

  it('counts one rate limit and one upstream budget across gateways', async () => {
    const env = { RATE_LIMIT_PER_MINUTE: '6', UPSTREAM_BUDGET_PER_MINUTE: '3' }
    const [a, b] = [await gateway(env), await gateway(env)]
    const answers = []
    for (let i = 0; i < 8; i++) {
      const res = await getJson(`${(i % 2 === 0 ? a : b).url}/v1/users/${1110 + i}/devices`)
      answers.push(`${res.status}${/budget/.test(String((res.body as { detail?: string }).detail)) ? ' budget' : ''}`)
    }
    // Three cold users reach MOR, the next three find the shared budget spent, then the limit refuses.
    expect(answers).toStrictEqual(['200', '200', '200', '429 budget', '429 budget', '429 budget', '429', '429'])
    expect(sim.calls.byUser.get('1113')).toBeUndefined()
  })

  it('carries invalidations between gateways', async () => {
    const [a, b] = [await gateway(), await gateway()]
    await getJson(`${a.url}/v1/users/2/devices`)
    expect(status(await getJson(`${b.url}/v1/users/2/devices`))).toMatch(/hit/)
    await legacyUpdate(a, 6)
    await waitFor(async () => !/hit/.test(status(await getJson(`${b.url}/v1/users/2/devices`))), { timeoutMs: 1000, what: 'B to drop user 2\'s list' })
  })

  it('answers every request while a master is killed under load and restarted, then uses it again', async () => {
    const env = { REDIS_TIMEOUT_MS: '1000' }
    const [a, b] = [await gateway(env), await gateway(env)]
    const victim = cluster.nodes[1] as ClusterNode
    const warm = await usersOn(a, victim, 6, 1200)
    for (const id of warm) await getJson(`${a.url}/v1/users/${id}/devices`)

    // A loop of bounded size: users on every shard, warm (in A's memory and the Cluster) and cold.
    const REQUESTS = 240
    const failures: string[] = []
    let sent = 0
    async function worker () {
      while (sent < REQUESTS) {
        const n = sent++
        if (n === REQUESTS / 3) await victim.stop()
        if (n === (2 * REQUESTS) / 3) await victim.start()
        const userId = n % 3 === 0 ? (warm[n % warm.length] as number) : 1300 + (n % 60)
        const res = await request(`${(n % 2 === 0 ? a : b).url}/v1/users/${userId}/devices`, { headers: AUTH, dispatcher: agent })
        const text = await res.body.text()
        if (res.statusCode !== 200 || JSON.stringify(JSON.parse(text)) !== JSON.stringify(expectedBulkBody(userId))) failures.push(`${n}: ${res.statusCode} ${text.slice(0, 200)}`)
      }
    }
    await Promise.all(Array.from({ length: 8 }, worker))
    expect(failures).toStrictEqual([])
    await cluster.waitOk()

    // The restarted master is empty: a list stored through A is B's hit again once a probe finds it.
    const fresh = await usersOn(a, victim, 40, 1400)
    await waitFor(async () => {
      const id = fresh.shift() as number
      await getJson(`${a.url}/v1/users/${id}/devices`)
      return /^mor-gateway; hit/.test(status(await getJson(`${b.url}/v1/users/${id}/devices`)))
    }, { timeoutMs: 8000, what: 'the restarted master to be used again' })
    expect(a.app.redisStore?.skippedNodes).toBe(0)
    // And the bus still carries invalidations, whichever node either subscriber was on.
    await getJson(`${b.url}/v1/users/2/devices`)
    await legacyUpdate(a, 6)
    await waitFor(async () => !/hit/.test(status(await getJson(`${b.url}/v1/users/2/devices`))), { timeoutMs: 1000, what: 'B to drop user 2\'s list' })
  }, 60_000)

  it('costs one Redis timeout per back-off, not per request, while a master is dead', async () => {
    // The breaker's back-off is on the wall clock (read through the Date.now it was made with, so
    // faked before the gateway starts): standing still, no back-off ends until the test moves it.
    const clock = fakeWallClock()
    const env = { REDIS_TIMEOUT_MS: '1500' }
    const gw = await gateway(env)
    const victim = cluster.nodes[2] as ClusterNode
    const [probe, ...users] = await usersOn(gw, victim, 11, 1500)
    await victim.stop()
    const skipped = () => gw.app.redisStore?.skippedNodes
    try {
      // Each cold user would ask the dead master (and wait out its timeout) but for the breaker:
      // the first one does, and the node is skipped, not probed, for every one after it.
      const seen = []
      for (const id of users) {
        seen.push(skipped())
        expect((await getJson(`${gw.url}/v1/users/${id}/devices`)).status).toBe(200)
      }
      expect([...seen, skipped()]).toStrictEqual([0, ...users.map(() => 1)])
      // Once the back-off is over one request probes the node; it fails, and the back-off doubles.
      clock.advance(FIRST_BACKOFF_MS)
      expect(skipped()).toBe(0)
      expect((await getJson(`${gw.url}/v1/users/${probe}/devices`)).status).toBe(200)
      expect(skipped()).toBe(1)
      clock.advance(FIRST_BACKOFF_MS)
      expect(skipped()).toBe(1)
      clock.advance(FIRST_BACKOFF_MS)
      expect(skipped()).toBe(0)
    } finally {
      vi.useRealTimers() // before waitOk, which polls on the wall clock
      await victim.start()
      await cluster.waitOk()
    }
  }, 60_000)
})
