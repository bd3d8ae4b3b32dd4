// The /v1 scope: every route in it needs an API key and counts against that key's rate limit.
import type { FastifyInstance, RouteOptions } from 'fastify'
import type { Config } from '../config.js'
import { identifyCaller, requireCaller } from '../plugins/auth.js'
import { RATE_LIMIT_HEADERS } from '../schemas/responses.js'
import deviceWrites from './device-writes.js'
import catalogueRoutes from './catalogue.js'

/**
 * The rate-limit hook sets RateLimit-* before anything can refuse the request, so every answer a
 * /v1 route gives below 500 carries them; the contract says so on each of those responses.
 * (A 5xx may come from load shedding, whose hook runs first.)
 */
function documentRateLimitHeaders (route: RouteOptions): void {
  const response = route.schema?.response as Record<string, { headers?: object }> | undefined
  if (!response) return
  route.schema = {
    ...route.schema,
    response: Object.fromEntries(Object.entries(response).map(([status, answer]) =>
      [status, /^[1-4]/.test(status) ? { ...answer, headers: { ...answer.headers, ...RATE_LIMIT_HEADERS } } : answer]))
  }
}

export default async function v1 (fastify: FastifyInstance, { config }: { config: Config }) {
  // Identify, then rate-limit (per key, or per address for callers without a valid key), then
  // refuse the unauthenticated: so failed attempts are limited too.
  fastify.addHook('onRequest', identifyCaller)
  fastify.addHook('onRequest', fastify.limitRequests)
  fastify.addHook('preValidation', requireCaller)
  fastify.addHook('onRoute', documentRateLimitHeaders)
  await fastify.register(catalogueRoutes, { config })
  // Its own scope: it takes JSON bodies, which nothing else in /v1 does.
  await fastify.register(deviceWrites, { config })
}
