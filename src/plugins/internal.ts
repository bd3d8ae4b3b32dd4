// The internal listener (METRICS_PORT): what only Prometheus and operators may reach, GET /metrics
// and the cache purge, on a small Fastify instance of its own beside the public app. Its own
// instance, so nothing of the public app (keys, rate limits, CORS, the lanes, the passthrough)
// applies to it and none of its routes exists on the public port; its answers are problems like
// the public ones, and its log lines go to the app's log. Without METRICS_PORT there is none.
import Fastify, { type FastifyInstance, type FastifySchemaValidationError } from 'fastify'
import fp from 'fastify-plugin'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { AccessLogController } from '../logging/logger.js'
import { requestId } from '../logging/request-id.js'
import problems from './problems.js'

export interface InternalListener {
  /** Whether the gateway has one: METRICS_PORT is set. */
  readonly enabled: boolean
  /**
   * Routes of the internal listener only, never of the public port, registered on its instance as
   * a plugin when it starts (so while the app registers, not later). Without an internal listener
   * they are not served.
   */
  addRoutes: (routes: FastifyPluginAsyncTypebox) => void
}

declare module 'fastify' {
  interface FastifyInstance {
    internalListener: InternalListener
  }
}

/**
 * A validation failure in the words of the schema (the description of the value at fault, which
 * states the rule) rather than Ajv's dump of a pattern; Ajv's own message where there is none.
 */
function schemaErrorMessage (errors: FastifySchemaValidationError[], dataVar: string): Error {
  const error = errors[0]
  const field = error?.instancePath.slice(1) ?? ''
  // Ajv's `verbose` option puts the schema holding the failed keyword on the error.
  const description = (error as { parentSchema?: { description?: unknown } } | undefined)?.parentSchema?.description
  if (field !== '' && typeof description === 'string') return new Error(`Invalid ${field}. Expected ${description}`)
  return new Error(`${dataVar}${error?.instancePath ?? ''} ${error?.message ?? 'is not valid'}`)
}

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const port = config.metricsPort
  const pending: FastifyPluginAsyncTypebox[] = []
  let started = false
  let internal: FastifyInstance | undefined
  const listener: InternalListener = {
    enabled: port !== undefined,
    addRoutes (routes) {
      if (started) throw new Error('internal routes are added while the app registers, before it is ready')
      pending.push(routes)
    }
  }
  fastify.decorate('internalListener', listener)
  if (port === undefined) return

  fastify.addHook('onReady', async () => {
    started = true
    internal = Fastify({
      // The app's log, marked. No access lines for scrapes and purges (the public port's are
      // written by plugins/request-end.ts, which counts only the public API); a failure is logged
      // by the problems' error handler, a broken answer stream by the log controller.
      loggerInstance: fastify.log.child({ listener: 'internal' }),
      logController: new AccessLogController(),
      genReqId: requestId,
      ajv: { customOptions: { verbose: true } },
      schemaErrorFormatter: schemaErrorMessage,
      // While it closes, a request on a kept-alive connection is refused, not started.
      return503OnClosing: true
    })
    await internal.register(problems)
    for (const routes of pending) await internal.register(routes)
    try {
      await internal.listen({ host: config.host, port, listenTextResolver: (address) => `Internal listener at ${address}` })
    } catch (err) {
      await internal.close()
      internal = undefined
      throw err
    }
  })
  // Closed as soon as the app starts closing, not in onClose: the app's onClose hooks run in the
  // reverse order of registration, so Redis and the cache would close first, under purges still
  // in flight or arriving here. Closing waits for those to finish.
  fastify.addHook('preClose', async () => {
    await internal?.close()
    internal = undefined
  })
}, { name: 'internal-listener', fastify: '5.x' })
