// One contract for both idempotency stores, run against the in-process store on an injected clock
// and against the Redis store on a real redis-server; then what only each of them does: the
// in-process bound, and Redis's records, other instances, and refusals when Redis cannot answer.
import { createHash } from 'node:crypto'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedisIdempotencyStore } from '../../src/idempotency/redis.js'
import {
  createMemoryIdempotencyStore, IdempotencyUnavailableError,
  type Claim, type IdempotencyStore, type StoredAnswer
} from '../../src/idempotency/store.js'
import { createRedisStore, type RedisStore } from '../../src/redis/store.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'
import { waitFor } from '../helpers/wait.js'

const TTL_MS = 60_000
const RUNNING_TTL_MS = 10_000
/** Less than either TTL, and far more than a test takes on the real clock between its steps. */
const MARGIN_MS = 1000

const created: StoredAnswer = { status: 201, headers: { 'content-type': 'application/json', location: '/v1/devices/9' }, body: '{"id":9}' }
const other: StoredAnswer = { status: 200, headers: {}, body: '{}' }

interface Backing {
  /** A store over the backing, as one gateway instance would make it. */
  store: (opts?: { ttlMs?: number, runningTtlMs?: number }) => IdempotencyStore
  /** Moves the backing's time on by `ms`. */
  elapse: (ms: number) => Promise<void>
}

function isNew (claim: Claim): Extract<Claim, { kind: 'new' }> {
  if (claim.kind !== 'new') throw new Error(`expected a new claim, got ${claim.kind}`)
  return claim
}

function contract (backing: () => Backing): void {
  const make = () => backing().store({ ttlMs: TTL_MS, runningTtlMs: RUNNING_TTL_MS })

  it('replays the finished answer, as it was, to a retry of the same request', async () => {
    const store = make()
    const first = isNew(await store.claim('alice', 'k1', 'fp'))
    const answer = structuredClone(created)
    await first.finish(answer)
    answer.headers.location = '/changed'
    const replay = await store.claim('alice', 'k1', 'fp')
    expect(replay).toStrictEqual({ kind: 'replay', answer: created })
    if (replay.kind === 'replay') replay.answer.headers.location = '/changed too'
    expect(await store.claim('alice', 'k1', 'fp')).toStrictEqual({ kind: 'replay', answer: created })
  })

  it('answers mismatch to another request with the same key, while the first runs and after it finished', async () => {
    const store = make()
    const first = isNew(await store.claim('alice', 'k1', 'fp'))
    expect(await store.claim('alice', 'k1', 'other fp')).toStrictEqual({ kind: 'mismatch' })
    await first.finish(created)
    expect(await store.claim('alice', 'k1', 'other fp')).toStrictEqual({ kind: 'mismatch' })
  })

  it('answers running to the same request while the first still runs', async () => {
    const store = make()
    isNew(await store.claim('alice', 'k1', 'fp'))
    expect(await store.claim('alice', 'k1', 'fp')).toStrictEqual({ kind: 'running' })
    expect(await store.claim('alice', 'k1', 'fp')).toStrictEqual({ kind: 'running' })
  })

  it('keeps nothing of a released claim: a retry, or another request with the key, runs anew', async () => {
    const store = make()
    await isNew(await store.claim('alice', 'k1', 'fp')).release()
    await isNew(await store.claim('alice', 'k1', 'other fp')).release()
    const again = isNew(await store.claim('alice', 'k1', 'fp'))
    await again.finish(created)
    expect(await store.claim('alice', 'k1', 'fp')).toStrictEqual({ kind: 'replay', answer: created })
  })

  it('settles a claim once: a release after its finish keeps the answer', async () => {
    const store = make()
    const first = isNew(await store.claim('alice', 'k1', 'fp'))
    await first.finish(created)
    await first.release()
    await first.finish(other)
    expect(await store.claim('alice', 'k1', 'fp')).toStrictEqual({ kind: 'replay', answer: created })
  })

  it('keeps callers apart: the same key from two callers is two requests', async () => {
    const store = make()
    const alice = isNew(await store.claim('alice', 'k1', 'fp'))
    const bob = isNew(await store.claim('bob', 'k1', 'other fp'))
    await alice.finish(created)
    expect(await store.claim('bob', 'k1', 'other fp')).toStrictEqual({ kind: 'running' })
    await bob.finish(other)
    expect(await store.claim('alice', 'k1', 'fp')).toStrictEqual({ kind: 'replay', answer: created })
    expect(await store.claim('bob', 'k1', 'other fp')).toStrictEqual({ kind: 'replay', answer: other })
    // Caller and key are kept apart, not run together ('alic' + 'ek1' is 'alice' + 'k1').
    isNew(await store.claim('alic', 'ek1', 'fp'))
  })

  it('forgets a finished answer after its TTL', async () => {
    const store = make()
    await isNew(await store.claim('alice', 'k1', 'fp')).finish(created)
    await backing().elapse(TTL_MS - MARGIN_MS)
    expect(await store.claim('alice', 'k1', 'fp')).toStrictEqual({ kind: 'replay', answer: created })
    await backing().elapse(MARGIN_MS + 1)
    isNew(await store.claim('alice', 'k1', 'other fp'))
  })

  it('frees the key of a claim that never ends after the running TTL; its late finish or release touches nothing', async () => {
    const store = make()
    const stuck = [isNew(await store.claim('alice', 'k1', 'fp')), isNew(await store.claim('alice', 'k2', 'fp'))]
    await backing().elapse(RUNNING_TTL_MS - MARGIN_MS)
    expect(await store.claim('alice', 'k1', 'fp')).toStrictEqual({ kind: 'running' })
    await backing().elapse(MARGIN_MS + 1)
    const retries = [isNew(await store.claim('alice', 'k1', 'fp')), isNew(await store.claim('alice', 'k2', 'fp'))]
    await stuck[0]?.finish(other)
    await stuck[1]?.release()
    for (const key of ['k1', 'k2']) expect(await store.claim('alice', key, 'fp'), key).toStrictEqual({ kind: 'running' })
    for (const retry of retries) await retry.finish(created)
    for (const key of ['k1', 'k2']) expect(await store.claim('alice', key, 'fp'), key).toStrictEqual({ kind: 'replay', answer: created })
  })

  it('gives exactly one of 20 simultaneous claims of a key new; the others see it running', async () => {
    const store = make()
    const claims = await Promise.all(Array.from({ length: 20 }, () => store.claim('alice', 'k1', 'fp')))
    expect(claims.filter((claim) => claim.kind === 'new')).toHaveLength(1)
    expect(claims.filter((claim) => claim.kind === 'running')).toHaveLength(19)
  })
}

