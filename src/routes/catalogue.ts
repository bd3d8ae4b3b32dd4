// The read routes: one GET operation per catalogue entry (src/catalogue/), and a second path for
// an entry that has one for a caller of one user (/v1/me/devices), each built from its
// description: the path and its id, the scope check, the query (documented and read from one
// schema), the cache (coalesced, stale-while-revalidate, stale-if-error, negative caching), the
// view of the entry and the contract's answers. Nothing here is about one resource.
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyPluginAsync } from 'fastify'
import type { Config } from '../config.js'
import { CATALOGUE } from '../catalogue/catalogue.js'
import type { Ask, MineRoute, Resource } from '../catalogue/resource.js'
import { cacheRef, viewOf, wholeView } from '../catalogue/view.js'
import type { CacheResult, Keyed } from '../cache/devices-cache.js'
import { isFresh } from '../cache/entry.js'
import { DeviceIdParamsSchema, UserIdParamsSchema } from '../schemas/device.js'
import { CACHE_HEADERS, jsonResponse, RATE_LIMIT_HEADERS } from '../schemas/responses.js'
import { problemResponses, type OperationId } from '../schemas/problem-answers.js'
import { mayReadDevice } from '../auth/caller.js'
import { authorizeUser } from '../plugins/auth.js'
import { devicesAnswerHeaders } from '../cache/http.js'
import { splitUrl } from '../http/url.js'
import { gatewayError } from '../problems/gateway-error.js'
import { answerVary, fetchCached, keyedAnswer, InvalidQueryError, LINK_HEADER, REQUEST_HEADERS, sendView, setHeaders, StaleCursorError } from './cached-answer.js'
import { InvalidDeviceIdError, InvalidUserIdError } from './path-ids.js'

const NotOneUserError = gatewayError('invalid-request', 'NOT_ONE_USER', 'This caller may read more than one MOR user: name the user with GET %s', 400)

/** A route template as the contract writes it: `/v1/users/{userId}/devices`. */
const contractPath = (path: string) => path.replace(/:([A-Za-z]+)/g, '{$1}')

/** The route options of a resource's operation at one of its paths: the contract's view of it. */
function operation (resource: Resource, { operationId, summary, description }: { operationId: OperationId, summary: string, description: string }, withId: boolean) {
  const { idParam } = resource.route
  return {
    attachValidation: withId,
    // The query is documented here and read by the resource's own reader (catalogue/query.ts),
    // which names the parameter at fault; request headers are documented, not validated (on a
    // cache hit, validating them cost a measurable share of the throughput).
    config: { swaggerTransform: ({ schema, url }: { schema: object, url: string }) => ({ schema: { ...schema, querystring: resource.query, headers: REQUEST_HEADERS }, url }) },
    schema: {
      operationId,
      summary,
      description,
      tags: [resource.route.apiTag],
      security: [{ bearer: [] }],
      ...(withId && idParam !== undefined ? { params: idParam === 'deviceId' ? DeviceIdParamsSchema : UserIdParamsSchema } : {}),
      response: {
        200: jsonResponse(resource.description, resource.response, { ...CACHE_HEADERS, ...RATE_LIMIT_HEADERS, ...(resource.paged === true ? LINK_HEADER : {}) }),
        304: { description: 'Not modified: the If-None-Match ETag is current', type: 'null', headers: CACHE_HEADERS },
        ...problemResponses(operationId)
      }
    }
  }
}

