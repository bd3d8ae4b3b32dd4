// Puts the hit lane (src/lanes/) in front of Fastify's request handler on the app's server, and
// takes it away when the app closes. It needs callers known by API key, stands aside while the app
// closes or is overloaded, and is not installed when its debug access log would need the client's
// address resolved through TRUST_PROXY, which only Fastify does.
// (A legacy lane relaying GETs to MOR the same way was built, measured and removed: it used about
// 15% less CPU per call than @fastify/http-proxy but moved the passthrough bench by nothing
// measurable, the simulator and load generator sharing the same two cores. README, Benchmark.)
import type { IncomingMessage, ServerResponse } from 'node:http'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { completedLevel } from '../logger.js'
import { requestId } from '../request-id.js'
import { bearerKeyId } from './auth.js'
import { createHitLane } from '../lanes/hit-lane.js'
import { createLaneLookup } from '../lanes/lookup.js'
import { DEVICES_ROUTE } from '../routes/devices.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const { server, log, metrics } = fastify
  const handlers = server.listeners('request') as Handler[]
  const [fastifyHandler] = handlers
  if (fastify.apiKeys.disabled || handlers.length !== 1 || fastifyHandler === undefined) return

  // Read once: LOG_LEVEL is fixed for the life of the process, and this is asked on every hit.
  const debugLevel = log.level === 'debug' || log.level === 'trace'
  // Behind a proxy the debug access log must show the client's address, which only Fastify resolves.
  if (debugLevel && config.trustProxy !== false && config.trustProxy !== 0) return

  let closing = false
  fastify.addHook('preClose', (done) => { closing = true; done() })

  // What logger.ts's `req` serializer reads (it scrubs the URL's credentials).
  const logged = (req: IncomingMessage) => ({ method: req.method, url: req.url, host: req.headers.host, ip: req.socket.remoteAddress })

  /** The request id, and the access log's incoming line at debug, as Fastify writes it. */
  function identified (req: IncomingMessage): string {
    const id = requestId(req)
    if (debugLevel) log.debug({ reqId: id, req: logged(req) }, 'incoming request')
    return id
  }

  const hitSeries = `GET 200 ${DEVICES_ROUTE}`
  const hitLabels = () => ({ method: 'GET', route: DEVICES_ROUTE, status: '200' })

  // Counted in a plain number and read at scrape time: nothing per request but an increment.
  let answers = 0
  metrics.addCounter('gateway_hit_lane_answers_total', 'Cache hits answered by the hit lane, before the framework (also counted in the request and cache metrics)', () => answers)
  const hitLane = createHitLane({
    identify: (header) => bearerKeyId(fastify.apiKeys.ring, header),
    lookup: createLaneLookup(fastify.requestLimiter, fastify.devicesCache),
    open: () => !closing && fastify.isUnderPressure?.() !== true,
    requestId: identified,
    // @fastify/cors varies every answer by Origin once it is configured.
    vary: config.corsOrigins.length > 0 ? 'Origin, Accept-Encoding' : 'Accept-Encoding',
    // Request and cache metrics, and the access log's completed line, as the route's hooks write them.
    served (req, id, startedAt) {
      const ms = performance.now() - startedAt
      answers++
      metrics.countCacheHit()
      metrics.requests.observe(hitSeries, hitLabels, ms / 1000)
      const level = completedLevel(200, ms)
      if (level !== 'debug' || debugLevel) log[level]({ reqId: id, req: logged(req), res: { statusCode: 200 }, responseTime: ms }, 'request completed')
    },
    failed: (err) => { log.error({ err }, 'hit lane failed; the route answers instead') }
  })

  const handler: Handler = (req, res) => { hitLane(req, res, () => fastifyHandler(req, res)) }
  server.removeListener('request', fastifyHandler)
  server.on('request', handler)
  fastify.addHook('onClose', (_instance, done) => {
    server.removeListener('request', handler)
    server.on('request', fastifyHandler)
    done()
  })
}, { name: 'lanes', dependencies: ['auth', 'cache', 'metrics'], fastify: '5.x' })
