// What every /v1 route that answers from the devices cache does the same way: ask the cache (with
// the caller's upstream budget, and revalidation on request), count the outcome, and send the one
// answer for a view of the entry (cache/answer.ts) through Fastify: its headers, a 304 when its
// ETag is current, and a compressed body when the client takes one.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { gatewayError } from '../problems/gateway-error.js'
import { Type } from 'typebox'
import { MAX_HEADER_LENGTH } from '../schemas/responses.js'
import { UpstreamBudgetError, type CacheResult, type GetOptions, type Keyed } from '../cache/devices-cache.js'
import type { Lifetimes } from '../cache/entry.js'
import type { Ask, Resource } from '../catalogue/resource.js'
import { cacheRef } from '../catalogue/view.js'
import { cachedAnswer, countCacheResult, JSON_TYPE, wantsRevalidation, type Viewed } from '../cache/answer.js'
import { compressedView, devicesVary } from '../cache/http.js'
import { limitKey } from '../rate-limit/key.js'
import { parseTraceparent } from '../tracing/trace-context.js'
import type { TraceScope } from '../tracing/tracer.js'

/** A query parameter the operation does not take, or a bad value; the detail names the parameter. */
export const InvalidQueryError = gatewayError('invalid-request', 'INVALID_QUERY', '%s', 400)
export const StaleCursorError = gatewayError('stale-cursor', 'STALE_CURSOR', 'The list has changed since this cursor was issued: start again from the first page', 409)

/** The Link header of a paged answer. */
export const LINK_HEADER = {
  Link: Type.String({ 'x-optional': true, maxLength: 2048, pattern: '^<[^>]+>; rel="next"$', description: 'RFC 8288 `<relative URL of the next page>; rel="next"`, sent when `nextCursor` is not null' })
}

/**
 * The trace work for this request runs under: the request's span, or (tracing off) an unrecorded
 * one under the caller's traceparent, made only if something asks (a call to MOR), so the call
 * still continues the caller's trace.
 */
export function traceScope (fastify: FastifyInstance, request: FastifyRequest): TraceScope {
  let parent = request.span?.context
  return {
    tracer: fastify.tracer,
    requestId: request.id,
    get parent () { return (parent ??= fastify.tracer.unrecorded(parseTraceparent(request.headers.traceparent, request.headers.tracestate))) }
  }
}

/**
 * The cache's handle on what `ask` asks of `resource`: where its answer sits, its lifetimes (the
 * resource's policy applied to `defaults`; the cache's own without them), and its MOR call.
 */
export function keyedAnswer (fastify: FastifyInstance, resource: Resource, ask: Ask, defaults?: Lifetimes): Keyed {
  return {
    ...cacheRef(resource, ask),
    life: defaults === undefined ? undefined : resource.life(ask, Date.now(), defaults),
    fetch: (trace) => fastify.mor.getResource(resource, ask, trace)
  }
}

/** Asks the cache on the caller's behalf: a MOR call it starts is charged to the caller's budget. */
export async function fetchCached (fastify: FastifyInstance, request: FastifyRequest, get: (opts: GetOptions) => Promise<CacheResult>): Promise<CacheResult> {
  const caller = limitKey(request.caller, request.ip)
  let result: CacheResult
  try {
    result = await get({
      revalidate: wantsRevalidation(request.headers),
      admit: () => fastify.upstreamBudget.admit(caller),
      trace: () => traceScope(fastify, request)
    })
  } catch (err) {
    if (err instanceof UpstreamBudgetError) fastify.metrics.rateLimited.inc({ limit: 'upstream' })
    throw err
  }
  countCacheResult(fastify.metrics, result)
  return result
}

/** The Vary of a cached answer: Accept-Encoding added to what CORS has already said (Origin). */
export function answerVary (reply: FastifyReply): string {
  const before = reply.getHeader('vary')
  return devicesVary(before === undefined ? undefined : String(before))
}

/** Puts a flat name, value list of headers on the reply. */
export function setHeaders (reply: FastifyReply, headers: readonly string[]): void {
  for (let i = 0; i + 1 < headers.length; i += 2) reply.header(headers[i] as string, headers[i + 1])
}

/** Sends the one answer for a view of a 200 entry (cache/answer.ts). */
export async function sendView (request: FastifyRequest, reply: FastifyReply, result: CacheResult, { view, more }: Viewed): Promise<FastifyReply> {
  const answer = cachedAnswer(result, view, request.headers, Date.now(), answerVary(reply))
  setHeaders(reply, answer.headers)
  setHeaders(reply, more)
  if (answer.status === 304) return reply.code(304).send()
  reply.type(JSON_TYPE)
  if (answer.coding === undefined) return reply.send(view.body)
  return reply.header('content-encoding', answer.coding).send(await compressedView(result.entry, view.variant, view.body, answer.coding))
}

/**
 * Read leniently (an ETag list, a directive list) and never refused, so the contract bounds them
 * only as Node's HTTP parser does (431 past 16 KiB of headers), not tighter than the gateway.
 */
export const REQUEST_HEADERS = Type.Object({
  'if-none-match': Type.Optional(Type.String({ maxLength: MAX_HEADER_LENGTH, description: 'ETags from earlier answers (`*` matches any)' })),
  'cache-control': Type.Optional(Type.String({ maxLength: MAX_HEADER_LENGTH, description: '`no-cache` revalidates with MOR' }))
})