describe('the in-process store', () => {
  let time = 1_700_000_000_000
  const now = () => time
  const backing: Backing = {
    store: (opts) => createMemoryIdempotencyStore({ runningTtlMs: RUNNING_TTL_MS, ...opts, now }),
    elapse: async (ms) => { time += ms }
  }
  contract(() => backing)

  it('keeps a day by default', async () => {
    const store = createMemoryIdempotencyStore({ runningTtlMs: RUNNING_TTL_MS, now })
    await isNew(await store.claim('alice', 'k1', 'fp')).finish(created)
    time += 24 * 60 * 60 * 1000 - 1
    expect(await store.claim('alice', 'k1', 'fp')).toStrictEqual({ kind: 'replay', answer: created })
    time += 1
    isNew(await store.claim('alice', 'k1', 'fp'))
  })

  it('makes room by dropping the answer finished first, not the key claimed first', async () => {
    const store = createMemoryIdempotencyStore({ runningTtlMs: RUNNING_TTL_MS, maxEntries: 2, now })
    const a = isNew(await store.claim('alice', 'a', 'fp'))
    const b = isNew(await store.claim('alice', 'b', 'fp'))
    await b.finish(other)
    await a.finish(created)
    isNew(await store.claim('alice', 'c', 'fp'))
    expect(await store.claim('alice', 'a', 'fp')).toStrictEqual({ kind: 'replay', answer: created })
    isNew(await store.claim('alice', 'b', 'fp'))
  })

  it('never drops a running claim to make room, but drops one whose running TTL passed', async () => {
    const store = createMemoryIdempotencyStore({ runningTtlMs: RUNNING_TTL_MS, maxEntries: 2, now })
    isNew(await store.claim('alice', 'a', 'fp'))
    isNew(await store.claim('alice', 'b', 'fp'))
    isNew(await store.claim('alice', 'c', 'fp'))
    for (const key of ['a', 'b', 'c']) expect(await store.claim('alice', key, 'fp'), key).toStrictEqual({ kind: 'running' })
    time += RUNNING_TTL_MS
    const d = isNew(await store.claim('alice', 'd', 'fp'))
    await d.finish(created)
    // a, b and c expired and went to make room for d, so e fits without dropping d's answer.
    isNew(await store.claim('alice', 'e', 'fp'))
    expect(await store.claim('alice', 'd', 'fp')).toStrictEqual({ kind: 'replay', answer: created })
  })
})

