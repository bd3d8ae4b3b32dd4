// The OpenAPI 3.1 contract, generated from the route schemas (the one source of truth), served at
// /openapi.json, with Swagger UI at /docs. The legacy passthrough's catch-all routes are folded
// into one operation that says what it is: raw bytes to and from MOR.
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TSchema } from 'typebox'
import type { Config } from '../config.js'
import { isProblemSlug, PROBLEM_TYPE_BASE, PROBLEM_TYPES } from '../problems/catalog.js'
import { MAX_HEADER_LENGTH, RETRY_AFTER } from '../schemas/responses.js'

type OpenApiDocument = { paths?: Record<string, Record<string, unknown>> } & Record<string, unknown>

export const API_VERSION = '1.0.0'

/**
 * Relative: whichever host serves this document, so Swagger UI calls the same gateway. Its
 * audience is external (frontends call it), hence `x-internal: false`.
 */
const SERVERS = [{ url: '/', description: 'This gateway: the host that serves this document, in any environment (local, staging, production)', 'x-internal': false }]

type Responses = Record<string, { description?: string, headers?: Record<string, unknown>, content?: Record<string, { schema?: unknown, example?: unknown }> }>

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } })

/** A header as an OpenAPI header object, from the TypeBox schema the routes use. */
function header (schema: TSchema) {
  const { description, ...rest } = schema as { description?: string }
  return { description, schema: rest }
}

/**
 * What every operation may answer, whichever route it is: the root error handler's 500 for a bug,
 * and, when CORS_ORIGINS is set, @fastify/cors's Access-Control-Allow-Origin on every answer to a
 * request from a listed origin (the legacy passthrough adds it to MOR's answer too).
 */
function withCommonAnswers (paths: Record<string, Record<string, unknown>>): void {
  const allowOrigin = {
    description: 'the request\'s Origin, echoed, when CORS_ORIGINS lists it; absent otherwise (CORS_ORIGINS unset, no Origin, or one not listed)',
    required: false,
    // It echoes a request header, which Node's parser has already bounded.
    schema: { type: 'string', pattern: '^https?://[^\\s,]+$', maxLength: MAX_HEADER_LENGTH }
  }
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      const responses = ((operation as { responses?: Responses }).responses ??= {})
      responses[500] ??= problem('`internal-error`: a bug in the gateway; the details are only in its log, under the request id in `instance`')
      for (const response of Object.values(responses)) response.headers = { ...response.headers, 'Access-Control-Allow-Origin': allowOrigin }
    }
  }
}

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

function legacyOperation (apiPrefix: string, maxBodyBytes: number) {
  const operation = (method: string) => ({
    operationId: `legacyPassthrough${method === 'get' ? 'Get' : 'Post'}`,
    summary: `Legacy MOR API passthrough (${method.toUpperCase()})`,
    description: 'Raw passthrough for legacy clients: the request goes to MOR\'s own API unchanged (the client signs it ' +
      'with u and hash as MOR expects) and MOR\'s answer comes back byte for byte, usually gzipped XML. ' +
      'The gateway does not parse, cache or document MOR\'s answers here; see the Kolmisoft MOR API documentation.',
    tags: ['legacy'],
    // No gateway credential: the client signs for MOR (u, hash), and LEGACY_ALLOW_CIDRS says who may call.
    security: [],
    'x-raw-passthrough': true,
    parameters: [{ name: 'method', in: 'path', required: true, description: 'a MOR API method such as devices_get', schema: { type: 'string', pattern: '^[A-Za-z0-9_~-][A-Za-z0-9_.~-]*$', maxLength: MAX_HEADER_LENGTH } }],
    ...(method === 'post' ? { requestBody: { description: 'passed to MOR unchanged', content: { 'application/x-www-form-urlencoded': { schema: { type: 'string', maxLength: maxBodyBytes } } } } } : {}),
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
      503: { ...problem('`overloaded`: every connection to MOR is busy and the queue behind them is full (LEGACY_CONNECTIONS + LEGACY_QUEUE)'), headers: { 'Retry-After': header(RETRY_AFTER['Retry-After']) } },
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
      if (config.legacy.enabled) Object.assign(paths, legacyOperation(apiPrefix, config.legacy.maxBodyBytes))
      withCommonAnswers(paths)
      withProblemExamples(paths)
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
