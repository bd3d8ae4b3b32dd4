// The gateway's HTTP server, made through Fastify's `serverFactory` option: every request meets the
// front door first, where a lane (src/lanes/, installed by plugins/lanes.ts) may answer it before
// the framework, or passes it to Fastify's own handler untouched. Without a lane installed (or once
// the app has closed) the front door is just Fastify's handler.
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http'
import type { FastifyServerOptions } from 'fastify'
import type { Lane } from './hit-lane.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

export interface FrontDoor {
  /** The lane every request meets first; undefined: straight to Fastify. */
  lane: Lane | undefined
}

const kFrontDoor = Symbol('front door')
type WithFrontDoor = Server & { [kFrontDoor]?: FrontDoor }

/** Fastify's `serverFactory`: an http.Server whose requests meet the front door first. */
export function frontDoorServer (handler: Handler, options: FastifyServerOptions & { http?: ServerOptions | null }): Server {
  const front: FrontDoor = { lane: undefined }
  const server: WithFrontDoor = createServer(options.http ?? {}, (req, res) => {
    const lane = front.lane
    if (lane === undefined) handler(req, res)
    else lane(req, res, () => { handler(req, res) })
  })
  // What Fastify does to the server it makes itself (lib/server.js), which a factory must repeat.
  server.keepAliveTimeout = options.keepAliveTimeout ?? 72_000
  server.requestTimeout = options.requestTimeout ?? 0
  server.setTimeout(options.connectionTimeout ?? 0)
  if ((options.maxRequestsPerSocket ?? 0) > 0) server.maxRequestsPerSocket = options.maxRequestsPerSocket ?? 0
  server[kFrontDoor] = front
  return server
}

/** The front door of a server made by frontDoorServer, or undefined for any other server. */
export function frontDoorOf (server: Server): FrontDoor | undefined {
  return (server as WithFrontDoor)[kFrontDoor]
}
