// Browser access (CORS_ORIGINS): the options @fastify/cors is registered with, and the headers it
// puts on an answer to a request without Origin, which the hit lane must send too (one source, so
// the lane and the route cannot drift apart).
import type { FastifyCorsOptions } from '@fastify/cors'

const EXPOSED_HEADERS = ['ETag', 'Cache-Status', 'Age', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'X-Request-Id']

export function corsOptions (origins: string[]): FastifyCorsOptions {
  return {
    origin: origins,
    methods: ['GET', 'HEAD', 'POST', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type', 'If-None-Match', 'Cache-Control', 'X-Request-Id'],
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600
  }
}

/** With CORS configured, what every same-origin answer carries: it varies by Origin, and says what a browser may read. */
export const CORS_SAME_ORIGIN = { vary: 'Origin', headers: ['access-control-expose-headers', EXPOSED_HEADERS.join(', ')] }
