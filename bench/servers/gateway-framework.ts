// The gateway with every request answered by Fastify (no front door, so no lanes): what a cache
// hit costs when it goes through the framework's request and reply objects and hook chain. An
// early-hook design for hits keeps that machinery too, so this is the measure the front door is
// weighed against (docs/decisions/hit-lane.md). Built as `npm start` builds it, front door aside.
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'

const config = loadConfig(process.env)
const server = await buildApp(config, { frontDoor: false })
await server.listen({ host: '127.0.0.1', port: config.port })
