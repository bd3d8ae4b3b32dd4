// The gateway as a Fastify plugin: everything but the process. Tests register it on their own
// instance; server.ts adds the logger, timeouts, shutdown and listen.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import type { Config } from './config.js'
import problems, { frameworkErrorProblem } from './plugins/problems.js'
import docs from './plugins/docs.js'
import { DeviceSchema } from './schemas/device.js'
import { ProblemSchema } from './schemas/problem.js'
import mor from './plugins/mor.js'
import cache from './plugins/cache.js'
import devicesRoute from './routes/devices.js'
import legacyProxy from './legacy/proxy.js'

export interface AppOptions {
  config: Config
}

/** Server options that belong to the app's behaviour, not to the process. */
export const APP_SERVER_OPTIONS = {
  // A userId longer than find-my-way's default 100 characters would otherwise be a 404 rather
  // than the 400 the contract promises.
  routerOptions: { maxParamLength: 8192 },
  frameworkErrors: frameworkErrorProblem
} satisfies FastifyServerOptions

async function app (fastify: FastifyInstance, opts: AppOptions): Promise<void> {
  // Shared schemas first: routes refer to them, and the contract names them as components.
  fastify.addSchema(DeviceSchema)
  fastify.addSchema(ProblemSchema)
  await fastify.register(problems)
  await fastify.register(docs, { config: opts.config })
  await fastify.register(mor, { settings: opts.config.mor })
  await fastify.register(cache, { config: opts.config })
  await fastify.register(devicesRoute)
  if (opts.config.legacy.enabled) await fastify.register(legacyProxy, { config: opts.config })
}

// Not encapsulated: the instance that registers the app (server.ts, a test) sees its decorators,
// e.g. the cache's Redis state. Scopes that must stay apart are encapsulated inside.
export default fp(app, { name: 'mor-gateway', fastify: '5.x' })
