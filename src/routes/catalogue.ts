// The catalogue's routes: one GET operation per catalogue entry (src/catalogue/), each built from
// its description: the path and its id, the query (documented and read from one schema), the
// scope check, the cache (coalesced, stale-while-revalidate, stale-if-error, negative caching, as
// device lists are), the view of the entry and the contract's answers. Nothing here is about one
// resource.
import type { FastifyReply } from 'fastify'
import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import type { Config } from '../config.js'
import { CATALOGUE } from '../catalogue/catalogue.js'
import type { Ask, Resource } from '../catalogue/resource.js'
import { catalogueView, keyOf } from '../catalogue/view.js'
import type { Keyed } from '../cache/devices-cache.js'
import { UserIdParamsSchema } from '../schemas/device.js'
import { CACHE_HEADERS, jsonResponse, RATE_LIMIT_HEADERS } from '../schemas/responses.js'
import { problemResponses } from '../schemas/problem-answers.js'
import { UserNotFoundError } from '../mor/errors.js'
import { authorizeUser, ForbiddenReadError } from '../plugins/auth.js'
import { devicesAnswerHeaders } from '../cache/http.js'
import { splitUrl } from '../http/url.js'
import { answerVary, fetchCached, InvalidQueryError, LINK_HEADER, REQUEST_HEADERS, sendView, setHeaders, StaleCursorError } from './cached-answer.js'
import { InvalidUserIdError } from './devices.js'

const catalogueRoutes: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  /** The cache's handle on what `ask` asks of `resource`. */
  const keyed = (resource: Resource, ask: Ask, now: number): Keyed => ({
    key: keyOf(resource, ask),
    life: resource.life(ask, now, config.cache),
    fetch: (trace) => fastify.mor.getResource(resource, ask, trace)
  })

  for (const resource of CATALOGUE) {
    const { route } = resource
    fastify.addSchema(resource.answer)
    fastify.get(route.path, {
      attachValidation: true,
      // The query is documented here and read by the resource's own reader (catalogue/query.ts),
      // which names the parameter at fault; request headers are documented, not validated.
      config: { swaggerTransform: ({ schema, url }: { schema: object, url: string }) => ({ schema: { ...schema, querystring: resource.query, headers: REQUEST_HEADERS }, url }) },
      schema: {
        operationId: route.operationId,
        summary: route.summary,
        description: route.description,
        tags: ['users'],
        security: [{ bearer: [] }],
        ...(route.idParam === undefined ? {} : { params: UserIdParamsSchema }),
        response: {
          200: jsonResponse(resource.description, Type.Unsafe({ $ref: `${resource.schemaId}#` }), { ...CACHE_HEADERS, ...RATE_LIMIT_HEADERS, ...(resource.paged === true ? LINK_HEADER : {}) }),
          304: { description: 'Not modified: the If-None-Match ETag is current', type: 'null', headers: CACHE_HEADERS },
          ...problemResponses(route.operationId)
        }
      }
    }, async (request, reply: FastifyReply) => {
      if (request.validationError) throw new InvalidUserIdError()
      const { path, search } = splitUrl(request.url)
      const query = resource.reader.read(search)
      if (!query.ok) throw new InvalidQueryError(query.detail)
      const ask: Ask = { id: route.idParam === undefined ? undefined : Number((request.params as Record<string, string>)[route.idParam]), query: query.values }
      const refused = resource.refuse?.(ask)
      if (refused !== undefined) throw new InvalidQueryError(refused)
      const user = resource.user(ask)
      // Before any cache lookup: the same answer whether or not the user exists.
      if (user !== undefined) authorizeUser(request, user, ForbiddenReadError)
      const now = Date.now()
      const result = await fetchCached(fastify, request, (opts) => fastify.devicesCache.getKeyed(keyed(resource, ask, now), opts))
      const { entry } = result
      if (entry.status === 404) {
        setHeaders(reply, devicesAnswerHeaders(result, Date.now(), answerVary(reply)))
        throw new UserNotFoundError(user ?? 0)
      }
      const viewed = catalogueView(resource, entry, ask, request.caller, path, search)
      if ('refused' in viewed) {
        if (viewed.refused === 'stale-cursor') throw new StaleCursorError()
        throw new InvalidQueryError('Query parameter "cursor" is not a cursor this gateway issued for this list')
      }
      return sendView(request, reply, result, viewed)
    })
  }
}

export default catalogueRoutes
