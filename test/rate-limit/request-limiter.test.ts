// The per-key request rate limit: counting in this process on an injected clock, and shared
// through a real redis-server, including a Redis that lost its scripts or went away.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { createRequestLimiter, decide, rateLimitHeaders } from '../../src/rate-limit/request-limiter.js'
import { createRedisStore, type RedisStore } from '../../src/redis/store.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'
import { waitFor } from '../helpers/wait.js'

function clock (start = 1_700_000_000_000) {
  const state = { now: start }
  return { now: () => state.now, advance: (ms: number) => { state.now += ms } }
}

describe('decide', () => {
  it('allows up to the limit, counts down to 0, and rounds the reset up to whole seconds', () => {
    expect(decide(3, 1, 59_001)).toStrictEqual({ allowed: true, limit: 3, remaining: 2, resetSeconds: 60 })
    expect(decide(3, 3, 1)).toStrictEqual({ allowed: true, limit: 3, remaining: 0, resetSeconds: 1 })
    expect(decide(3, 4, 0)).toStrictEqual({ allowed: false, limit: 3, remaining: 0, resetSeconds: 1 })
  })

  it('renders the RateLimit-* headers', () => {
    expect(rateLimitHeaders(decide(10, 4, 30_000))).toStrictEqual(['ratelimit-limit', '10', 'ratelimit-remaining', '6', 'ratelimit-reset', '30'])
  })
})

describe('createRequestLimiter in one process', () => {
  it('counts every request, refused ones too, and starts over after a minute', () => {
    const time = clock()
    const limiter = createRequestLimiter(2, { now: time.now })
    const allowed = () => (limiter.take('k') as ReturnType<typeof decide>).allowed
    expect([allowed(), allowed(), allowed(), allowed()]).toStrictEqual([true, true, false, false])
    time.advance(30_000)
    expect(limiter.take('k')).toMatchObject({ allowed: false, resetSeconds: 30 })
    time.advance(30_000)
    expect(limiter.take('k')).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 60 })
  })

  it('keeps keys apart', () => {
    const limiter = createRequestLimiter(1)
    expect(limiter.take('a')).toMatchObject({ allowed: true })
    expect(limiter.take('a')).toMatchObject({ allowed: false })
    expect(limiter.take('ip:203.0.113.9')).toMatchObject({ allowed: true })
  })
})

describe('createRequestLimiter through Redis', () => {
  let redis: TestRedis
  let store: RedisStore
  beforeAll(async () => {
    redis = await startRedis()
    store = createRedisStore({ url: redis.url, timeoutMs: 500 }, Fastify({ logger: false }).log)
    await waitFor(() => store.available)
  })
  afterAll(async () => {
    await store.close()
    await redis.close()
  })

  it('shares one count between two limiters, with the window Redis keeps', async () => {
    const a = createRequestLimiter(3, { redis: store, keyPrefix: 't1:' })
    const b = createRequestLimiter(3, { redis: store, keyPrefix: 't1:' })
    const results = [await a.take('k'), await b.take('k'), await a.take('k'), await b.take('k')]
    expect(results.map((d) => [d.allowed, d.remaining])).toStrictEqual([[true, 2], [true, 1], [true, 0], [false, 0]])
    expect(results[0]?.resetSeconds).toBe(60)
    const direct = new Redis(redis.url)
    expect(await direct.get('t1:k')).toBe('4')
    expect(await direct.pttl('t1:k')).toBeGreaterThan(58_000)
    await direct.quit()
  })

  it('batches concurrent requests of a key into one INCRBY, giving each its own count', async () => {
    const a = createRequestLimiter(60, { redis: store, keyPrefix: 't5:' })
    const b = createRequestLimiter(60, { redis: store, keyPrefix: 't5:' })
    const direct = new Redis(redis.url)
    await direct.config('RESETSTAT')
    const decisions = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).take('k')))
    const calls = Number(/cmdstat_evalsha:calls=(\d+)/.exec(await direct.info('commandstats'))?.[1] ?? NaN)
    expect(await direct.get('t5:k')).toBe('100')
    await direct.quit()
    // One command per limiter, not per request.
    expect(calls).toBeLessThanOrEqual(2)
    expect(decisions.filter((d) => d.allowed)).toHaveLength(60)
    const allowedRemaining = decisions.filter((d) => d.allowed).map((d) => d.remaining).sort((x, y) => x - y)
    expect(allowedRemaining).toStrictEqual(Array.from({ length: 60 }, (_, i) => i))
  })

  it('loads its script again after Redis forgot it', async () => {
    const limiter = createRequestLimiter(5, { redis: store, keyPrefix: 't2:' })
    expect(await limiter.take('k')).toMatchObject({ remaining: 4 })
    const direct = new Redis(redis.url)
    await direct.script('FLUSH')
    await direct.quit()
    expect(await limiter.take('k')).toMatchObject({ remaining: 3 })
  })

  it('gives a key that lost its expiry one again instead of counting forever', async () => {
    const direct = new Redis(redis.url)
    await direct.set('t3:k', '7')
    const limiter = createRequestLimiter(10, { redis: store, keyPrefix: 't3:' })
    expect(await limiter.take('k')).toMatchObject({ remaining: 2, resetSeconds: 60 })
    expect(await direct.pttl('t3:k')).toBeGreaterThan(0)
    await direct.quit()
  })

  it('counts in this process while Redis is down, and in Redis again once it is back', async () => {
    const limiter = createRequestLimiter(5, { redis: store, keyPrefix: 't4:' })
    expect(await limiter.take('k')).toMatchObject({ remaining: 4 })
    await redis.stop()
    await waitFor(() => !store.available)
    expect(await limiter.take('k')).toMatchObject({ allowed: true, remaining: 4 })
    expect(await limiter.take('k')).toMatchObject({ allowed: true, remaining: 3 })
    await redis.start()
    await waitFor(() => store.available, { timeoutMs: 10_000 })
    // A fresh Redis: its window starts again.
    expect(await limiter.take('k')).toMatchObject({ remaining: 4 })
  })
})
