// GET /v1/devices/:deviceId: one device's details, from MOR's device_details_get through the same
// cache as the lists (coalesced, stale-while-revalidate, stale-if-error, negative caching). A
// device is read through its owner's scope: one outside the caller's users is answered exactly
// as one that does not exist, so a scoped caller cannot probe which device ids exist. "Exactly"
// includes when: an absent device's negative entry is fresh for the negative TTL only and never
// stands in for MOR (budget spent, MOR down), so for such a caller a cached device of another
// user counts as found for no longer, and no stale copy of it answers either.
import type { FastifyReply } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { gatewayError } from '../problems/gateway-error.js'
import { Type } from 'typebox'
import type { Config } from '../config.js'
import { DeviceIdParamsSchema } from '../schemas/device.js'
import type { DeviceDetails } from '../schemas/device-details.js'
import { CACHE_HEADERS, jsonResponse, RATE_LIMIT_HEADERS } from '../schemas/responses.js'
import { problemResponses } from '../schemas/problem-answers.js'
import { DeviceNotFoundError } from '../mor/errors.js'
import { mayReadDevice } from '../auth/caller.js'
import { splitUrl } from '../http/url.js'
import { DEVICE_ROUTE, detailsView } from '../devices/contract.js'
import { fetchCached, InvalidQueryError, REQUEST_HEADERS, sendView } from './cached-answer.js'
import type { CacheResult } from '../cache/devices-cache.js'
import { isFresh } from '../cache/entry.js'

export const InvalidDeviceIdError = gatewayError('invalid-request', 'INVALID_DEVICE_ID', 'deviceId must be a decimal integer from 0 to 2147483647, without sign or leading zeros', 400)

const deviceRoute: FastifyPluginAsyncTypebox<{ config: Config }> = async (fastify, { config }) => {
  // The one header a device-not-found answer carries, whichever way it was not found: an absent
  // device's negative entry and an out-of-scope device's real one must not differ in any header.
  const notFoundCacheControl = `private, max-age=${config.cache.negativeTtlSeconds}`
  const notFoundTtlMs = config.cache.negativeTtlSeconds * 1000

  fastify.get(DEVICE_ROUTE, {
    attachValidation: true,
    config: { swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, headers: REQUEST_HEADERS }, url }) },
    schema: {
      operationId: 'getDevice',
      summary: 'Get one MOR device\'s details',
      description: 'One device\'s details from the cache or from MOR\'s `device_details_get`: cached, coalesced and served stale like the lists. ' +
        'Credentials (the device\'s secret, PIN, passwords) are never included. A device of a user this caller may not read is answered ' +
        'as not found. Send `Cache-Control: no-cache` to revalidate with MOR, `If-None-Match` to get a 304 when nothing changed.',
      tags: ['devices'],
      security: [{ bearer: [] }],
      params: DeviceIdParamsSchema,
      response: {
        200: jsonResponse('The device\'s details', Type.Unsafe<DeviceDetails>({ $ref: 'DeviceDetails#' }), { ...CACHE_HEADERS, ...RATE_LIMIT_HEADERS }),
        304: { description: 'Not modified: the If-None-Match ETag is current', type: 'null', headers: CACHE_HEADERS },
        ...problemResponses('getDevice')
      }
    }
  }, async (request, typedReply) => {
    const reply = typedReply as FastifyReply
    if (request.validationError) throw new InvalidDeviceIdError()
    if (splitUrl(request.url).search !== '') throw new InvalidQueryError('This operation takes no query parameters')
    const deviceId = Number(request.params.deviceId)
    const { caller } = request
    const cache = fastify.devicesCache
    const notFound = () => {
      reply.header('cache-control', notFoundCacheControl)
      return new DeviceNotFoundError(deviceId)
    }
    let result: CacheResult | undefined
    // A caller of every user reads every device: no entry needs a second look.
    if (!mayReadDevice(caller, null)) {
      const seen = await cache.inspectDevice(deviceId)
      if (seen?.status === 200 && !mayReadDevice(caller, seen.owner ?? null)) {
        // Another user's device: found no longer than a negative entry would say not found ...
        if (isFresh(seen, Date.now()) && Date.now() - seen.storedAt < notFoundTtlMs) throw notFound()
        // ... then asked of MOR again, as an absent device is, with nothing cached standing in.
        result = await fetchCached(fastify, request, (opts) => cache.getDevice(deviceId, { ...opts, revalidate: true, strict: true }))
      }
    }
    result ??= await fetchCached(fastify, request, (opts) => cache.getDevice(deviceId, opts))
    const { entry } = result
    if (entry.status === 404 || !mayReadDevice(caller, entry.owner ?? null)) throw notFound()
    return sendView(request, reply, result, detailsView(entry))
  })
}

export default deviceRoute
