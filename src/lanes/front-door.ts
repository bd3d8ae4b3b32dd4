// The gateway's HTTP server, made through Fastify's `serverFactory` option: every request meets the
// front door first. It gives the request its id and notes the connection's latest exchange (for
// plugins/problems.ts's client-error handler); then a lane (src/lanes/, installed by
// plugins/lanes.ts) may answer it before the framework, or pass it to Fastify's own handler. A
// request passed on gets its X-Request-Id on the response here, so every answer of Fastify's (a
// route's, a problem before routing) carries it; a lane puts it in the head it writes, as one list
// (a header set on the response before would make Node take each of the lane's headers apart,
// about 2 us per answer). Without a lane installed (or once the app has closed) the front door
// leads straight to Fastify's handler.
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http'
import type { FastifyServerOptions } from 'fastify'
import { REQUEST_ID_HEADER, requestId } from '../logging/request-id.js'
import { GatewayRequest, noteExchange } from '../http/handover.js'

/** A lane: answers a request itself, or calls `next` to hand it to Fastify untouched. */
export type Lane = (req: IncomingMessage, res: ServerResponse, next: () => void) => void

type Handler = (req: IncomingMessage, res: ServerResponse) => void

export interface FrontDoor {
  /** The lane every request meets first; undefined: straight to Fastify. */
  lane: Lane | undefined
}

const doors = new WeakMap<Server, FrontDoor>()

/** What every request gets on arrival: its place as its connection's latest exchange. */
export function arrive (req: IncomingMessage, res: ServerResponse): void {
  noteExchange(req, res)
}

/** A request passed on to Fastify: its id is kept, and goes on the response for whatever Fastify answers. */
export function toFramework (req: IncomingMessage, res: ServerResponse): void {
  res.setHeader(REQUEST_ID_HEADER, requestId(req))
}

/** Fastify's `serverFactory`: an http.Server whose requests meet the front door first. */
export function frontDoorServer (handler: Handler, options: FastifyServerOptions & { http?: ServerOptions | null }): Server {
  const front: FrontDoor = { lane: undefined }
  const server = createServer({ ...options.http, IncomingMessage: GatewayRequest }, (req, res) => {
    arrive(req, res)
    const lane = front.lane
    const next = () => {
      toFramework(req, res)
      handler(req, res)
    }
    if (lane === undefined) next()
    else lane(req, res, next)
  })
  // What Fastify does to the server it makes itself (fastify/lib/server.js), which a factory must
  // repeat; Fastify has filled in its defaults in these options before it calls the factory.
  server.keepAliveTimeout = options.keepAliveTimeout as number
  server.requestTimeout = options.requestTimeout as number
  server.setTimeout(options.connectionTimeout)
  if ((options.maxRequestsPerSocket ?? 0) > 0) server.maxRequestsPerSocket = options.maxRequestsPerSocket as number
  doors.set(server, front)
  return server
}

/** The front door of a server made by frontDoorServer, or undefined for any other server. */
export const frontDoorOf = (server: Server): FrontDoor | undefined => doors.get(server)
