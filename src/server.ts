// The process: configuration, logger, graceful shutdown, listen. Everything else is in app.ts.
// First, before anything queues work: pins the hidden classes of nextTick entries (why: runtime/tick-shape.ts).
import './runtime/tick-shape.js'
import { realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import Fastify from 'fastify'
import closeWithGrace from 'close-with-grace'
import { ConfigError, loadConfig, type Config } from './config.js'
import { loggerOptions } from './logging/logger.js'
import { startupSummary } from './logging/startup-summary.js'
import app, { appServerOptions } from './app.js'

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

/** The configured server with shutdown wired, not yet listening (the demo adds to it first). */
export async function buildServer (config: Config) {
  const server = Fastify({ ...appServerOptions(config), ...clientTimeouts(config), logger: loggerOptions(config.logLevel), return503OnClosing: true })
  await server.register(app, { config })
  // While shutting down, answers close their connection: a keep-alive connection would otherwise
  // outlive the requests in flight and hold the process until the grace period kills it.
  let closing = false
  server.addHook('preClose', (done) => { closing = true; done() })
  server.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })
  // SIGHUP is not a shutdown here: it re-reads GATEWAY_API_KEYS_FILE (plugins/auth.ts).
  closeWithGrace({ delay: config.shutdownGraceMs, skip: ['SIGHUP'] }, async ({ signal, err }) => {
    if (err) server.log.error({ err }, 'closing after an uncaught error')
    else server.log.info({ signal }, 'shutting down')
    await server.close()
  })
  return server
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

// Run when started directly (npm start), not when imported by the demo.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  let config: Config | undefined
  try {
    config = loadConfig(process.env)
    const server = await buildServer(config)
    await server.listen({ host: config.host, port: config.port })
    const listeners = server.addresses().map((a) => (typeof a === 'string' ? a : `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`))
    if (config.metricsPort !== undefined) listeners.push(`internal http://${config.host}:${config.metricsPort} (/metrics, /admin)`)
    server.log.info(startupSummary(config, listeners), 'gateway started')
  } catch (err) {
    const problem = startProblem(err, config)
    if (problem === undefined) throw err
    process.stderr.write(`mor-gateway: ${problem}\n`)
    process.exit(1)
  }
}
