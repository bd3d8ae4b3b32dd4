// The /v1 scope: every route in it needs an API key and counts against that key's rate limit.
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { identifyCaller, requireCaller } from '../plugins/auth.js'
import devicesRoute from './devices.js'

export default async function v1 (fastify: FastifyInstance, _opts: { config: Config }) {
  // Identify, then rate-limit (per key, or per address for callers without a valid key), then
  // refuse the unauthenticated: so failed attempts are limited too.
  fastify.addHook('onRequest', identifyCaller)
  fastify.addHook('onRequest', fastify.limitRequests)
  fastify.addHook('preValidation', requireCaller)
  await fastify.register(devicesRoute)
}
