// What a process that runs the gateway does around it (npm start, npm run demo): close it
// gracefully on a signal, and say in words why it could not start.
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import { ConfigError, type Config } from '../config.js'

/** SIGINT and SIGTERM (and an uncaught error) close the app, in at most SHUTDOWN_GRACE_MS. */
export function closeOnSignals (app: FastifyInstance, config: Config): void {
  // SIGHUP is not a shutdown here: it re-reads GATEWAY_API_KEYS_FILE (plugins/auth.ts).
  closeWithGrace({ delay: config.shutdownGraceMs, skip: ['SIGHUP'] }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an uncaught error')
    else app.log.info({ signal }, 'shutting down')
    await app.close()
  })
}

/**
 * Why the gateway could not start, in words that name the setting to change; undefined for
 * anything else (a bug, which keeps its stack trace).
 */
export function startProblem (err: unknown, config: Config | undefined): string | undefined {
  if (err instanceof ConfigError) return err.message
  const e = err as NodeJS.ErrnoException & { port?: number, address?: string }
  const variable = config !== undefined && e.port === config.metricsPort ? 'METRICS_PORT' : 'PORT'
  if (e.code === 'EADDRINUSE') return `port ${e.port} on ${e.address} is already in use: set ${variable} (or HOST) to a free one`
  if (e.code === 'EACCES') return `not allowed to listen on port ${e.port}: set ${variable} to a port above 1023`
  if (e.code === 'EADDRNOTAVAIL') return `${e.address} is not an address of this machine: set HOST to one that is (127.0.0.1, 0.0.0.0, ...)`
  return undefined
}
