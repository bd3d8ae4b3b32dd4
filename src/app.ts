// The gateway: `buildApp(config)` makes the Fastify instance with everything but the process (its
// server options, its front door, its closing behaviour, its plugins and routes); server.ts adds
// signal handling and listens. Tests, the bench and the demo build it the same way. Registration
// order is the architecture: shared schemas, external plugins, the gateway's services, routes,
// and last the lanes that answer before the framework.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import cors from '@fastify/cors'
import type { Config } from './config.js'
import { DeviceSchema } from './schemas/device.js'
import { ProblemSchema } from './schemas/problem.js'
import { CATALOGUE } from './catalogue/catalogue.js'
import problems, { clientErrorProblem, frameworkErrorProblem } from './plugins/problems.js'
import loadShedding from './plugins/load-shedding.js'
import docs from './plugins/docs.js'
import tracing from './plugins/tracing.js'
import { AccessLogController, loggerOptions } from './logging/logger.js'
import metrics from './plugins/metrics.js'
import requestEnd from './plugins/request-end.js'
import auth from './plugins/auth.js'
import mor from './plugins/mor.js'
import redis from './plugins/redis.js'
import rateLimit from './plugins/rate-limit.js'
import cache from './plugins/cache.js'
import invalidation from './plugins/invalidation.js'
import idempotency from './plugins/idempotency.js'
import v1 from './routes/v1.js'
import problemPages from './routes/problem-pages.js'
import health from './routes/health.js'
import legacyUpstream from './plugins/legacy-upstream.js'
import legacyProxy from './routes/legacy.js'
import lanes from './plugins/lanes.js'
import { REQUEST_ID_HEADER, requestId } from './logging/request-id.js'
import { trustFunction, type Trust } from './net/forwarded.js'
import { arrive, frontDoorServer, toFramework } from './lanes/front-door.js'
import { corsOffUnder, corsOptions } from './net/cors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** TRUST_PROXY's trust function: the one rule for request.ip, the lanes' logs and X-Forwarded-For. */
    trust: Trust
    /** False once the app is closing or overloaded: the lanes stand aside then. */
    accepting: () => boolean
  }
}

export interface BuildOptions {
  /** Where log lines go (tests capture them); default: standard output. */
  logStream?: { write: (line: string) => void }
  /** False: Fastify's own server, without the front door and so without lanes (the bench's framework-only measure). */
  frontDoor?: boolean
  /** Runs on the instance before the gateway is registered (the bench's hook variant adds its hook first). */
  prepare?: (instance: FastifyInstance) => void
}

/**
 * How long a client may take to send a request: its headers, and the whole of it (body included).
 * Fastify's own default is no limit at all, and Node checks its limits only every 30 s unless told
 * otherwise; a client past the limit gets 408 (plugins/problems.ts). The wait for the answer is
 * bounded elsewhere (UPSTREAM_TIMEOUT_MS).
 */
export function clientTimeouts ({ client }: Config) {
  return {
    requestTimeout: client.requestTimeoutMs,
    http: {
      requestTimeout: client.requestTimeoutMs,
      headersTimeout: client.headersTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.floor(client.headersTimeoutMs / 4))
    }
  }
}

/** The server options the gateway's behaviour depends on. */
function serverOptions (config: Config, trust: Trust, { logStream, frontDoor = true }: BuildOptions) {
  return {
    ...clientTimeouts(config),
    // A userId longer than find-my-way's default 100 characters would otherwise be a 404 rather
    // than the 400 the contract promises.
    routerOptions: { maxParamLength: 8192 },
    // The server Fastify listens with: its front door lets the lanes answer before the framework.
    ...(frontDoor ? { serverFactory: frontDoorServer } : {}),
    frameworkErrors: frameworkErrorProblem,
    clientErrorHandler: clientErrorProblem,
    genReqId: requestId,
    logController: new AccessLogController(),
    logger: logStream === undefined ? loggerOptions(config.logLevel) : { ...loggerOptions(config.logLevel), stream: logStream },
    return503OnClosing: true,
    // A hop count as proxy-addr's trust function: trust the first `hops` addresses from the socket.
    trustProxy: config.trustProxy === false ? false : trust
  } satisfies FastifyServerOptions
}

/** While the app closes, answers close their connection, and the lanes hand everything to Fastify. */
function closing (fastify: FastifyInstance): void {
  let closed = false
  fastify.addHook('preClose', (done) => { closed = true; done() })
  // A keep-alive connection would otherwise outlive the requests in flight and hold the process
  // until the grace period kills it.
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (closed) reply.header('connection', 'close')
    done(null, payload)
  })
  fastify.decorate('accepting', () => !closed && !fastify.overloaded())
}

async function gateway (fastify: FastifyInstance, { config, trust }: { config: Config, trust: Trust }): Promise<void> {
  fastify.decorate('trust', trust)
  // Shared schemas first: routes refer to them, and the contract names them as components.
  fastify.addSchema(DeviceSchema)
  fastify.addSchema(ProblemSchema)
  // Each catalogue answer's components (the writes answer with DeviceDetails too).
  for (const resource of CATALOGUE) for (const component of resource.components) fastify.addSchema(component)

  await fastify.register(problems)
  await fastify.register(docs, { config })
  await fastify.register(loadShedding, { maxEventLoopDelayMs: config.maxEventLoopDelayMs })
  closing(fastify)
  if (config.corsOrigins.length > 0) {
    // Not on the passthrough, which the legacy plugins below add (net/cors.ts says why).
    fastify.addHook('onRoute', corsOffUnder(() => (fastify.hasDecorator('passthrough') ? fastify.passthrough.apiPrefix : undefined)))
    await fastify.register(cors, corsOptions(config.corsOrigins))
  }

  await fastify.register(metrics, { config })
  await fastify.register(requestEnd)
  await fastify.register(tracing, { config })
  await fastify.register(auth, { config })
  await fastify.register(redis, { config })
  await fastify.register(rateLimit, { config })
  await fastify.register(mor, { config })
  await fastify.register(cache, { config })
  await fastify.register(invalidation, { config })
  await fastify.register(idempotency, { config })

  await fastify.register(v1, { config })
  await fastify.register(health, { config })
  await fastify.register(problemPages)
  if (config.legacy.enabled) {
    await fastify.register(legacyUpstream, { config })
    await fastify.register(legacyProxy)
  }
  // Last: the lanes answer cache hits and legacy GETs before Fastify sees them, as the routes above would.
  await fastify.register(lanes, { config })
}

// Not encapsulated: the instance sees the gateway's decorators (e.g. the cache's Redis state).
// Scopes that must stay apart are encapsulated inside.
const gatewayPlugin = fp(gateway, { name: 'mor-gateway', fastify: '5.x' })

/** The gateway, built and registered, not yet listening. */
export async function buildApp (config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  // One trust function for request.ip and everything that reads a raw request (lanes, passthrough).
  const trust = trustFunction(config.trustProxy)
  const app = Fastify(serverOptions(config, trust, options))
  // A request that did not come through a front door (Fastify's inject, or a server without one)
  // gets on arrival what the front door gives every other request.
  app.addHook('onRequest', (request, reply, done) => {
    if (!reply.raw.hasHeader(REQUEST_ID_HEADER)) {
      arrive(request.raw, reply.raw)
      toFramework(request.raw, reply.raw)
    }
    done()
  })
  options.prepare?.(app)
  await app.register(gatewayPlugin, { config, trust })
  return app
}
