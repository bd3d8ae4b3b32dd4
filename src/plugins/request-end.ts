// The start and the end of every request, whoever answers it: the access log's incoming line (at
// debug), then the request histogram, the per-caller count and the access log's completed line,
// each written by one function. Fastify's requests reach them from its hooks; the lanes
// (plugins/lanes.ts) call them for the answers they give themselves, so an answer from a lane is
// counted and logged exactly as the route's would be.
import type { IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'
import { completedLevel } from '../logging/logger.js'
import { handedOver, handover } from '../http/handover.js'
import { clientView } from '../net/forwarded.js'

/** One finished request. */
export interface Ended {
  req: IncomingMessage
  /** The request's id. */
  id: string
  /** The route template ('unmatched' for none): a label, never the URL. */
  route: string
  status: number
  /** From the request's arrival to the end of its answer. */
  ms: number
  /** The caller's label (a key's name or id, or `jwt`): never the key or token. */
  caller: string | undefined
  /**
   * The client's address and the host it asked for, by TRUST_PROXY's rules, when the caller has
   * them already; else they are worked out only if a line is logged (a hit's answer logs none).
   */
  client?: Client | undefined
}

interface Client { ip: string, host: string }

declare module 'fastify' {
  interface FastifyInstance {
    /** The access log's incoming line for a request (at debug; once, whoever sees the request first). */
    requestArrived: (req: IncomingMessage, id: string, client?: Client) => void
    /** Ends a request a lane answered: metrics and the access log, as for any other. */
    endRequest: (ended: Ended) => void
  }
}

export default fp(async (fastify) => {
  const { log, metrics } = fastify
  // Read once: LOG_LEVEL is fixed for the life of the process, and this is asked on every answer.
  const debugLevel = log.level === 'debug' || log.level === 'trace'

  const clientOf = (req: IncomingMessage, known: Client | undefined): Client => known ?? clientView(req, fastify.trust)

  function endRequest ({ req, id, route, status, ms, caller, client }: Ended): void {
    const method = req.method ?? 'GET'
    metrics.requests.observe(`${method} ${status} ${route}`, () => ({ method, route, status: String(status) }), ms / 1000)
    if (caller !== undefined) metrics.countCaller(caller)
    const level = completedLevel(status, ms)
    if (level === 'debug' && !debugLevel) return
    const trace = handedOver(req)?.trace
    // `req` as logging/logger.ts's serializer reads it (it scrubs the URL's credentials).
    log[level]({
      reqId: id,
      traceId: trace?.sampled === true ? trace.traceId : undefined,
      req: { method, url: req.url, ...clientOf(req, client) },
      res: { statusCode: status },
      caller,
      responseTime: ms
    }, 'request completed')
  }

  function requestArrived (req: IncomingMessage, id: string, client?: Client): void {
    if (!debugLevel) return
    const record = handover(req)
    // A lane that hands a request over has announced it already.
    if (record.announced === true) return
    record.announced = true
    log.debug({ reqId: id, req: { method: req.method, url: req.url, ...clientOf(req, client) } }, 'incoming request')
  }

  fastify.decorate('requestArrived', requestArrived)
  fastify.decorate('endRequest', endRequest)
  fastify.addHook('onRequest', (request, _reply, done) => {
    requestArrived(request.raw, request.id, { ip: request.ip, host: request.host })
    done()
  })
  fastify.addHook('onResponse', (request, reply, done) => {
    endRequest({
      req: request.raw,
      id: request.id,
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
      ms: reply.elapsedTime,
      caller: request.caller?.label,
      client: { ip: request.ip, host: request.host }
    })
    done()
  })
}, { name: 'request-end', dependencies: ['metrics'], fastify: '5.x' })
