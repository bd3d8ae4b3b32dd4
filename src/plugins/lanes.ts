// Installs the lanes (src/lanes/) at the server's front door (lanes/front-door.ts, the server
// Fastify makes through `serverFactory`), and takes them away when the app closes: the hit lane for
// /v1 cache hits, the legacy lane for plain legacy GETs and small form POSTs. Both stand aside
// while the app closes or is overloaded. The hit lane needs authenticated callers (none with
// AUTH_DISABLED). What the lanes log and forward about the client comes from the same trust rules
// as Fastify's request.ip.
import type { IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { completedLevel } from '../logging/logger.js'
import { requestId } from '../logging/request-id.js'
import { createHitLane, type Lane } from '../lanes/hit-lane.js'
import { createLegacyLane } from '../lanes/legacy-lane.js'
import { createLaneLookup } from '../lanes/lookup.js'
import { frontDoorOf } from '../lanes/front-door.js'
import { DEVICES_ROUTE } from '../routes/devices.js'
import { devicesVary } from '../cache/http.js'
import { clientView, trustFunction } from '../net/forwarded.js'
import { CORS_SAME_ORIGIN } from '../net/cors.js'
import { laneTrace, tracedLane } from './tracing.js'

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const { server, log, metrics } = fastify
  // Only a server made by the app's serverFactory has a front door; on any other, Fastify answers all.
  const front = frontDoorOf(server)
  if (front === undefined) return

  // Read once: LOG_LEVEL is fixed for the life of the process, and this is asked on every answer.
  const debugLevel = log.level === 'debug' || log.level === 'trace'
  const trust = trustFunction(config.trustProxy)

  let closing = false
  fastify.addHook('preClose', (done) => { closing = true; done() })
  const open = () => !closing && fastify.isUnderPressure?.() !== true

  // What logging/logger.ts's `req` serializer reads (it scrubs the URL's credentials), as Fastify has it.
  const logged = (req: IncomingMessage) => {
    const { ip, host } = clientView(req, trust)
    return { method: req.method, url: req.url, host, ip }
  }

  /** The request id, and the access log's incoming line at debug, as Fastify writes it. */
  function identified (req: IncomingMessage): string {
    const id = requestId(req)
    if (debugLevel) log.debug({ reqId: id, req: logged(req) }, 'incoming request')
    return id
  }

  /** Request metrics and the access log's completed line, as the routes' hooks write them. */
  function completed (req: IncomingMessage, id: string, status: number, series: string, labels: () => Record<string, string>, startedAt: number, caller?: string): void {
    const ms = performance.now() - startedAt
    metrics.requests.observe(series, labels, ms / 1000)
    const level = completedLevel(status, ms)
    if (level !== 'debug' || debugLevel) {
      const trace = tracing ? laneTrace(req) : undefined
      log[level]({ reqId: id, traceId: trace?.sampled === true ? trace.traceId : undefined, req: logged(req), res: { statusCode: status }, caller, responseTime: ms }, 'request completed')
    }
  }

  // While traces are recorded, the hit lane decides each request's trace (and traces a sampled hit).
  const tracing = fastify.tracer.recording
  const untracedHitLane = fastify.auth.disabled ? undefined : createDevicesHitLane()
  const hitLane = untracedHitLane && tracing ? tracedLane(fastify.tracer, untracedHitLane, DEVICES_ROUTE) : untracedHitLane
  const legacy = fastify.hasDecorator('passthrough') ? createLegacy() : undefined
  if (!hitLane && !legacy) return

  function createDevicesHitLane (): Lane {
    const cors = config.corsOrigins.length > 0
    const hitSeries = `GET 200 ${DEVICES_ROUTE}`
    const hitLabels = () => ({ method: 'GET', route: DEVICES_ROUTE, status: '200' })
    // Counted in a plain number and read at scrape time: nothing per request but an increment.
    let answers = 0
    metrics.addCounter('gateway_hit_lane_answers_total', 'Cache hits answered by the hit lane, before the framework (also counted in the request and cache metrics)', () => answers)
    return createHitLane({
      identify: fastify.auth.authenticate,
      lookup: createLaneLookup(fastify.requestLimiter, fastify.devicesCache),
      open,
      requestId: identified,
      // What @fastify/cors adds to every answer once configured; the route reads it from the reply.
      vary: devicesVary(cors ? CORS_SAME_ORIGIN.vary : undefined),
      extraHeaders: cors ? CORS_SAME_ORIGIN.headers : [],
      served (req, id, startedAt, caller) {
        answers++
        metrics.countCacheHit()
        metrics.countCaller(caller.label)
        completed(req, id, 200, hitSeries, hitLabels, startedAt, caller.label)
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
      trust,
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
  front.lane = (req, res, next) => {
    if (legacy && req.url?.startsWith(legacy.prefix) === true) legacy.lane(req, res, next)
    else if (hitLane) hitLane(req, res, next)
    else next()
  }
  fastify.addHook('onClose', (_instance, done) => {
    front.lane = undefined
    done()
  })
}, { name: 'lanes', dependencies: ['auth', 'cache', 'metrics', 'rate-limit', 'tracing'], fastify: '5.x' })
