// The one Redis client (single, Sentinel or Cluster, from REDIS_URL), shared by the cache and the
// rate limit: created here, reported in /metrics and /health/ready, closed with the app. Without
// REDIS_URL there is none, and each instance keeps to itself.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { createRedisStore, type RedisStore } from '../redis/store.js'

declare module 'fastify' {
  interface FastifyInstance {
    redisStore: RedisStore | undefined
  }
}

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const redis = config.redis ? createRedisStore(config.redis, fastify.log) : undefined
  fastify.decorate('redisStore', redis)
  if (!redis) return
  fastify.metrics.addGauge('gateway_redis_up', '1 when Redis is reachable, 0 when not; absent without REDIS_URL', () => (redis.available ? 1 : 0))
  fastify.metrics.addGauge('gateway_redis_nodes_skipped', 'Redis nodes (Cluster masters) skipped after a failure until a probe finds them back', () => redis.skippedNodes)
  fastify.addHook('onClose', async () => { await redis.close() })
}, { name: 'redis', dependencies: ['metrics'], fastify: '5.x' })
