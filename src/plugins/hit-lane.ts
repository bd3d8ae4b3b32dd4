// Puts the hit lane (lanes/hit-lane.ts) in front of Fastify's request handler on the app's server,
// and takes it away when the app closes. Off when authentication is disabled (callers are then
// known by address, which only Fastify resolves through TRUST_PROXY).
import type { IncomingMessage, ServerResponse } from 'node:http'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
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

  let closing = false
  fastify.addHook('preClose', (done) => { closing = true; done() })
  const debugLogging = () => log.level === 'debug' || log.level === 'trace'
  const underPressure = () => fastify.isUnderPressure?.() === true
  const viaProxy = config.trustProxy !== false && config.trustProxy !== 0
  // Counted in a plain number and read at scrape time: nothing per request but an increment.
  let laneHits = 0
  metrics.addCounter('gateway_hit_lane_answers_total', 'Cache hits answered by the hit lane, before the framework (also counted in the request and cache metrics)', () => laneHits)
  const hitKey = `GET 200 ${DEVICES_ROUTE}`
  const hitLabels = () => ({ method: 'GET', route: DEVICES_ROUTE, status: '200' })

  const lane = createHitLane({
    identify: (header) => bearerKeyId(fastify.apiKeys.ring, header),
    lookup: createLaneLookup(fastify.requestLimiter, fastify.devicesCache),
    open: () => !closing && !underPressure() &&
      // Behind a proxy the debug access log must show the client's address, which Fastify resolves.
      !(viaProxy && debugLogging()),
    requestId,
    // @fastify/cors varies every answer by Origin once it is configured.
    vary: config.corsOrigins.length > 0 ? 'Origin, Accept-Encoding' : 'Accept-Encoding',
    served (req, id, startedAt) {
      const seconds = (performance.now() - startedAt) / 1000
      laneHits++
      metrics.requests.observe(hitKey, hitLabels, seconds)
      metrics.cache.inc({ result: 'hit' })
      // The access log's debug line, as Fastify's path writes it (logger.ts).
      if (debugLogging()) {
        const request = { method: req.method, url: req.url, host: req.headers.host, ip: req.socket.remoteAddress }
        log.debug({ reqId: id, req: request, res: { statusCode: 200 }, responseTime: seconds * 1000 }, 'request completed')
      }
    },
    failed: (err) => { log.error({ err }, 'hit lane failed; the route answers instead') }
  })

  const handler: Handler = (req, res) => { lane(req, res, () => fastifyHandler(req, res)) }
  server.removeListener('request', fastifyHandler)
  server.on('request', handler)
  fastify.addHook('onClose', (_instance, done) => {
    server.removeListener('request', handler)
    server.on('request', fastifyHandler)
    done()
  })
}, { name: 'hit-lane', dependencies: ['auth', 'cache', 'metrics'], fastify: '5.x' })
