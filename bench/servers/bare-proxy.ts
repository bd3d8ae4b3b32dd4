// Baseline: @fastify/http-proxy with its defaults in front of the same upstream, no logger.
import Fastify from 'fastify'
import httpProxy from '@fastify/http-proxy'

const app = Fastify({ logger: false })
await app.register(httpProxy, { upstream: process.env.UPSTREAM ?? '', prefix: '/billing/api', rewritePrefix: '/billing/api' })
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
