// Decorates the app with the devices cache (the in-process tier always, Redis when REDIS_URL is
// set) and the per-key counters that share Redis with it. Closes the Redis connection with the app.
import { createHash } from 'node:crypto'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { createDevicesCache, type DevicesCache } from '../cache/devices-cache.js'
import { createRedisStore, type RedisStore } from '../cache/redis-store.js'
import { createUpstreamBudget, type UpstreamBudget } from '../auth/upstream-budget.js'
import { createRequestLimiter, type RequestLimiter } from '../auth/request-limiter.js'

declare module 'fastify' {
  interface FastifyInstance {
    devicesCache: DevicesCache
    redisStore: RedisStore | undefined
    upstreamBudget: UpstreamBudget
    requestLimiter: RequestLimiter
  }
}

/** One namespace per MOR server and API user: what one may see, another may not. */
export function upstreamKeyPrefix (mor: Config['mor']): string {
  return `morgw:${createHash('sha256').update(`${mor.baseUrl}\n${mor.user}`).digest('hex').slice(0, 16)}`
}

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const redis = config.redis ? createRedisStore(config.redis.url, config.redis.timeoutMs, fastify.log) : undefined
  fastify.decorate('redisStore', redis)
  if (redis) fastify.metrics.addGauge('gateway_redis_up', '1 when the Redis cache tier is reachable, 0 when not; absent without REDIS_URL', () => (redis.available ? 1 : 0))
  fastify.decorate('devicesCache', createDevicesCache({
    ...config.cache,
    keyPrefix: upstreamKeyPrefix(config.mor),
    upstreamTimeoutMs: config.mor.timeoutMs,
    fetchDevicesJson: (userId) => fastify.mor.getDevicesJson(userId),
    redis,
    log: fastify.log
  }))
  fastify.decorate('upstreamBudget', createUpstreamBudget(config.rateLimit.upstreamPerMinute))
  // Shared through Redis when there is one, so N instances enforce one limit per key.
  fastify.decorate('requestLimiter', createRequestLimiter(config.rateLimit.perMinute, { redis, keyPrefix: `${upstreamKeyPrefix(config.mor)}:rate:` }))
  fastify.addHook('onClose', async () => { await redis?.close() })
}, { name: 'cache', dependencies: ['mor', 'metrics'], fastify: '5.x' })
