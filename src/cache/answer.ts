// The one answer to a request for a view of a cached resource (a list, a page or filtered view of
// it, a device's details): its status, the coding of its body and its headers, decided from the
// cache's result and the request's headers alone. The routes send it through Fastify
// (routes/cached-answer.ts); the hit lane writes it to the socket (lanes/hit-lane.ts) when it is a
// plain 200; both call this function, so the two cannot drift apart.
import type { IncomingHttpHeaders } from 'node:http'
import type { CacheResult } from './devices-cache.js'
import { codedEtag, COMPRESS_MIN_BYTES, devicesAnswerHeaders, matchesIfNoneMatch, negotiate, type Coding } from './http.js'

/** What is sent of an entry: its body, or a page of it with its own ETag. */
export interface View {
  body: Buffer
  etag: string
  /** Names the view among the entry's views ('' for the whole body), for its compressed copies. */
  variant: string
}

/** A view to send, with the headers that belong to it alone (a page's Link) as a flat list. */
export interface Viewed { view: View, more: string[] }

/** The media type of every cached answer: JSON serialized once per entry, sent as bytes. */
export const JSON_TYPE = 'application/json; charset=utf-8'

export interface Answer {
  /** 304 when the request's If-None-Match names the ETag of the representation it selects. */
  status: 200 | 304
  /** The coding of the body to send; undefined: the view's bytes as they are. */
  coding: Coding | undefined
  /** Cache-Status, Age, Cache-Control, ETag and Vary, as a flat name, value list. Shared: do not change it. */
  headers: readonly string[]
}

/** `Cache-Control: no-cache` (or HTTP/1.0's `Pragma: no-cache`) asks for a fresh answer from MOR. */
export function wantsRevalidation (headers: IncomingHttpHeaders): boolean {
  const { pragma } = headers
  const control = headers['cache-control']
  if (control === undefined && pragma === undefined) return false
  return /(^|[\s,])no-cache([\s,]|$)/i.test(control ?? '') || /no-cache/i.test(pragma ?? '')
}

// A hit's headers change once a second (Age, the TTL in Cache-Status and Cache-Control), not per
// request: rendered then and reused, per view body (the entry's, or a remembered page's).
interface Rendered { age: number, ttl: number, coding: Coding | undefined, vary: string, headers: string[] }
const renderedHits = new WeakMap<Buffer, Rendered>()

function answerHeaders (result: CacheResult, view: View, coding: Coding | undefined, now: number, vary: string): string[] {
  const etag = codedEtag(view.etag, coding)
  if (result.outcome !== 'hit' || result.collapsed) return devicesAnswerHeaders(result, now, vary, etag)
  const { entry } = result
  const age = Math.floor((now - entry.storedAt) / 1000)
  const ttl = Math.floor((entry.freshUntil - now) / 1000)
  const known = renderedHits.get(view.body)
  if (known?.age === age && known.ttl === ttl && known.coding === coding && known.vary === vary) return known.headers
  const headers = devicesAnswerHeaders(result, now, vary, etag)
  renderedHits.set(view.body, { age, ttl, coding, vary, headers })
  return headers
}

/**
 * The answer to a request for `view` of the cached result: the coding the client takes (bodies
 * too small to gain are sent as they are), the ETag of that representation, a 304 when it is
 * current, and the cache headers. `vary` is what the answer varies by (Accept-Encoding, and
 * Origin once CORS is configured).
 */
export function cachedAnswer (result: CacheResult, view: View, headers: IncomingHttpHeaders, now: number, vary: string): Answer {
  // The coding decides the ETag, so it is chosen before any header is rendered.
  const coding = view.body.length >= COMPRESS_MIN_BYTES ? negotiate(headers['accept-encoding']) : undefined
  const rendered = answerHeaders(result, view, coding, now, vary)
  const ifNoneMatch = headers['if-none-match']
  const status = ifNoneMatch !== undefined && matchesIfNoneMatch(ifNoneMatch, codedEtag(view.etag, coding)) ? 304 : 200
  return { status, coding, headers: rendered }
}

/** What the cache's outcomes are counted in (plugins/metrics.ts). */
export interface CacheCounts {
  countCacheHit: () => void
  cache: { inc: (labels: { result: string }) => void }
}

/** Counts one answer from the cache by its outcome: hits in a plain number (they are the hot path). */
export function countCacheResult (counts: CacheCounts, result: CacheResult): void {
  if (result.outcome === 'hit' && result.entry.status === 200) counts.countCacheHit()
  else counts.cache.inc({ result: result.entry.status === 404 ? 'negative' : result.outcome })
  if (result.collapsed) counts.cache.inc({ result: 'collapsed' })
}
