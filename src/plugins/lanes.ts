// Installs the lanes (src/lanes/) at the server's front door (lanes/front-door.ts, the server
// Fastify makes through `serverFactory`), and takes them away when the app closes: the hit lane
// for fresh cache hits of the devices resources, the legacy lane for plain legacy GETs and small
// form POSTs. Both stand aside while the app closes or is overloaded (fastify.accepting). The hit
// lane needs authenticated callers (none with AUTH_DISABLED). An answer a lane gives ends as the
// framework's do (plugins/request-end.ts).
import type { IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { createHitLane } from '../lanes/hit-lane.js'
import { createLegacyLane } from '../lanes/legacy-lane.js'
import { frontDoorOf, type Lane } from '../lanes/front-door.js'
import { tracedLane } from '../lanes/traced-lane.js'
import { catalogueLaneResources } from '../lanes/catalogue.js'
import { countCacheResult } from '../cache/answer.js'
import { devicesVary } from '../cache/http.js'
import { splitUrl } from '../http/url.js'
import { CORS_SAME_ORIGIN } from '../net/cors.js'

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const { server, log, metrics, trust } = fastify
  // Only a server made by the app's serverFactory has a front door; on any other, Fastify answers all.
  const front = frontDoorOf(server)
  if (front === undefined) return

  const hitLane = fastify.auth.disabled ? undefined : createDevicesHitLane()
  const legacy = fastify.hasDecorator('passthrough') ? createLegacy() : undefined
  if (!hitLane && !legacy) return

  function createDevicesHitLane (): Lane {
    const resources = catalogueLaneResources(fastify.devicesCache)
    const cors = config.corsOrigins.length > 0
    // Counted in a plain number and read at scrape time: nothing per request but an increment.
    let answers = 0
    metrics.addCounter('gateway_hit_lane_answers_total', 'Cache hits answered by the hit lane, before the framework (also counted in the request and cache metrics)', () => answers)
    const lane = createHitLane({
      resources,
      identify: fastify.auth.authenticate,
      take: (caller) => fastify.requestLimiter.take(caller.rateKey, caller.rate),
      open: fastify.accepting,
      // What @fastify/cors adds to every answer without Origin once configured (net/cors.ts).
      vary: devicesVary(cors ? CORS_SAME_ORIGIN.vary : undefined),
      extraHeaders: cors ? CORS_SAME_ORIGIN.headers : [],
      served (req, id, route, result, startedAt, caller) {
        answers++
        countCacheResult(metrics, result)
        fastify.requestArrived(req, id)
        fastify.endRequest({ req, id, route, status: 200, ms: performance.now() - startedAt, caller: caller.label })
      },
      failed: (err) => { log.error({ err }, 'hit lane failed; the route answers instead') }
    })
    if (!fastify.tracer.recording) return lane
    // While traces are recorded, the lane decides each request's trace (and traces a sampled hit).
    const routeOf = (req: IncomingMessage) => {
      const { path } = splitUrl(req.url ?? '')
      return resources.find((r) => r.idOf(path) !== undefined)?.route ?? 'unmatched'
    }
    return tracedLane(fastify.tracer, lane, routeOf)
  }

  function createLegacy (): { prefix: string, lane: Lane } {
    const { passthrough } = fastify
    const route = `${passthrough.apiPrefix}/*`
    let answers = 0
    metrics.addCounter('gateway_legacy_lane_answers_total', 'Legacy GETs and small POSTs relayed by the legacy lane, before the framework (also counted in the request metrics)', () => answers)
    const lane = createLegacyLane({
      passthrough,
      trust,
      open: fastify.accepting,
      arrived: (req, id, client) => { fastify.requestArrived(req, id, client) },
      served (req, id, status, startedAt, client) {
        answers++
        fastify.endRequest({ req, id, route, status, ms: performance.now() - startedAt, caller: undefined, client })
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
}, { name: 'lanes', dependencies: ['auth', 'cache', 'metrics', 'rate-limit', 'tracing', 'request-end'], fastify: '5.x' })
