// GET /v1/users/:userId/devices: the user's MOR devices as JSON, whole or filtered and paged;
// GET /v1/me/devices: the same for a caller whose scope is exactly one user.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import createError from '@fastify/error'
import { Type } from 'typebox'
import { UserIdParamsSchema } from '../schemas/device.js'
import { DeviceListSchema, DevicePageSchema, DevicesAnswerSchema, ListQuerySchema } from '../schemas/device-list.js'
import { CACHE_HEADERS, jsonResponse, RATE_LIMIT_HEADERS } from '../schemas/responses.js'
import { problemResponses } from '../schemas/problem-answers.js'
import { UserNotFoundError } from '../mor/errors.js'
import { authorizeUser } from '../plugins/auth.js'
import { devicesAnswerHeaders } from '../cache/http.js'
import { nextPageSearch, parseListQuery, type ListQuery } from '../paging/list-query.js'
import { pageFor } from '../paging/page.js'
import { answerVary, fetchCached, InvalidQueryError, REQUEST_HEADERS, sendView, splitUrl } from './cached-answer.js'

const InvalidUserIdError = createError('INVALID_USER_ID', 'userId must be a decimal integer from 0 to 2147483647, without sign or leading zeros', 400)
const NotOneUserError = createError('NOT_ONE_USER', 'This caller may read more than one MOR user: name the user with GET /v1/users/{userId}/devices', 400)
const StaleCursorError = createError('STALE_CURSOR', 'The device list has changed since this cursor was issued: start again from the first page', 409)

/** The list query of a request, or a 400 naming the parameter at fault. */
function listQueryOf (search: string): ListQuery {
  const parsed = parseListQuery(search)
  if (!parsed.ok) throw new InvalidQueryError(parsed.detail)
  return parsed.query
}

/** RFC 8288 Link to the next page, relative to the request's own path. */
export function nextLink (path: string, query: ListQuery, cursor: string): string {
  return `<${path}?${nextPageSearch(query, cursor)}>; rel="next"`
}

const LINK_HEADER = {
  Link: Type.String({ 'x-optional': true, maxLength: 2048, pattern: '^<[^>]+>; rel="next"$', description: 'RFC 8288 `<relative URL of the next page>; rel="next"`, sent when `nextCursor` is not null' })
}

export const DEVICES_ROUTE = '/v1/users/:userId/devices'
export const MY_DEVICES_ROUTE = '/v1/me/devices'

/** The answer both routes give for one user the caller may read: the list, or the page the query asks for. */
async function answerDevices (fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply, userId: number): Promise<FastifyReply> {
  const { path, search } = splitUrl(request.url)
  const query = listQueryOf(search)
  const result = await fetchCached(fastify, request, (opts) => fastify.devicesCache.get(userId, opts))
  const { entry } = result
  if (entry.status === 404) {
    const headers = devicesAnswerHeaders(result, Date.now(), answerVary(reply))
    for (let i = 0; i + 1 < headers.length; i += 2) reply.header(headers[i] as string, headers[i + 1])
    throw new UserNotFoundError(userId)
  }
  if (search === '') return sendView(request, reply, result, { body: entry.body, etag: entry.etag, variant: '' })
  const page = pageFor(entry, userId, search, query)
  if ('refused' in page) {
    if (page.refused.kind === 'stale-cursor') throw new StaleCursorError()
    throw new InvalidQueryError(page.refused.detail)
  }
  const { view } = page.memo
  return sendView(request, reply, result, view, view.next === null ? [] : ['link', nextLink(path, query, view.next)])
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
