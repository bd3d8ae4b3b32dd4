// What every /v1 route that answers from the devices cache does the same way: ask the cache (with
// the caller's upstream budget, and revalidation on request), count the outcome, and send a view
// of the entry with its cache headers, the ETag of the variant and coding sent, a 304 when that
// ETag is current, and a compressed body when the client takes one.
import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import createError from '@fastify/error'
import { Type } from 'typebox'
import { MAX_HEADER_LENGTH } from '../schemas/responses.js'
import { UpstreamBudgetError, type CacheResult, type GetOptions } from '../cache/devices-cache.js'
import { codedEtag, compressedView, COMPRESS_MIN_BYTES, devicesAnswerHeaders, devicesVary, matchesIfNoneMatch, negotiate } from '../cache/http.js'
import type { GatewayMetrics } from '../plugins/metrics.js'
import { limitKeyOf } from '../plugins/rate-limit.js'
import { parseTraceparent } from '../tracing/trace-context.js'
import type { TraceScope } from '../tracing/tracer.js'

/** A query parameter the operation does not take, or a bad value; the detail names the parameter. */
export const InvalidQueryError = createError('INVALID_QUERY', '%s', 400)

/** The request's path and its query string (without `?`), as sent. */
export function splitUrl (url: string): { path: string, search: string } {
  const mark = url.indexOf('?')
  return mark < 0 ? { path: url, search: '' } : { path: url.slice(0, mark), search: url.slice(mark + 1) }
}

/** `Cache-Control: no-cache` (or HTTP/1.0's `Pragma: no-cache`) asks for a fresh answer from MOR. */
function wantsRevalidation (headers: IncomingHttpHeaders): boolean {
  return /(^|[\s,])no-cache([\s,]|$)/i.test(headers['cache-control'] ?? '') || /no-cache/i.test(headers.pragma ?? '')
}

function countCacheResult (metrics: GatewayMetrics, result: CacheResult): void {
  if (result.outcome === 'hit' && result.entry.status === 200) metrics.countCacheHit()
  else metrics.cache.inc({ result: result.entry.status === 404 ? 'negative' : result.outcome })
  if (result.collapsed) metrics.cache.inc({ result: 'collapsed' })
}

/**
 * The trace work for this request runs under: the request's span, or (tracing off) an unrecorded
 * one under the caller's traceparent, made only if something asks (a call to MOR), so the call
 * still continues the caller's trace.
 */
function traceScope (fastify: FastifyInstance, request: FastifyRequest): TraceScope {
  let parent = request.span?.context
  return {
    tracer: fastify.tracer,
    requestId: request.id,
    get parent () { return (parent ??= fastify.tracer.unrecorded(parseTraceparent(request.headers.traceparent, request.headers.tracestate))) }
  }
}

/** Asks the cache on the caller's behalf: a MOR call it starts is charged to the caller's budget. */
export async function fetchCached (fastify: FastifyInstance, request: FastifyRequest, get: (opts: GetOptions) => Promise<CacheResult>): Promise<CacheResult> {
  const caller = limitKeyOf(request)
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

/** What is sent of an entry: its body, or a page of it with its own ETag. */
export interface View { body: Buffer, etag: string, variant: string }

/** Sends a view of a 200 entry: cache headers, ETag, 304, compression. `headers` come before the body. */
export async function sendView (request: FastifyRequest, reply: FastifyReply, result: CacheResult, view: View, more: string[] = []): Promise<FastifyReply> {
  // The variant and the coding decide the ETag, so both are chosen before any header is written.
  const coding = view.body.length >= COMPRESS_MIN_BYTES ? negotiate(request.headers['accept-encoding']) : undefined
  const etag = codedEtag(view.etag, coding)
  const headers = devicesAnswerHeaders(result, Date.now(), answerVary(reply), etag)
  headers.push(...more)
  for (let i = 0; i + 1 < headers.length; i += 2) reply.header(headers[i] as string, headers[i + 1])
  // Weak comparison against the ETag of the representation this request selects.
  if (matchesIfNoneMatch(request.headers['if-none-match'], etag)) return reply.code(304).send()
  // The body is JSON serialized once per cache entry (a page is cut from it), so it is sent as bytes.
  reply.type('application/json; charset=utf-8')
  if (!coding) return reply.send(view.body)
  return reply.header('content-encoding', coding).send(await compressedView(result.entry, view.variant, view.body, coding))
}

/**
 * Read leniently (an ETag list, a directive list) and never refused, so the contract bounds them
 * only as Node's HTTP parser does (431 past 16 KiB of headers), not tighter than the gateway.
 */
export const REQUEST_HEADERS = Type.Object({
  'if-none-match': Type.Optional(Type.String({ maxLength: MAX_HEADER_LENGTH, description: 'ETags from earlier answers (`*` matches any)' })),
  'cache-control': Type.Optional(Type.String({ maxLength: MAX_HEADER_LENGTH, description: '`no-cache` revalidates with MOR' }))
})
