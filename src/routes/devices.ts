// GET /v1/users/:userId/devices: the user's MOR devices as JSON, whole or filtered and paged;
// GET /v1/me/devices: the same for a caller whose scope is exactly one user.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { gatewayError } from '../problems/gateway-error.js'
import { UserIdParamsSchema } from '../schemas/device.js'
import { DeviceListSchema, DevicePageSchema, DevicesAnswerSchema, ListQuerySchema } from '../schemas/device-list.js'
import { CACHE_HEADERS, jsonResponse, RATE_LIMIT_HEADERS } from '../schemas/responses.js'
import { problemResponses } from '../schemas/problem-answers.js'
import { UserNotFoundError } from '../mor/errors.js'
import { authorizeUser } from '../plugins/auth.js'
import { devicesAnswerHeaders } from '../cache/http.js'
import { parseListQuery, type ListQuery } from '../paging/list-query.js'
import { splitUrl } from '../http/url.js'
import { DEVICES_ROUTE, listView, MY_DEVICES_ROUTE } from '../devices/contract.js'
import { answerVary, fetchCached, InvalidQueryError, LINK_HEADER, REQUEST_HEADERS, sendView, setHeaders, StaleCursorError } from './cached-answer.js'

export const InvalidUserIdError = gatewayError('invalid-request', 'INVALID_USER_ID', 'userId must be a decimal integer from 0 to 2147483647, without sign or leading zeros', 400)
const NotOneUserError = gatewayError('invalid-request', 'NOT_ONE_USER', 'This caller may read more than one MOR user: name the user with GET /v1/users/{userId}/devices', 400)

/** The list query of a request, or a 400 naming the parameter at fault. */
function listQueryOf (search: string): ListQuery {
  const parsed = parseListQuery(search)
  if (!parsed.ok) throw new InvalidQueryError(parsed.detail)
  return parsed.query
}

/** The answer both routes give for one user the caller may read: the list, or the page the query asks for. */
async function answerDevices (fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply, userId: number): Promise<FastifyReply> {
  const { path, search } = splitUrl(request.url)
  // A bad query is refused before the cache is asked (and MOR called).
  const query = search === '' ? undefined : listQueryOf(search)
  const result = await fetchCached(fastify, request, (opts) => fastify.devicesCache.get(userId, opts))
  const { entry } = result
  if (entry.status === 404) {
    setHeaders(reply, devicesAnswerHeaders(result, Date.now(), answerVary(reply)))
    throw new UserNotFoundError(userId)
  }
  const viewed = listView(entry, userId, path, search, query)
  if ('refused' in viewed) {
    if (viewed.refused.kind === 'stale-cursor') throw new StaleCursorError()
    throw new InvalidQueryError(viewed.refused.detail)
  }
  return sendView(request, reply, result, viewed)
}

const ANSWERS = {
  200: jsonResponse('The user\'s devices: a `DeviceList` without `limit`, a `DevicePage` with it', DevicesAnswerSchema, { ...CACHE_HEADERS, ...RATE_LIMIT_HEADERS, ...LINK_HEADER }),
  304: { description: 'Not modified: the If-None-Match ETag is current', type: 'null', headers: CACHE_HEADERS }
} as const

const devicesRoute: FastifyPluginAsyncTypebox = async (fastify) => {
  // Named answers: the contract lists them as components, so typed clients can name them too.
  fastify.addSchema(DeviceListSchema)
  fastify.addSchema(DevicePageSchema)
  fastify.get(DEVICES_ROUTE, {
    // Validation failures reach the handler, which answers with the contract's wording rather
    // than Ajv's regex dump.
    attachValidation: true,
    // The query and the request headers are documented, not validated by the framework: the route
    // reads the query with the list's own parser, and validating headers on every hit cost a
    // measurable share of the throughput of a cache hit (both are optional free-form strings anyway).
    config: { swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, querystring: ListQuerySchema, headers: REQUEST_HEADERS }, url }) },
    schema: {
      operationId: 'listUserDevices',
      summary: 'List a MOR user\'s devices',
      description: 'The devices of one MOR user, in MOR\'s order, from the cache or from MOR\'s `devices_get`. ' +
        'Filter with `type` and `primary`; page with `limit`, then `cursor` set to the answer\'s `nextCursor` (also in the `Link` header). ' +
        'Every page and filter is served from one cached copy of the list. ' +
        'Send `Cache-Control: no-cache` to revalidate with MOR, `If-None-Match` to get a 304 when nothing changed.',
      tags: ['devices'],
      security: [{ bearer: [] }],
      params: UserIdParamsSchema,
      response: { ...ANSWERS, ...problemResponses('listUserDevices') }
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
    config: { swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, querystring: ListQuerySchema, headers: REQUEST_HEADERS }, url }) },
    schema: {
      operationId: 'listMyDevices',
      summary: 'List the caller\'s own MOR user\'s devices',
      description: 'For an API key or token whose scope is exactly one MOR user: that user\'s devices, the same answer as ' +
        '`/v1/users/{thatId}/devices`, with the same filters and paging. A caller that may read several users names one with that route instead.',
      tags: ['devices'],
      security: [{ bearer: [] }],
      response: { ...ANSWERS, ...problemResponses('listMyDevices') }
    }
  }, async (request, typedReply) => {
    const userId = request.caller?.scope.single
    if (userId === undefined) throw new NotOneUserError()
    return answerDevices(fastify, request, typedReply as FastifyReply, userId)
  })
}

export default devicesRoute
