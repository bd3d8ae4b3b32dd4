// The Idempotency-Key store the device writes remember their answers in (src/idempotency/): in
// Redis when REDIS_URL is set, so a retry that lands on another instance gets the first answer,
// and in this process otherwise.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { createMemoryIdempotencyStore, type IdempotencyStore } from '../idempotency/store.js'
import { createRedisIdempotencyStore } from '../idempotency/redis.js'
import { upstreamKeyPrefix } from '../redis/namespace.js'

declare module 'fastify' {
  interface FastifyInstance {
    idempotency: IdempotencyStore
  }
}

/**
 * How long a write may hold its key before another request may take it over: a running write
 * ends within the MOR timeout (the call, then the read back), so a key held longer than this
 * belongs to an instance that died mid-write.
 */
export const runningTtlMs = (config: Config) => 4 * config.mor.timeoutMs + 10_000

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const redis = fastify.redisStore
  const store = redis
    ? createRedisIdempotencyStore(redis, { prefix: `${upstreamKeyPrefix(config.mor)}:`, runningTtlMs: runningTtlMs(config) })
    : createMemoryIdempotencyStore({ runningTtlMs: runningTtlMs(config) })
  fastify.decorate('idempotency', store)
}, { name: 'idempotency', dependencies: ['redis'], fastify: '5.x' })