describe('the Redis store', () => {
  let redis: TestRedis
  let shared: RedisStore
  let direct: Redis
  let prefixes = 0
  // Redis's clock cannot be moved, so every key's remaining life is shortened instead, as a clock
  // advanced by `ms` would: this checks the PX each record was given, and waits for nothing.
  const backing: Backing = {
    store: (opts) => createRedisIdempotencyStore(shared, { prefix: `t${++prefixes}:`, runningTtlMs: RUNNING_TTL_MS, ...opts }),
    elapse: async (ms) => {
      for (const key of await direct.keys('*')) {
        const left = await direct.pttl(key)
        if (left < 0) continue
        if (left <= ms) await direct.del(key)
        else await direct.pexpire(key, left - ms)
      }
    }
  }
  const idemKey = (prefix: string, caller: string, key: string) => `${prefix}idem:${createHash('sha256').update(`${caller}\n${key}`).digest('hex')}`
  const record = async (key: string) => JSON.parse(await direct.get(key) ?? 'null') as unknown

  beforeAll(async () => {
    redis = await startRedis()
    shared = createRedisStore({ url: redis.url, timeoutMs: 500 }, Fastify({ logger: false }).log)
    direct = new Redis(redis.url)
    await waitFor(() => shared.available)
  })
  afterAll(async () => {
    direct?.disconnect()
    await shared?.close()
    await redis?.close()
  })

  contract(() => backing)

  it('keeps a JSON record under a hash of caller and key, for the running TTL and then the TTL', async () => {
    const store = createRedisIdempotencyStore(shared, { prefix: 'rec:', runningTtlMs: RUNNING_TTL_MS })
    const claim = isNew(await store.claim('alice', 'secret-key', 'fp'))
    const key = idemKey('rec:', 'alice', 'secret-key')
    expect(await direct.keys('rec:*')).toStrictEqual([key])
    const running = await record(key)
    expect(running).toStrictEqual({ state: 'running', token: expect.stringMatching(/^[0-9a-f-]{36}$/), fingerprint: 'fp' })
    expect(await direct.pttl(key)).toBeGreaterThan(RUNNING_TTL_MS - MARGIN_MS)
    expect(await direct.pttl(key)).toBeLessThanOrEqual(RUNNING_TTL_MS)
    await claim.finish(created)
    expect(await record(key)).toStrictEqual({ state: 'done', token: (running as { token: string }).token, fingerprint: 'fp', answer: created })
    expect(await direct.pttl(key)).toBeGreaterThan(24 * 60 * 60 * 1000 - MARGIN_MS)
  })

  it('is shared by every instance: another store replays what one finished, and sees what one runs', async () => {
    const [one, another] = [createRedisIdempotencyStore(shared, { prefix: 'inst:', runningTtlMs: RUNNING_TTL_MS }), createRedisIdempotencyStore(shared, { prefix: 'inst:', runningTtlMs: RUNNING_TTL_MS })]
    const claim = isNew(await one.claim('alice', 'k1', 'fp'))
    expect(await another.claim('alice', 'k1', 'fp')).toStrictEqual({ kind: 'running' })
    expect(await another.claim('alice', 'k1', 'other fp')).toStrictEqual({ kind: 'mismatch' })
    await claim.finish(created)
    expect(await another.claim('alice', 'k1', 'fp')).toStrictEqual({ kind: 'replay', answer: created })
  })

  it('frees a running key when Redis expires it', async () => {
    const store = createRedisIdempotencyStore(shared, { prefix: 'short:', runningTtlMs: 200 })
    isNew(await store.claim('alice', 'k1', 'fp'))
    expect(await store.claim('alice', 'k1', 'fp')).toStrictEqual({ kind: 'running' })
    await waitFor(async () => (await store.claim('alice', 'k1', 'fp')).kind === 'new', { what: 'the running record to expire' })
  })

  it('refuses a key whose record it cannot read', async () => {
    const store = createRedisIdempotencyStore(shared, { prefix: 'bad:', runningTtlMs: RUNNING_TTL_MS })
    await direct.set(idemKey('bad:', 'alice', 'k1'), '{"state":"done","token":"x","fingerprint":"fp"}')
    await expect(store.claim('alice', 'k1', 'fp')).rejects.toBeInstanceOf(IdempotencyUnavailableError)
  })

  it('refuses keyed writes while Redis cannot answer, whether it hangs or is gone, and takes them again once it is back', async () => {
    const store = createRedisIdempotencyStore(shared, { prefix: 'down:', runningTtlMs: RUNNING_TTL_MS })
    const unavailable = { statusCode: 503, code: 'IDEMPOTENCY_UNAVAILABLE', problem: 'idempotency-unavailable' }
    redis.pause()
    try {
      const hung = store.claim('alice', 'k1', 'fp')
      await expect(hung).rejects.toBeInstanceOf(IdempotencyUnavailableError)
      await expect(hung).rejects.toMatchObject(unavailable)
    } finally {
      redis.resume()
    }
    await redis.stop()
    await waitFor(() => !shared.available)
    await expect(store.claim('alice', 'k1', 'fp')).rejects.toMatchObject(unavailable)
    await redis.start()
    await waitFor(() => shared.available, { timeoutMs: 10_000 })
    await waitFor(async () => (await store.claim('alice', 'k1', 'fp').catch(() => undefined))?.kind === 'new', { what: 'claims to work again' })
  })
})
