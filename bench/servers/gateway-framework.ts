// The gateway with every request answered by Fastify (no front door, so no lanes): what a cache
// hit costs when it goes through the framework's request and reply objects and hook chain. An
// early-hook design for hits keeps that machinery too, so this is the measure the front door is
// weighed against (docs/decisions/hit-lane.md). Same configuration, logger and timeouts as
// `npm start`.
import Fastify from 'fastify'
import app, { appServerOptions } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { loggerOptions } from '../../src/logging/logger.js'
import { clientTimeouts } from '../../src/server.js'

const config = loadConfig(process.env)
const { serverFactory: _frontDoor, ...options } = appServerOptions(config)
const server = Fastify({ ...options, ...clientTimeouts(config), logger: loggerOptions(config.logLevel) })
await server.register(app, { config })
await server.listen({ host: '127.0.0.1', port: config.port })
