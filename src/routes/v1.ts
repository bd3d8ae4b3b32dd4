// The /v1 scope: every route in it needs an API key and counts against that key's rate limit
// (shared through Redis when REDIS_URL is set, so N instances enforce one budget).
import type { FastifyInstance } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import createError from '@fastify/error'
import type { Config } from '../config.js'
import { requireApiKey } from '../plugins/auth.js'
import { upstreamKeyPrefix } from '../plugins/cache.js'
import devicesRoute from './devices.js'

export const RateLimitedError = createError('RATE_LIMITED', 'Too many requests for this API key; retry in %s', 429)

export default async function v1 (fastify: FastifyInstance, { config }: { config: Config }) {
  fastify.addHook('onRequest', requireApiKey)
  await fastify.register(rateLimit, {
    max: config.rateLimit.perMinute,
    timeWindow: 60_000,
    // After authentication (an onRequest hook), so the limit is per key, not per address.
    hook: 'preHandler',
    keyGenerator: (request) => request.apiKeyId ?? `ip:${request.ip}`,
    redis: fastify.redisStore?.client,
    nameSpace: `${upstreamKeyPrefix(config.mor)}:rate:`,
    // A Redis outage must not turn into an outage of the API.
    skipOnError: true,
    enableDraftSpec: true,
    errorResponseBuilder: (request, context) => {
      request.server.metrics.rateLimited.inc({ limit: 'requests' })
      return new RateLimitedError(context.after)
    }
  })
  await fastify.register(devicesRoute)
}
