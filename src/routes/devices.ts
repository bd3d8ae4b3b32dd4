// GET /v1/users/:userId/devices: the user's MOR devices as JSON; GET /v1/me/devices: the same
// for a caller whose scope is exactly one user.
import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import createError from '@fastify/error'
import { Type } from 'typebox'
import { DevicesResponseSchema, MAX_USER_ID, UserIdParamsSchema } from '../schemas/device.js'
import { CACHE_HEADERS, jsonResponse, NEGATIVE_CACHE_HEADERS, problemResponse, RATE_LIMIT_HEADERS, RETRY_AFTER, WWW_AUTHENTICATE } from '../schemas/responses.js'
import { UserNotFoundError } from '../mor/errors.js'
import { UpstreamBudgetError, type CacheResult } from '../cache/devices-cache.js'
import type { GatewayMetrics } from '../plugins/metrics.js'
import { authorizeUser } from '../plugins/auth.js'
import { limitKeyOf } from '../plugins/rate-limit.js'
import { codedEtag, compressedBody, COMPRESS_MIN_BYTES, devicesAnswerHeaders, devicesVary, matchesIfNoneMatch, negotiate } from '../cache/http.js'

const InvalidUserIdError = createError('INVALID_USER_ID', 'userId must be a decimal integer from 0 to 2147483647, without sign or leading zeros', 400)
const NotOneUserError = createError('NOT_ONE_USER', 'This caller may read more than one MOR user: name the user with GET /v1/users/{userId}/devices', 400)

function countCacheResult (metrics: GatewayMetrics, result: CacheResult): void {
  if (result.outcome === 'hit' && result.entry.status === 200) metrics.countCacheHit()
  else metrics.cache.inc({ result: result.entry.status === 404 ? 'negative' : result.outcome })
  if (result.collapsed) metrics.cache.inc({ result: 'collapsed' })
}

const DOCUMENTED_PARAMS = Type.Object({
  userId: Type.Integer({ minimum: 0, maximum: MAX_USER_ID, description: 'MOR user id (0 is the admin), in decimal without sign or leading zeros', examples: [2] })
})

const REQUEST_HEADERS = Type.Object({
  'if-none-match': Type.Optional(Type.String({ description: 'an ETag from an earlier answer' })),
  'cache-control': Type.Optional(Type.String({ description: '`no-cache` revalidates with MOR' }))
})

/** `Cache-Control: no-cache` (or HTTP/1.0's `Pragma: no-cache`) asks for a fresh answer from MOR. */
function wantsRevalidation (headers: IncomingHttpHeaders): boolean {
  return /(^|[\s,])no-cache([\s,]|$)/i.test(headers['cache-control'] ?? '') || /no-cache/i.test(headers.pragma ?? '')
}

export const DEVICES_ROUTE = '/v1/users/:userId/devices'
export const MY_DEVICES_ROUTE = '/v1/me/devices'

/** The answer both routes give for one user the caller may read. */
async function answerDevices (fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply, userId: number): Promise<FastifyReply> {
  const caller = limitKeyOf(request)
  let result: CacheResult
  try {
    result = await fastify.devicesCache.get(userId, {
      revalidate: wantsRevalidation(request.headers),
      admit: () => fastify.upstreamBudget.take(caller) ? undefined : fastify.upstreamBudget.retryAfterSeconds(caller)
    })
  } catch (err) {
    if (err instanceof UpstreamBudgetError) fastify.metrics.rateLimited.inc({ limit: 'upstream' })
    throw err
  }
  const { entry } = result
  countCacheResult(fastify.metrics, result)
  // The coding decides the ETag (one per coding), so it is chosen before any header is written.
  const coding = entry.status === 200 && entry.body.length >= COMPRESS_MIN_BYTES ? negotiate(request.headers['accept-encoding']) : undefined
  // Vary is added to, not replaced: CORS has already said the answer varies by Origin.
  const vary = reply.getHeader('vary')
  const headers = devicesAnswerHeaders(result, Date.now(), devicesVary(vary === undefined ? undefined : String(vary)), coding)
  for (let i = 0; i + 1 < headers.length; i += 2) reply.header(headers[i] as string, headers[i + 1])
  if (entry.status === 404) throw new UserNotFoundError(userId)
  // Weak comparison against the ETag of the representation this request selects.
  if (matchesIfNoneMatch(request.headers['if-none-match'], codedEtag(entry.etag, coding))) return reply.code(304).send()
  // The body is JSON already serialized once per cache entry, so it is sent as bytes.
  reply.type('application/json; charset=utf-8')
  if (!coding) return reply.send(entry.body)
  return reply.header('content-encoding', coding).send(await compressedBody(entry, coding))
}

