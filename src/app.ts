// The gateway as a Fastify plugin: everything but the process. Tests register it on their own
// instance; server.ts adds the logger, shutdown and listen. Registration order is the
// architecture: shared schemas, external plugins, the gateway's services, then routes.
import fp from 'fastify-plugin'
import cors from '@fastify/cors'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import type { Config } from './config.js'
import { DeviceSchema } from './schemas/device.js'
import { ProblemSchema } from './schemas/problem.js'
import problems, { clientErrorProblem, frameworkErrorProblem } from './plugins/problems.js'
import { OverloadedError } from './problems/retry-after.js'
import docs from './plugins/docs.js'
import tracing from './plugins/tracing.js'
import { AccessLogController } from './logging/logger.js'
import metrics from './plugins/metrics.js'
import auth from './plugins/auth.js'
import mor from './plugins/mor.js'
import redis from './plugins/redis.js'
import rateLimit from './plugins/rate-limit.js'
import cache from './plugins/cache.js'
import invalidation from './plugins/invalidation.js'
import v1 from './routes/v1.js'
import problemPages from './routes/problem-pages.js'
import health from './routes/health.js'
import legacyUpstream from './legacy/upstream.js'
import legacyProxy from './legacy/proxy.js'
import lanes from './plugins/lanes.js'
import { requestId } from './logging/request-id.js'
import { trustFunction } from './net/forwarded.js'
import { frontDoorServer } from './lanes/front-door.js'
import { corsOffUnder, corsOptions } from './net/cors.js'

export interface AppOptions {
  config: Config
}

/** Server options that belong to the app's behaviour, not to the process. */
export function appServerOptions (config: Config) {
  return {
    // A userId longer than find-my-way's default 100 characters would otherwise be a 404 rather
    // than the 400 the contract promises.
    routerOptions: { maxParamLength: 8192 },
    // The server Fastify listens with: its front door lets the lanes answer before the framework.
    serverFactory: frontDoorServer,
    frameworkErrors: frameworkErrorProblem,
    clientErrorHandler: clientErrorProblem,
    genReqId: requestId,
    logController: new AccessLogController(),
    // A hop count as proxy-addr's trust function: trust the first `hops` addresses from the socket.
    // One trust function for request.ip and the X-Forwarded-For the passthrough sends.
    trustProxy: config.trustProxy === false ? false : trustFunction(config.trustProxy)
  } satisfies FastifyServerOptions
}

async function app (fastify: FastifyInstance, { config }: AppOptions): Promise<void> {
  // Shared schemas first: routes refer to them, and the contract names them as components.
  fastify.addSchema(DeviceSchema)
  fastify.addSchema(ProblemSchema)
  // Callback-style hooks on the hot path: an async hook costs a promise per request.
  fastify.addHook('onRequest', (request, reply, done) => { reply.header('x-request-id', request.id); done() })

  await fastify.register(problems)
  await fastify.register(docs, { config })
  await fastify.register(underPressure, {
    maxEventLoopDelay: config.maxEventLoopDelayMs,
    pressureHandler: (_request, reply) => { reply.send(new OverloadedError()) }
  })
  if (config.corsOrigins.length > 0) {
    // Not on the passthrough, which the legacy plugins below add (net/cors.ts says why).
    fastify.addHook('onRoute', corsOffUnder(() => (fastify.hasDecorator('passthrough') ? fastify.passthrough.apiPrefix : undefined)))
    await fastify.register(cors, corsOptions(config.corsOrigins))
  }

  await fastify.register(metrics, { config })
  await fastify.register(tracing, { config })
  await fastify.register(auth, { config })
  await fastify.register(redis, { config })
  await fastify.register(rateLimit, { config })
  await fastify.register(mor, { config })
  await fastify.register(cache, { config })
  await fastify.register(invalidation, { config })

  await fastify.register(v1, { config })
  await fastify.register(health, { config })
  await fastify.register(problemPages)
  if (config.legacy.enabled) {
    await fastify.register(legacyUpstream, { config })
    await fastify.register(legacyProxy, { config })
  }
  // Last: the lanes answer cache hits and legacy GETs before Fastify sees them, as the routes above would.
  await fastify.register(lanes, { config })
}

// Not encapsulated: the instance that registers the app (server.ts, a test) sees its decorators,
// e.g. the cache's Redis state. Scopes that must stay apart are encapsulated inside.
export default fp(app, { name: 'mor-gateway', fastify: '5.x' })