const catalogueRoutes: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  const keyed = (resource: Resource, ask: Ask): Keyed => keyedAnswer(fastify, resource, ask, config.cache)
  const answerOwned = ownedAnswer(fastify, config, keyed)

  /** The answer for `id` (a user the caller may read, or what the answer's owner decides). */
  async function answer (resource: Resource, request: FastifyRequest, reply: FastifyReply, id: number | undefined): Promise<FastifyReply> {
    const { path, search } = splitUrl(request.url)
    // Before any query is read or any cache lookup: the same answer whether or not the user exists.
    if (resource.whose === 'path') authorizeUser(request, id ?? 0)
    const query = resource.reader.read(search)
    if (!query.ok) throw new InvalidQueryError(query.detail)
    const ask: Ask = { id, query: query.values }
    const refused = resource.refuse?.(ask)
    if (refused !== undefined) throw new InvalidQueryError(refused)
    if (resource.whose === 'answer') return answerOwned(resource, request, reply, ask)
    const result = await fetchCached(fastify, request, (opts) => fastify.devicesCache.getKeyed(keyed(resource, ask), opts))
    const { entry } = result
    if (entry.status === 404) {
      setHeaders(reply, devicesAnswerHeaders(result, Date.now(), answerVary(reply)))
      throw resource.notFound(ask)
    }
    const viewed = viewOf(resource, entry, ask, request.caller, path, search)
    if ('refused' in viewed) throw viewed.refused === 'stale-cursor' ? new StaleCursorError() : new InvalidQueryError(viewed.detail)
    return sendView(request, reply, result, viewed)
  }

  for (const resource of CATALOGUE) {
    const { route } = resource
    const InvalidId = route.idParam === 'deviceId' ? InvalidDeviceIdError : InvalidUserIdError
    fastify.get(route.path, operation(resource, route, true), async (request, reply) => {
      if (request.validationError) throw new InvalidId()
      const id = route.idParam === undefined ? undefined : Number((request.params as Record<string, string>)[route.idParam])
      return answer(resource, request, reply, id)
    })
    const mine: MineRoute | undefined = route.mine
    if (mine !== undefined) {
      fastify.get(mine.path, operation(resource, mine, false), async (request, reply) => {
        const id = request.caller?.scope.single
        if (id === undefined) throw new NotOneUserError(contractPath(route.path))
        return answer(resource, request, reply, id)
      })
    }
  }
}

/**
 * The answer of a resource whose owner MOR names in it (a device's details): read through the
 * owner's scope, and answered as not found to a caller outside it, exactly as an absent device
 * is. "Exactly" includes when: an absent device's negative entry is fresh for the negative TTL
 * only and never stands in for MOR (budget spent, MOR down), so for such a caller a cached device
 * of another user counts as found for no longer, and no stale copy of it answers either.
 */
function ownedAnswer (fastify: FastifyInstance, config: Config, keyed: (resource: Resource, ask: Ask) => Keyed) {
  // The one header a not-found answer carries, whichever way it was not found: an absent
  // device's negative entry and an out-of-scope device's real one must not differ in any header.
  const notFoundCacheControl = `private, max-age=${config.cache.negativeTtlSeconds}`
  const notFoundTtlMs = config.cache.negativeTtlSeconds * 1000

  return async (resource: Resource, request: FastifyRequest, reply: FastifyReply, ask: Ask): Promise<FastifyReply> => {
    const { caller } = request
    const cache = fastify.devicesCache
    const notFound = () => {
      reply.header('cache-control', notFoundCacheControl)
      return resource.notFound(ask)
    }
    let result: CacheResult | undefined
    // A caller of every user reads every device: no entry needs a second look.
    if (!mayReadDevice(caller, null)) {
      const seen = await cache.inspectKeyed(cacheRef(resource, ask))
      if (seen?.status === 200 && !mayReadDevice(caller, seen.owner ?? null)) {
        // Another user's device: found no longer than a negative entry would say not found ...
        if (isFresh(seen, Date.now()) && Date.now() - seen.storedAt < notFoundTtlMs) throw notFound()
        // ... then asked of MOR again, as an absent device is, with nothing cached standing in.
        result = await fetchCached(fastify, request, (opts) => cache.getKeyed(keyed(resource, ask), { ...opts, revalidate: true, strict: true }))
      }
    }
    result ??= await fetchCached(fastify, request, (opts) => cache.getKeyed(keyed(resource, ask), opts))
    const { entry } = result
    if (entry.status === 404 || !mayReadDevice(caller, entry.owner ?? null)) throw notFound()
    return sendView(request, reply, result, wholeView(entry))
  }
}

export default catalogueRoutes
