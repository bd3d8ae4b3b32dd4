// The gateway with fresh hits served from one early Fastify hook instead of the front door: the
// same hit lane (the same auth, rate limit, lookup and renderer), called from the root onRequest
// hook, so every hit first pays for the framework's request and reply objects, routing and the hook
// runner. The other design issue 15 weighs (docs/decisions/hit-lane.md); bench only. A hit it
// answers is also seen by Fastify's response listeners (request metrics and access log a second
// time), which a real hook design would skip with reply.hijack(): this variant is a little slower
// than that design would be.
import type { Server } from 'node:http'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { frontDoorOf, type Lane } from '../../src/lanes/front-door.js'

const config = loadConfig(process.env)
const hooked: { lane?: Lane | undefined } = {}
const server = await buildApp(config, {
  // Added first, so it runs before the app's own onRequest hooks.
  prepare: (instance) => {
    instance.addHook('onRequest', (request, reply, done) => {
      const { lane } = hooked
      if (lane === undefined) return done()
      lane(request.raw, reply.raw, () => { done() })
    })
  }
})
await server.ready()
// Taken off the front door: from here on, the lanes run only inside the hook.
const front = frontDoorOf(server.server as Server)
hooked.lane = front?.lane
if (front) front.lane = undefined
await server.listen({ host: '127.0.0.1', port: config.port })