const COMMON_RESPONSES = {
  200: jsonResponse('The user\'s devices', DevicesResponseSchema, { ...CACHE_HEADERS, ...RATE_LIMIT_HEADERS }),
  304: { description: 'Not modified: the If-None-Match ETag is current', type: 'null', headers: CACHE_HEADERS },
  401: problemResponse('`unauthorized`: no valid API key or token in `Authorization: Bearer <value>`', WWW_AUTHENTICATE),
  404: problemResponse('`user-not-found`: MOR says User not found (cached briefly)', NEGATIVE_CACHE_HEADERS),
  429: problemResponse('`rate-limited`: this caller\'s request rate, or its budget of calls to MOR, is spent', { ...RETRY_AFTER, ...RATE_LIMIT_HEADERS }),
  502: problemResponse('`upstream-rejected`, `upstream-bad-response` or `upstream-unavailable`'),
  503: problemResponse('`upstream-unavailable`: MOR is failing and calls to it are paused (circuit open), or `overloaded`', RETRY_AFTER),
  504: problemResponse('`upstream-timeout`: MOR did not answer in time')
} as const

const devicesRoute: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(DEVICES_ROUTE, {
    // Validation failures reach the handler, which answers with the contract's wording rather
    // than Ajv's regex dump.
    attachValidation: true,
    // The request headers are documented, not validated: validating headers on every hit cost a measurable share
    // of the throughput of a cache hit, and both are optional free-form strings anyway.
    // Documented as the integer it is on the wire, so Swagger UI checks it in words ("must be an
    // integer", "less than ...") instead of quoting the validation regex; the route still refuses
    // signs and leading zeros by that pattern.
    config: { swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, params: DOCUMENTED_PARAMS, headers: REQUEST_HEADERS }, url }) },
    schema: {
      operationId: 'listUserDevices',
      summary: 'List a MOR user\'s devices',
      description: 'The devices of one MOR user, in MOR\'s order, from the cache or from MOR\'s `devices_get`. ' +
        'Send `Cache-Control: no-cache` to revalidate with MOR, `If-None-Match` to get a 304 when nothing changed.',
      tags: ['devices'],
      security: [{ bearer: [] }],
      params: UserIdParamsSchema,
      response: {
        ...COMMON_RESPONSES,
        400: problemResponse('`invalid-request`: userId is not a decimal integer from 0 to 2147483647'),
        403: problemResponse('`forbidden`: this caller may not read this user (the same answer whether or not the user exists)')
      }
    }
  }, async (request, typedReply) => {
    // Bodies leave as pre-serialized bytes, which the schema-typed reply does not model.
    const reply = typedReply as FastifyReply
    if (request.validationError) throw new InvalidUserIdError()
    const userId = Number(request.params.userId)
    authorizeUser(request, userId)
    return answerDevices(fastify, request, reply, userId)
  })

  fastify.get(MY_DEVICES_ROUTE, {
    config: { swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, headers: REQUEST_HEADERS }, url }) },
    schema: {
      operationId: 'listMyDevices',
      summary: 'List the caller\'s own MOR user\'s devices',
      description: 'For an API key or token whose scope is exactly one MOR user: that user\'s devices, the same answer as ' +
        '`/v1/users/{thatId}/devices`. A caller that may read several users names one with that route instead.',
      tags: ['devices'],
      security: [{ bearer: [] }],
      response: {
        ...COMMON_RESPONSES,
        400: problemResponse('`invalid-request`: this caller may read more than one user, so it must name one')
      }
    }
  }, async (request, typedReply) => {
    const userId = request.caller?.scope.single
    if (userId === undefined) throw new NotOneUserError()
    return answerDevices(fastify, request, typedReply as FastifyReply, userId)
  })
}

export default devicesRoute
