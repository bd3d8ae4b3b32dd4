// GET /v1/users/:userId/devices: the user's MOR devices as JSON.
import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyReply } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import createError from '@fastify/error'
import { Type } from 'typebox'
import { DevicesResponseSchema, UserIdParamsSchema } from '../schemas/device.js'
import { ProblemSchema } from '../schemas/problem.js'
import { UserNotFoundError } from '../mor/errors.js'
import { cacheHeaders, compressedBody, COMPRESS_MIN_BYTES, matchesIfNoneMatch, negotiate } from '../cache/http.js'

const InvalidUserIdError = createError('FST_ERR_VALIDATION', 'userId must be a decimal integer from 0 to 2147483647, without sign or leading zeros', 400)

/** `Cache-Control: no-cache` (or HTTP/1.0's `Pragma: no-cache`) asks for a fresh answer from MOR. */
function wantsRevalidation (headers: IncomingHttpHeaders): boolean {
  return /(^|[\s,])no-cache([\s,]|$)/i.test(headers['cache-control'] ?? '') || /no-cache/i.test(headers.pragma ?? '')
}

const problemResponse = (description: string) => ({ ...ProblemSchema, description })

const devicesRoute: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/v1/users/:userId/devices', {
    // Validation failures reach the handler, which answers with the contract's wording rather
    // than Ajv's regex dump.
    attachValidation: true,
    schema: {
      operationId: 'listUserDevices',
      summary: 'List a MOR user\'s devices',
      tags: ['devices'],
      params: UserIdParamsSchema,
      response: {
        200: DevicesResponseSchema,
        304: Type.Null({ description: 'Not modified: the If-None-Match ETag is current' }),
        400: problemResponse('invalid userId'),
        404: problemResponse('MOR says User not found'),
        502: problemResponse('MOR rejected the call, answered badly or could not be reached'),
        504: problemResponse('MOR did not answer in time')
      }
    }
  }, async (request, typedReply) => {
    // Bodies leave as pre-serialized bytes, which the schema-typed reply does not model.
    const reply = typedReply as FastifyReply
    if (request.validationError) throw new InvalidUserIdError()
    const userId = Number(request.params.userId)
    const result = await fastify.devicesCache.get(userId, { revalidate: wantsRevalidation(request.headers) })
    const { entry } = result
    reply.headers(cacheHeaders(result, Date.now())).header('vary', 'Accept-Encoding')
    if (entry.status === 404) throw new UserNotFoundError(userId)
    if (matchesIfNoneMatch(request.headers['if-none-match'], entry.etag)) return reply.code(304).send()
    // The body is JSON already serialized once per cache entry, so it is sent as bytes.
    reply.type('application/json; charset=utf-8')
    const coding = entry.body.length >= COMPRESS_MIN_BYTES ? negotiate(request.headers['accept-encoding']) : undefined
    if (!coding) return reply.send(entry.body)
    return reply.header('content-encoding', coding).send(await compressedBody(entry, coding))
  })
}

export default devicesRoute
