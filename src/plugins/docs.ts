// The OpenAPI 3.1 contract, generated from the route schemas (the one source of truth), served at
// /openapi.json, with Swagger UI at /docs. The legacy passthrough's catch-all routes are folded
// into one path that says what it is: raw bytes to and from MOR (schemas/legacy.ts). Every
// operation's problems come from one table (schemas/problem-answers.ts).
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { Config } from '../config.js'
import { MAX_HEADER_LENGTH } from '../schemas/responses.js'
import { legacyPathItem } from '../schemas/legacy.js'

type OpenApiDocument = { paths?: Record<string, Record<string, unknown>> } & Record<string, unknown>

export const API_VERSION = '1.0.0'

/**
 * Relative: whichever host serves this document, so Swagger UI calls the same gateway. Its
 * audience is external (frontends call it), hence `x-internal: false`.
 */
const SERVERS = [{ url: '/', description: 'This gateway: the host that serves this document, in any environment (local, staging, production)', 'x-internal': false }]

type Responses = Record<string, { headers?: Record<string, unknown> }>

/**
 * What every answer may carry, whichever route gives it: when CORS_ORIGINS is set, @fastify/cors's
 * Access-Control-Allow-Origin on every answer to a request from a listed origin. The legacy
 * passthrough adds none of its own (CORS stays off it, net/cors.ts); there it is whatever MOR sends.
 */
function withCorsHeader (paths: Record<string, Record<string, unknown>>): void {
  const allowOrigin = {
    description: 'the request\'s Origin, echoed, when CORS_ORIGINS lists it; absent otherwise (CORS_ORIGINS unset, no Origin, or one not listed)',
    required: false,
    // It echoes a request header, which Node's parser has already bounded.
    schema: { type: 'string', pattern: '^https?://[^\\s,]+$', maxLength: MAX_HEADER_LENGTH }
  }
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      for (const response of Object.values((operation as { responses?: Responses }).responses ?? {})) {
        response.headers = { ...response.headers, 'Access-Control-Allow-Origin': allowOrigin }
      }
    }
  }
}

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const apiPrefix = `${new URL(config.mor.baseUrl).pathname.replace(/\/+$/, '')}/api`
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'MOR devices gateway',
        version: API_VERSION,
        description: 'A JSON API in front of Kolmisoft MOR\'s legacy XML API. Errors are RFC 9457 problems (`application/problem+json`) whose `type` ends in a stable slug.',
        // The package is private: no licence is granted.
        license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' }
      },
      servers: SERVERS,
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'A gateway API key (GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE), or a JWT from the identity provider set by JWT_JWKS_URL ' +
              '(a value of three base64url parts joined by dots is read as a JWT). Either may be limited to some MOR users; others get 403.'
          }
        }
      },
      tags: [
        { name: 'devices', description: 'MOR devices as JSON' },
        { name: 'users', description: 'MOR users, their accounts, calls and payments as JSON: MOR\'s read methods, each described once in the catalogue' },
        { name: 'operations', description: 'Health checks for orchestrators (metrics are at /metrics, Prometheus text)' },
        { name: 'legacy', description: 'MOR\'s own API, passed through unchanged' }
      ]
    },
    // Components take their schema's $id as name (Device, Problem), not def-N.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}` },
    transformObject: (documentObject) => {
      const doc = ('openapiObject' in documentObject ? documentObject.openapiObject : {}) as OpenApiDocument
      const paths: Record<string, Record<string, unknown>> = {}
      for (const [path, item] of Object.entries(doc.paths ?? {})) {
        if (!path.startsWith(`${apiPrefix}/`) && path !== apiPrefix) paths[path] = item
      }
      if (config.legacy.enabled) Object.assign(paths, legacyPathItem(apiPrefix, config.legacy.maxBodyBytes))
      withCorsHeader(paths)
      // A schema several answers share would come out of the YAML as an anchor and aliases: each
      // place gets its own copy, written out.
      return JSON.parse(JSON.stringify({ ...doc, paths })) as OpenApiDocument
    }
  })
  // Off in production when wanted: the contract is still built (npm run openapi), only not served.
  if (!config.docsEnabled) return
  await fastify.register(swaggerUi, { routePrefix: '/docs', uiConfig: { tryItOutEnabled: true, displayOperationId: true, persistAuthorization: true } })
  fastify.get('/openapi.json', { schema: { hide: true } }, async () => fastify.swagger())
  // The gateway's root is where a person lands first: the documentation.
  // The router also lands an asterisk-form target (`GET *`) here: that one is not the root.
  fastify.get('/', { schema: { hide: true } }, async (request, reply) => request.url === '/' ? reply.redirect('/docs', 302) : reply.callNotFound())
}, { name: 'docs', fastify: '5.x' })
