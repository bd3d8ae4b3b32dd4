// The two per-caller limits: the request rate (RATE_LIMIT_PER_MINUTE) and the budget of calls to
// MOR (UPSTREAM_BUDGET_PER_MINUTE), both counted in Redis when there is one, so N instances
// enforce one limit and spend one budget. Owns both, and the one hook every /v1 route runs.
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { Config } from '../config.js'
import { retryAfterError } from '../problems/retry-after.js'
import { createRequestLimiter, rateLimitHeaders, type RateDecision, type RequestLimiter } from '../rate-limit/request-limiter.js'
import { createUpstreamBudget, type UpstreamBudget } from '../rate-limit/upstream-budget.js'
import { upstreamKeyPrefix } from '../redis/namespace.js'
import { limitKey } from '../rate-limit/key.js'
import { handedOver } from '../http/handover.js'

/** The key's request rate for this minute is spent. */
export const RateLimitedError = retryAfterError('rate-limited', 'RATE_LIMITED', 'Too many requests from this caller in this minute', 429)

type Hook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void

declare module 'fastify' {
  interface FastifyInstance {
    requestLimiter: RequestLimiter
    upstreamBudget: UpstreamBudget
    /** The /v1 onRequest hook: counts the request (unless the hit lane did) and refuses it once the window is spent. */
    limitRequests: Hook
  }
}

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const { metrics } = fastify
  const keyPrefix = upstreamKeyPrefix(config.mor)
  const requestLimiter = createRequestLimiter(config.rateLimit.perMinute, { redis: fastify.redisStore, keyPrefix: `${keyPrefix}:rate:` })

  const limitRequests: Hook = (request, reply, done) => {
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
    // The hit lane counted a request it then handed over: counted once, by whoever saw it first.
    const decision = handedOver(request.raw)?.rate ?? requestLimiter.take(limitKey(request.caller, request.ip), request.caller?.rate)
    if (decision instanceof Promise) decision.then(apply, done)
    else apply(decision)
  }

  fastify.decorate('requestLimiter', requestLimiter)
  fastify.decorate('upstreamBudget', createUpstreamBudget(config.rateLimit.upstreamPerMinute, { redis: fastify.redisStore, keyPrefix: `${keyPrefix}:budget:` }))
  fastify.decorate('limitRequests', limitRequests)
}, { name: 'rate-limit', dependencies: ['metrics', 'redis'], fastify: '5.x' })
