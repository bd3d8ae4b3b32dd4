// The per-key request rate limit (alone and shared by two instances through Redis) and the per-key
// budget of calls to MOR, over real sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getJson, TEST_API_KEY } from '../helpers/gateway.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'
import { callerHarness, RATE_LIMITED, BUDGET_SPENT, OTHER_KEY, bearer, waitFor } from '../helpers/callers.js'

const h = callerHarness()
const { gateway, callsFor } = h

describe('the per-key request rate limit', () => {
  it('answers the request after the limit with 429 and the rate-limit headers', async () => {
    const gw = await gateway({ RATE_LIMIT_PER_MINUTE: '5' })
    const url = `${gw.url}/v1/users/2/devices`
    for (let i = 0; i < 5; i++) {
      const res = await getJson(url)
      expect(res.status).toBe(200)
      expect(res.headers.get('ratelimit-limit')).toBe('5')
      expect(res.headers.get('ratelimit-remaining')).toBe(String(4 - i))
    }
    const limited = await getJson(url)
    expect(limited.status).toBe(429)
    expect(limited.type).toBe('application/problem+json; charset=utf-8')
    expect(limited.body).toStrictEqual(RATE_LIMITED)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60)
    expect(limited.headers.get('ratelimit-limit')).toBe('5')
    expect(limited.headers.get('ratelimit-remaining')).toBe('0')
    expect(Number(limited.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(1)
    expect(Number(limited.headers.get('ratelimit-reset'))).toBeLessThanOrEqual(60)
  })

  it('counts each key on its own', async () => {
    const gw = await gateway({ RATE_LIMIT_PER_MINUTE: '5', GATEWAY_API_KEYS: `${TEST_API_KEY},${OTHER_KEY}` })
    const url = `${gw.url}/v1/users/2/devices`
    for (let i = 0; i < 5; i++) await getJson(url)
    expect((await getJson(url)).status).toBe(429)
    const other = await getJson(url, bearer(OTHER_KEY))
    expect(other.status).toBe(200)
    expect(other.headers.get('ratelimit-remaining')).toBe('4')
  })

  it('limits failed attempts per address, apart from the valid key\'s budget', async () => {
    const gw = await gateway({ RATE_LIMIT_PER_MINUTE: '2' })
    const url = `${gw.url}/v1/users/2/devices`
    const wrong = { authorization: 'Bearer wrong-key-0000000000000000' }
    const statuses = []
    for (let i = 0; i < 5; i++) statuses.push((await getJson(url, wrong, { auth: false })).status)
    expect(statuses).toStrictEqual([401, 401, 429, 429, 429])
    expect((await getJson(url)).status).toBe(200)
  })
})

describe('the request rate limit with two instances on one Redis', () => {
  let redis: TestRedis
  beforeAll(async () => { redis = await startRedis() })
  afterAll(async () => { await redis.close() })

  it('enforces one budget per key across both instances', async () => {
    const env = { REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: '6' }
    const [a, b] = [await gateway(env), await gateway(env)]
    await waitFor(() => a.app.redisStore?.available === true && b.app.redisStore?.available === true)
    for (let i = 0; i < 3; i++) {
      expect((await getJson(`${a.url}/v1/users/2/devices`)).status).toBe(200)
      expect((await getJson(`${b.url}/v1/users/2/devices`)).status).toBe(200)
    }
    for (const gw of [a, b]) {
      const res = await getJson(`${gw.url}/v1/users/2/devices`)
      expect(res.status).toBe(429)
      expect(res.body).toStrictEqual(RATE_LIMITED)
      expect(res.headers.get('ratelimit-remaining')).toBe('0')
    }
  })
})

describe('the budget of calls to MOR with two instances on one Redis', () => {
  let redis: TestRedis
  beforeAll(async () => { redis = await startRedis() })
  afterAll(async () => { await redis.close() })

  it('is spent once across both instances, and per instance again while Redis is down', async () => {
    const env = { REDIS_URL: redis.url, UPSTREAM_BUDGET_PER_MINUTE: '2', REDIS_TIMEOUT_MS: '100' }
    const [a, b] = [await gateway(env), await gateway(env)]
    await waitFor(() => a.app.redisStore?.available === true && b.app.redisStore?.available === true)
    expect((await getJson(`${a.url}/v1/users/1120/devices`)).status).toBe(200)
    expect((await getJson(`${b.url}/v1/users/1121/devices`)).status).toBe(200)
    for (const gw of [a, b]) expect((await getJson(`${gw.url}/v1/users/1122/devices`)).body).toStrictEqual(BUDGET_SPENT)
    expect(callsFor(1122)).toBe(0)
    await redis.stop()
    try {
      await waitFor(() => a.app.redisStore?.available === false)
      // Each instance's own windows decide: A has spent none of its own yet.
      expect((await getJson(`${a.url}/v1/users/1123/devices`)).status).toBe(200)
    } finally {
      await redis.start()
    }
  })

  it('lets a caller who joined another caller\'s refused call ask its own budget', async () => {
    const env = { REDIS_URL: redis.url, UPSTREAM_BUDGET_PER_MINUTE: '5', GATEWAY_API_KEYS: `${TEST_API_KEY},${OTHER_KEY}` }
    const gw = await gateway(env)
    await waitFor(() => gw.app.redisStore?.available === true)
    for (let user = 1130; user < 1135; user++) expect((await getJson(`${gw.url}/v1/users/${user}/devices`)).status).toBe(200)
    // TEST_API_KEY's budget is spent; OTHER_KEY has five calls.
    const spentFirst = []
    for (let user = 1140; user < 1145; user++) {
      // The spent caller's request starts the call and the other one joins it, most of the time.
      const [spent, other] = await Promise.all([getJson(`${gw.url}/v1/users/${user}/devices`), getJson(`${gw.url}/v1/users/${user}/devices`, bearer(OTHER_KEY))])
      expect(other.status).toBe(200)
      spentFirst.push(spent.status === 429)
      expect(callsFor(user)).toBe(1)
    }
    expect(spentFirst).toContain(true)
  })
})

describe('the per-key budget of calls to MOR', () => {
  it('answers no-cache requests beyond the budget from the cache without calling MOR', async () => {
    const gw = await gateway({ UPSTREAM_BUDGET_PER_MINUTE: '2' })
    const url = `${gw.url}/v1/users/1101/devices`
    const first = await getJson(url, { 'cache-control': 'no-cache' })
    expect(first.status).toBe(200)
    for (let i = 0; i < 5; i++) {
      const res = await getJson(url, { 'cache-control': 'no-cache' })
      expect(res.status).toBe(200)
      expect(res.body).toStrictEqual(first.body)
    }
    expect(callsFor(1101)).toBe(2)
  })

  it('answers 429 with Retry-After for a user with nothing cached once the budget is spent', async () => {
    const gw = await gateway({ UPSTREAM_BUDGET_PER_MINUTE: '2' })
    expect((await getJson(`${gw.url}/v1/users/1102/devices`)).status).toBe(200)
    expect((await getJson(`${gw.url}/v1/users/1103/devices`)).status).toBe(200)
    const cold = await getJson(`${gw.url}/v1/users/1104/devices`)
    expect(cold.status).toBe(429)
    expect(cold.type).toBe('application/problem+json; charset=utf-8')
    expect(cold.body).toStrictEqual(BUDGET_SPENT)
    expect(Number(cold.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(Number(cold.headers.get('retry-after'))).toBeLessThanOrEqual(60)
    expect(callsFor(1104)).toBe(0)
  })

  it('keeps a separate budget for each key', async () => {
    const gw = await gateway({ UPSTREAM_BUDGET_PER_MINUTE: '1', GATEWAY_API_KEYS: `${TEST_API_KEY},${OTHER_KEY}` })
    expect((await getJson(`${gw.url}/v1/users/1105/devices`)).status).toBe(200)
    expect((await getJson(`${gw.url}/v1/users/1106/devices`)).status).toBe(429)
    expect((await getJson(`${gw.url}/v1/users/1106/devices`, bearer(OTHER_KEY))).status).toBe(200)
    expect(callsFor(1106)).toBe(1)
  })
})
