// The catalogue's resources on the shared Redis tier, with a real redis-server: a second instance
// answers from the first one's entry (a list's index travels with it, so pages and a scoped
// caller's cut come out the same), negative entries are shared, and cold misses on two instances
// make at most two MOR calls.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { getJson, startGateway, TEST_API_KEY, TEST_API_SECRET, TEST_API_USER, type TestGateway } from '../helpers/gateway.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'
import { keyFile } from '../helpers/key-file.js'
import { waitFor } from '../helpers/wait.js'

let redis: TestRedis
let sim: MorSimulator
const gateways: TestGateway[] = []

const SCOPED_KEY = 'catalogue-redis-scoped-0123456789'
const scoped = { authorization: `Bearer ${SCOPED_KEY}` }
const keys = keyFile([`${TEST_API_KEY} users=*`, `${SCOPED_KEY} users=3-4,150-152`])

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

const reads = (key: string) => sim.calls.reads.get(key) ?? 0

/** An instance on the shared Redis only (no in-process tier), so every answer crosses Redis. */
async function gateway (): Promise<TestGateway> {
  const gw = await startGateway(sim.url, { REDIS_URL: redis.url, CACHE_MAX_ENTRIES: '0', ...keys.env })
  gateways.push(gw)
  await waitFor(() => gw.app.redisStore?.available === true)
  return gw
}

describe('the catalogue on the Redis tier', () => {
  it('answers a second instance from the first one\'s list, pages and scoped cuts alike, with one MOR call', async () => {
    const [a, b] = [await gateway(), await gateway()]
    const before = reads('users_get')
    const whole = await getJson(`${a.url}/v1/users`)
    expect(whole.status).toBe(200)
    for (const path of ['/v1/users', '/v1/users?limit=4']) {
      const [first, second] = [await getJson(a.url + path), await getJson(b.url + path)]
      expect(second.status).toBe(200)
      expect(second.body).toStrictEqual(first.body)
      expect(second.headers.get('etag')).toBe(first.headers.get('etag'))
      expect(second.headers.get('cache-status')).toMatch(/^mor-gateway; hit/)
    }
    const cut = await getJson(`${b.url}/v1/users`, scoped)
    expect((cut.body as { users: Array<{ id: number }> }).users.map((u) => u.id)).toStrictEqual([3, 4, 150, 151, 152])
    const page = await getJson(`${b.url}/v1/users?limit=2`, scoped)
    const next = (page.body as { nextCursor: string }).nextCursor
    const rest = await getJson(`${a.url}/v1/users?limit=2&cursor=${next}`, scoped)
    expect((rest.body as { users: Array<{ id: number }> }).users.map((u) => u.id)).toStrictEqual([150, 151])
    expect(reads('users_get') - before).toBe(1)
  })

  it('shares a user\'s details and a negative entry', async () => {
    const [a, b] = [await gateway(), await gateway()]
    expect((await getJson(`${a.url}/v1/users/2`)).status).toBe(200)
    expect((await getJson(`${b.url}/v1/users/2`)).headers.get('cache-status')).toMatch(/^mor-gateway; hit/)
    expect((await getJson(`${a.url}/v1/users/9`)).status).toBe(404)
    const absent = await getJson(`${b.url}/v1/users/9`)
    expect(absent.status).toBe(404)
    expect(absent.headers.get('cache-status')).toMatch(/^mor-gateway; hit/)
    expect(reads('user_details_get:2')).toBe(1)
    expect(reads('user_details_get:9')).toBe(1)
  })

  it('keeps concurrent cold misses for one user\'s calls on two instances to at most two MOR calls', async () => {
    const [a, b] = [await gateway(), await gateway()]
    sim.options.delayMs = 200
    const path = '/v1/users/3/calls?from=2026-10-01T00:00:00Z&to=2026-10-08T00:00:00Z'
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => getJson((i % 2 === 0 ? a.url : b.url) + path)))
    expect(answers.every((answer) => answer.status === 200)).toBe(true)
    expect(new Set(answers.map((answer) => JSON.stringify(answer.body))).size).toBe(1)
    expect(reads('user_calls_get:3')).toBeGreaterThanOrEqual(1)
    expect(reads('user_calls_get:3')).toBeLessThanOrEqual(2)
  })
})
