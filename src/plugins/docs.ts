// The OpenAPI 3.1 contract, generated from the route schemas (the one source of truth), served at
// /openapi.json, with Swagger UI at /docs. The legacy passthrough's catch-all routes are folded
// into one operation that says what it is: raw bytes to and from MOR.
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { Config } from '../config.js'
import { isProblemSlug, PROBLEM_TYPE_BASE, PROBLEM_TYPES } from '../problems/catalog.js'

type OpenApiDocument = { paths?: Record<string, Record<string, unknown>> } & Record<string, unknown>

export const API_VERSION = '1.0.0'

type Responses = Record<string, { description?: string, content?: Record<string, { example?: unknown }> }>

/**
 * Gives every problem response an example with its own status: the slug is the first one its
 * description names (descriptions start with it, in backticks), the detail the rest of the text.
 */
function withProblemExamples (paths: Record<string, Record<string, unknown>>): void {
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      const responses = (operation as { responses?: Responses }).responses ?? {}
      for (const [status, response] of Object.entries(responses)) {
        const media = response.content?.['application/problem+json']
        const slug = /^`([a-z-]+)`/.exec(response.description ?? '')?.[1]
        if (!media || media.example !== undefined || slug === undefined || !isProblemSlug(slug)) continue
        const detail = (response.description ?? '').replace(/^[^:]*:\s*/, '')
        media.example = { type: PROBLEM_TYPE_BASE + slug, title: PROBLEM_TYPES[slug].title, status: Number(status), detail: detail.charAt(0).toUpperCase() + detail.slice(1), instance: 'urn:uuid:3f0c2a57-9a1e-4c1d-8b2f-6f4e2d1c0b9a' }
      }
    }
  }
}

function legacyOperation (apiPrefix: string) {
  const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } })
  const operation = (method: string) => ({
    operationId: `legacyPassthrough${method === 'get' ? 'Get' : 'Post'}`,
    summary: `Legacy MOR API passthrough (${method.toUpperCase()})`,
    description: 'Raw passthrough for legacy clients: the request goes to MOR\'s own API unchanged (the client signs it ' +
      'with u and hash as MOR expects) and MOR\'s answer comes back byte for byte, usually gzipped XML. ' +
      'The gateway does not parse, cache or document MOR\'s answers here; see the Kolmisoft MOR API documentation.',
    tags: ['legacy'],
    'x-raw-passthrough': true,
    parameters: [{ name: 'method', in: 'path', required: true, description: 'a MOR API method such as devices_get', schema: { type: 'string', pattern: '^[A-Za-z0-9_~-][A-Za-z0-9_.~-]*$' } }],
    ...(method === 'post' ? { requestBody: { description: 'passed to MOR unchanged', content: { 'application/x-www-form-urlencoded': { schema: { type: 'string' } } } } } : {}),
    responses: {
      200: {
        description: 'MOR\'s answer, unchanged: XML, usually gzipped (with or without Content-Encoding: gzip, depending on the MOR version)',
        content: {
          'text/xml': { schema: { type: 'string', contentMediaType: 'text/xml' } },
          'application/gzip': { schema: { type: 'string', contentMediaType: 'application/gzip', contentEncoding: 'binary' } }
        }
      },
      400: problem('`invalid-request`: the path is not a plain MOR API method, or the request is not valid HTTP'),
      403: problem('`forbidden`: the client address is outside LEGACY_ALLOW_CIDRS'),
      408: problem('`request-timeout`: the request did not arrive within REQUEST_TIMEOUT_MS'),
      413: problem('`payload-too-large`: the body is over LEGACY_MAX_BODY_BYTES'),
      502: problem('`upstream-unavailable`: MOR could not be reached'),
      503: { ...problem('`overloaded`: every connection to MOR is busy and the queue behind them is full (LEGACY_CONNECTIONS + LEGACY_QUEUE)'), headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer', minimum: 1 } } } },
      504: problem('`upstream-timeout`: MOR did not answer in time')
    }
  })
  return { [`${apiPrefix}/{method}`]: { get: operation('get'), post: operation('post') } }
}

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const apiPrefix = `${new URL(config.mor.baseUrl).pathname.replace(/\/+$/, '')}/api`
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'MOR devices gateway',
        version: API_VERSION,
        description: 'A JSON API in front of Kolmisoft MOR\'s legacy XML API. Errors are RFC 9457 problems (`application/problem+json`) whose `type` ends in a stable slug.'
      },
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
      if (config.legacy.enabled) Object.assign(paths, legacyOperation(apiPrefix))
      withProblemExamples(paths)
      return { ...doc, paths }
    }
  })
  await fastify.register(swaggerUi, { routePrefix: '/docs', uiConfig: { tryItOutEnabled: true, displayOperationId: true, persistAuthorization: true } })
  fastify.get('/openapi.json', { schema: { hide: true } }, async () => fastify.swagger())
  // The gateway's root is where a person lands first: the documentation.
  // The router also lands an asterisk-form target (`GET *`) here: that one is not the root.
  fastify.get('/', { schema: { hide: true } }, async (request, reply) => request.url === '/' ? reply.redirect('/docs', 302) : reply.callNotFound())
}, { name: 'docs', fastify: '5.x' })
