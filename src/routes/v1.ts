// The /v1 scope: every route in it needs an API key and counts against that key's rate limit
// (shared through Redis when REDIS_URL is set, so N instances enforce one budget).
import type { FastifyInstance } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import createError from '@fastify/error'
import type { Config } from '../config.js'
import { identifyCaller, requireApiKey } from '../plugins/auth.js'
import { upstreamKeyPrefix } from '../plugins/cache.js'
import devicesRoute from './devices.js'

export const RateLimitedError = createError('RATE_LIMITED', 'Too many requests for this API key; retry in %s', 429)

export default async function v1 (fastify: FastifyInstance, { config }: { config: Config }) {
  // Identify, then rate-limit (per key, or per address for callers without a valid key), then
  // refuse the unauthenticated: so failed attempts are limited too.
  fastify.addHook('onRequest', identifyCaller)
  fastify.addHook('preValidation', requireApiKey)
  await fastify.register(rateLimit, {
    max: config.rateLimit.perMinute,
    timeWindow: 60_000,
    // A route-level onRequest hook: it runs after identifyCaller and before requireApiKey.
    hook: 'onRequest',
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
