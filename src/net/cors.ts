// Browser access (CORS_ORIGINS): the options @fastify/cors is registered with, the routes it stays
// off, and the headers it puts on an answer to a request without Origin, which the hit lane must
// send too (one source, so the lane and the route cannot drift apart).
import type { FastifyCorsOptions } from '@fastify/cors'
import type { RouteOptions } from 'fastify'

// Location and Idempotent-Replayed come with device writes; Accept-Patch with a PATCH in another format.
const EXPOSED_HEADERS = [
  'ETag', 'Cache-Status', 'Age', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'X-Request-Id', 'Location',
  'Idempotent-Replayed', 'Accept-Patch'
]

declare module 'fastify' {
  interface FastifyContextConfig {
    /** @fastify/cors's switch for one route: false leaves the route's answers, preflights included, alone. */
    cors?: false
  }
}

export function corsOptions (origins: string[]): FastifyCorsOptions {
  return {
    origin: origins,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type', 'If-None-Match', 'If-Match', 'Idempotency-Key', 'Cache-Control', 'X-Request-Id'],
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600
  }
}

/**
 * An onRoute hook that turns CORS off on every route under `prefix()` (undefined: none yet). The
 * legacy passthrough is MOR's API: an OPTIONS there is MOR's to answer (with a preflight policy
 * of MOR's own, or none), not a preflight of the gateway's, and an answer there carries MOR's
 * headers only (an Access-Control-Allow-Origin of the gateway's next to one of MOR's would make a
 * browser refuse both).
 */
export function corsOffUnder (prefix: () => string | undefined): (route: RouteOptions) => void {
  return (route) => {
    const under = prefix()
    if (under !== undefined && route.url.startsWith(`${under}/`)) route.config = { ...route.config, cors: false }
  }
}

/** With CORS configured, what every same-origin answer carries: it varies by Origin, and says what a browser may read. */
export const CORS_SAME_ORIGIN = { vary: 'Origin', headers: ['access-control-expose-headers', EXPOSED_HEADERS.join(', ')] }
