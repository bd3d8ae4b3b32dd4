// The /v1 scope: every route in it needs an API key and counts against that key's rate limit
// (shared through Redis when REDIS_URL is set, so N instances enforce one limit).
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { retryAfterError } from '../retry-after-error.js'
import type { Config } from '../config.js'
import { identifyCaller, requireApiKey } from '../plugins/auth.js'
import { rateLimitHeaders, type RateDecision } from '../auth/request-limiter.js'
import { takenDecision } from '../lanes/hit-lane.js'
import devicesRoute from './devices.js'

/** The key's request rate for this minute is spent. */
export const RateLimitedError = retryAfterError('RATE_LIMITED', 'Too many requests for this API key in this minute', 429)

export default async function v1 (fastify: FastifyInstance, _opts: { config: Config }) {
  const { requestLimiter, metrics } = fastify

  /** Counts the request (unless the hit lane already did) and refuses it once the window is spent. */
  function limitRequests (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const apply = (d: RateDecision) => {
      const headers = rateLimitHeaders(d)
      for (let i = 0; i + 1 < headers.length; i += 2) reply.header(headers[i] ?? '', headers[i + 1])
      if (d.allowed) {
        done()
        return
      }
      metrics.rateLimited.inc({ limit: 'requests' })
      done(new RateLimitedError(d.resetSeconds))
    }
    const decision = takenDecision(request.raw) ?? requestLimiter.take(request.apiKeyId ?? `ip:${request.ip}`)
    if (decision instanceof Promise) decision.then(apply, done)
    else apply(decision)
  }

  // Identify, then rate-limit (per key, or per address for callers without a valid key), then
  // refuse the unauthenticated: so failed attempts are limited too.
  fastify.addHook('onRequest', identifyCaller)
  fastify.addHook('onRequest', limitRequests)
  fastify.addHook('preValidation', requireApiKey)
  await fastify.register(devicesRoute)
}
