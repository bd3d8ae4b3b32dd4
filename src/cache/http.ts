// HTTP semantics of a cached answer: Cache-Status (RFC 9211), Age, Cache-Control, ETag
// revalidation, and compressed variants made once per entry rather than on every hit.
import { promisify } from 'node:util'
import { brotliCompress, gzip, constants as zlib } from 'node:zlib'
import type { CacheEntry } from './entry.js'
import type { CacheResult } from './devices-cache.js'

export const CACHE_NAME = 'mor-gateway'
/** Below this, compression costs more than the bytes it saves. */
export const COMPRESS_MIN_BYTES = 1024

const brotliAsync = promisify(brotliCompress)
const gzipAsync = promisify(gzip)
// Quality 5 gets most of brotli's gain at a fraction of the CPU of the default 11.
const BROTLI_OPTIONS = { params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT } }

export type Coding = 'br' | 'gzip'

/** The coding the client prefers among br and gzip, or undefined for identity. */
export function negotiate (acceptEncoding: string | undefined): Coding | undefined {
  if (!acceptEncoding) return undefined
  const accepted = new Map<string, number>()
  for (const part of acceptEncoding.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';')
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined)
    accepted.set(name.trim(), q === undefined ? 1 : Number(q))
  }
  const q = (coding: Coding) => accepted.get(coding) ?? accepted.get('*') ?? 0
  // The client's preference wins; on a tie br, which is smaller.
  const [br, gz] = [q('br'), q('gzip')]
  if (br > 0 && br >= gz) return 'br'
  if (gz > 0) return 'gzip'
  return undefined
}

const compress = (body: Buffer, coding: Coding) => (coding === 'br' ? brotliAsync(body, BROTLI_OPTIONS) : gzipAsync(body))

type Variants = Partial<Record<Coding, Promise<Buffer>>>
/** Compressed bodies per entry, made once per process on first demand (never stored in Redis). */
const bodyVariants = new WeakMap<CacheEntry, Variants>()
/** Compressed pages and filtered views per list entry, the most recent few. */
const pageVariants = new WeakMap<CacheEntry, Map<string, Promise<Buffer>>>()

/** The compressed copies of an entry's whole body made so far. */
export const variantsOf = (entry: CacheEntry): Variants => bodyVariants.get(entry) ?? {}

export function compressedBody (entry: CacheEntry, coding: Coding): Promise<Buffer> {
  let variants = bodyVariants.get(entry)
  if (variants === undefined) {
    variants = {}
    bodyVariants.set(entry, variants)
  }
  let variant = variants[coding]
  if (!variant) {
    const made = compress(entry.body, coding)
    variants[coding] = made
    // A failed compression is not kept; the next request tries again.
    made.catch(() => { if (variants[coding] === made) delete variants[coding] })
    variant = made
  }
  return variant
}

/** A page or filtered view keeps this many compressed copies per list, the most recent. */
const PAGE_VARIANTS_KEPT = 32

/**
 * The compressed bytes of a view of an entry: the whole body's are made once per entry; a page's
 * are kept among the entry's most recent few, so a client paging through a list with gzip does not
 * pay for compression twice, and the cache's memory cannot grow without bound.
 */
export function compressedView (entry: CacheEntry, variant: string, body: Buffer, coding: Coding): Promise<Buffer> {
  if (variant === '') return compressedBody(entry, coding)
  let pages = pageVariants.get(entry)
  if (pages === undefined) {
    pages = new Map()
    pageVariants.set(entry, pages)
  }
  const key = `${coding} ${variant}`
  let made = pages.get(key)
  if (made) {
    pages.delete(key) // re-inserted below as the most recent
  } else {
    made = compress(body, coding)
    made.catch(() => pages.delete(key))
  }
  pages.set(key, made)
  if (pages.size > PAGE_VARIANTS_KEPT) pages.delete(pages.keys().next().value as string)
  return made
}

export function cacheStatus (result: CacheResult, now: number): string {
  const ttl = Math.floor((result.entry.freshUntil - now) / 1000)
  const parts = [CACHE_NAME]
  switch (result.outcome) {
    case 'hit': parts.push('hit', `ttl=${ttl}`); break
    case 'stale': parts.push('fwd=stale', `ttl=${ttl}`, 'detail=stale-while-revalidate'); break
    case 'stale-if-error': parts.push('fwd=stale', `ttl=${ttl}`, 'detail=stale-if-error'); break
    case 'miss': parts.push('fwd=miss', 'stored'); break
    case 'revalidated': parts.push('fwd=request', 'stored'); break
  }
  if (result.collapsed) parts.push('collapsed')
  return parts.join('; ')
}

/**
 * The strong ETag of one coding of an entry: RFC 9110 8.8.3 requires a strong validator to differ
 * between content codings, as the bytes do. Identity keeps the entry's own tag; a coded variant
 * adds its coding inside the quotes (`"abc"`, `"abc-br"`, `"abc-gzip"`).
 */
export function codedEtag (etag: string, coding: Coding | undefined): string {
  return coding === undefined ? etag : `${etag.slice(0, -1)}-${coding}"`
}

/** The cache headers of an answer; `etag` is the tag of the representation sent (default: the entry's own). */
export function cacheHeaders (result: CacheResult, clock: number, etag = result.entry.etag): Record<string, string> {
  const { entry } = result
  // An entry made for this very request is exactly as old as it looks: age 0, the full TTL.
  const now = result.outcome === 'miss' || result.outcome === 'revalidated' ? entry.storedAt : clock
  const freshLeft = Math.max(0, Math.floor((entry.freshUntil - now) / 1000))
  const headers: Record<string, string> = {
    'cache-status': cacheStatus(result, now),
    age: String(Math.max(0, Math.floor((now - entry.storedAt) / 1000))),
    'cache-control': `private, max-age=${freshLeft}`
  }
  if (entry.status === 200) headers.etag = etag
  return headers
}

/** A devices answer's Vary: Accept-Encoding after whatever the answer already varies by (CORS: Origin). */
export function devicesVary (existing: string | undefined): string {
  return existing ? `${existing}, Accept-Encoding` : 'Accept-Encoding'
}

/**
 * The headers every devices answer from the cache carries, as a flat name, value list: the cache
 * headers (with the ETag of the variant and coding sent) and Vary. The one renderer for the route
 * and the hit lane.
 */
export function devicesAnswerHeaders (result: CacheResult, now: number, vary: string, etag?: string): string[] {
  const out = Object.entries(cacheHeaders(result, now, etag)).flat()
  out.push('vary', vary)
  return out
}

/** Weak comparison (RFC 9110 13.1.2), as If-None-Match requires. */
export function matchesIfNoneMatch (header: string | undefined, etag: string): boolean {
  if (!header) return false
  if (header.trim() === '*') return true
  const opaque = etag.replace(/^W\//, '')
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === opaque)
}

/**
 * If-Match (RFC 9110 13.1.1): true when the header names this ETag, by the strong comparison (a
 * weak tag never matches), or is `*` (the resource exists).
 */
export function matchesIfMatch (header: string, etag: string): boolean {
  if (header.trim() === '*') return true
  return header.split(',').some((tag) => tag.trim() === etag)
}
