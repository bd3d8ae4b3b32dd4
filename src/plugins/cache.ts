// Decorates the app with the devices cache: the in-process tier always, the Redis tier when the
// redis plugin has a client.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { createDevicesCache, type DevicesCache } from '../cache/devices-cache.js'
import { upstreamKeyPrefix } from '../redis/namespace.js'

declare module 'fastify' {
  interface FastifyInstance {
    devicesCache: DevicesCache
  }
}

export default fp<{ config: Config }>(async (fastify, { config }) => {
  fastify.decorate('devicesCache', createDevicesCache({
    ...config.cache,
    keyPrefix: upstreamKeyPrefix(config.mor),
    upstreamTimeoutMs: config.mor.timeoutMs,
    redis: fastify.redisStore,
    log: fastify.log
  }))
}, { name: 'cache', dependencies: ['mor', 'metrics', 'redis'], fastify: '5.x' })
