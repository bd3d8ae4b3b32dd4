// Puts the lanes (src/lanes/) in front of Fastify's request handler on the app's server, and takes
// them away when the app closes: the hit lane for /v1 cache hits, the legacy lane for plain legacy
// GETs. Both stand aside while the app closes or is overloaded. The hit lane needs callers known by
// API key. Neither is installed when the client's address must be resolved through TRUST_PROXY
// (for the debug access log, X-Forwarded-For and LEGACY_ALLOW_CIDRS), which only Fastify does.
import type { IncomingMessage, ServerResponse } from 'node:http'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { completedLevel } from '../logging/logger.js'
import { requestId } from '../logging/request-id.js'
import { bearerKeyId } from './auth.js'
import { createHitLane, type Lane } from '../lanes/hit-lane.js'
import { createLegacyLane } from '../lanes/legacy-lane.js'
import { createLaneLookup } from '../lanes/lookup.js'
import { DEVICES_ROUTE } from '../routes/devices.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const { server, log, metrics } = fastify
  const handlers = server.listeners('request') as Handler[]
  const [fastifyHandler] = handlers
  if (handlers.length !== 1 || fastifyHandler === undefined) return

  // Read once: LOG_LEVEL is fixed for the life of the process, and this is asked on every answer.
  const debugLevel = log.level === 'debug' || log.level === 'trace'
  // Behind a proxy the client's address is Fastify's to resolve: the debug access log shows it, and
  // the legacy passthrough forwards it (X-Forwarded-For) and checks it (LEGACY_ALLOW_CIDRS).
  const behindProxy = config.trustProxy !== false && config.trustProxy !== 0

  let closing = false
  fastify.addHook('preClose', (done) => { closing = true; done() })
  const open = () => !closing && fastify.isUnderPressure?.() !== true

  // What logging/logger.ts's `req` serializer reads (it scrubs the URL's credentials).
  const logged = (req: IncomingMessage) => ({ method: req.method, url: req.url, host: req.headers.host, ip: req.socket.remoteAddress })

  /** The request id, and the access log's incoming line at debug, as Fastify writes it. */
  function identified (req: IncomingMessage): string {
    const id = requestId(req)
    if (debugLevel) log.debug({ reqId: id, req: logged(req) }, 'incoming request')
    return id
  }

  /** Request metrics and the access log's completed line, as the routes' hooks write them. */
  function completed (req: IncomingMessage, id: string, status: number, series: string, labels: () => Record<string, string>, startedAt: number): void {
    const ms = performance.now() - startedAt
    metrics.requests.observe(series, labels, ms / 1000)
    const level = completedLevel(status, ms)
    if (level !== 'debug' || debugLevel) log[level]({ reqId: id, req: logged(req), res: { statusCode: status }, responseTime: ms }, 'request completed')
  }

  const hitLane = fastify.apiKeys.disabled || (debugLevel && behindProxy) ? undefined : createDevicesHitLane()
  const legacy = fastify.hasDecorator('passthrough') && !behindProxy ? createLegacy() : undefined
  if (!hitLane && !legacy) return

  function createDevicesHitLane (): Lane {
    const hitSeries = `GET 200 ${DEVICES_ROUTE}`
    const hitLabels = () => ({ method: 'GET', route: DEVICES_ROUTE, status: '200' })
    // Counted in a plain number and read at scrape time: nothing per request but an increment.
    let answers = 0
    metrics.addCounter('gateway_hit_lane_answers_total', 'Cache hits answered by the hit lane, before the framework (also counted in the request and cache metrics)', () => answers)
    return createHitLane({
      identify: (header) => bearerKeyId(fastify.apiKeys.ring, header),
      lookup: createLaneLookup(fastify.requestLimiter, fastify.devicesCache),
      open,
      requestId: identified,
      // @fastify/cors varies every answer by Origin once it is configured.
      vary: config.corsOrigins.length > 0 ? 'Origin, Accept-Encoding' : 'Accept-Encoding',
      served (req, id, startedAt) {
        answers++
        metrics.countCacheHit()
        completed(req, id, 200, hitSeries, hitLabels, startedAt)
      },
      failed: (err) => { log.error({ err }, 'hit lane failed; the route answers instead') }
    })
  }

  function createLegacy (): { prefix: string, lane: Lane } {
    const { passthrough } = fastify
    const route = `${passthrough.apiPrefix}/*`
    let answers = 0
    metrics.addCounter('gateway_legacy_lane_answers_total', 'Legacy GETs and small POSTs relayed by the legacy lane, before the framework (also counted in the request metrics)', () => answers)
    const lane = createLegacyLane({
      passthrough,
      open,
      requestId: identified,
      served (req, id, status, startedAt) {
        answers++
        const method = req.method ?? 'GET'
        completed(req, id, status, `${method} ${status} ${route}`, () => ({ method, route, status: String(status) }), startedAt)
      }
    })
    return { prefix: `${passthrough.apiPrefix}/`, lane }
  }

  // One lane per request, by path; whatever a lane does not answer goes to Fastify.
  const handler: Handler = (req, res) => {
    const next = () => { fastifyHandler(req, res) }
    if (legacy && req.url?.startsWith(legacy.prefix) === true) legacy.lane(req, res, next)
    else if (hitLane) hitLane(req, res, next)
    else next()
  }
  server.removeListener('request', fastifyHandler)
  server.on('request', handler)
  fastify.addHook('onClose', (_instance, done) => {
    server.removeListener('request', handler)
    server.on('request', fastifyHandler)
    done()
  })
}, { name: 'lanes', dependencies: ['auth', 'cache', 'metrics', 'rate-limit'], fastify: '5.x' })
