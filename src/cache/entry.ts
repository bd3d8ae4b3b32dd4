// A cached answer: a user's device list or one device's details as serialized JSON (or a negative
// "not found"), with its freshness window. Data only, and pure functions, shared by the in-process
// and Redis tiers; what a process derives from an entry (compressed copies, cut pages) is kept by
// its owner (cache/http.ts, paging/page.ts) beside the entry, never in it.
import { createHash } from 'node:crypto'
import { itemIndexBytes, loadItems, storeItems, type ItemIndex, type StoredItems } from '../paging/items.js'

export interface CacheEntry {
  /** 200: body is the JSON answer; 404: MOR said the user or device was not found (body empty). */
  status: 200 | 404
  body: Buffer
  /** Strong validator of the body, quoted as HTTP wants it. */
  etag: string
  storedAt: number
  freshUntil: number
  /** Until then a stale entry may be served while refreshing, or instead of an error. */
  staleUntil: number
  /** A list's index into body (a device list's, a catalogue list's): what pages and filters are cut from (paging/items.ts). */
  items?: ItemIndex
  /** A device's details: the MOR user it belongs to, null when MOR did not say. */
  owner?: number | null
}

/** What an entry holds besides its body. */
export interface EntryFacts { items?: ItemIndex | undefined, owner?: number | null | undefined }

export interface Lifetimes {
  ttlSeconds: number
  staleSeconds: number
  negativeTtlSeconds: number
}

/**
 * A buffer of its own for a body kept in the cache. Node carves small buffers out of a shared
 * 8 KiB pool (and ioredis hands out slices of its socket reads), so keeping a small slice would
 * keep the whole block alive: measured, about 3x the memory the cache accounts for.
 */
export function ownBytes (bytes: Buffer | string): Buffer {
  const length = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length
  const own = Buffer.allocUnsafeSlow(length)
  if (typeof bytes === 'string') own.write(bytes)
  else bytes.copy(own)
  return own
}

export function etagOf (body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
}

export function newEntry (status: 200 | 404, body: Buffer, now: number, life: Lifetimes, facts: EntryFacts = {}): CacheEntry {
  const ttl = (status === 200 ? life.ttlSeconds : life.negativeTtlSeconds) * 1000
  // A negative answer is never served stale: the user may have been created meanwhile.
  const stale = status === 200 ? life.staleSeconds * 1000 : 0
  return withFacts({ status, body, etag: etagOf(body), storedAt: now, freshUntil: now + ttl, staleUntil: now + ttl + stale }, facts)
}

function withFacts (entry: CacheEntry, { items, owner }: EntryFacts): CacheEntry {
  if (items !== undefined) entry.items = items
  if (owner !== undefined) entry.owner = owner
  return entry
}

/** Memory an entry holds, for the in-process tier's byte budget (the constant is everything else). */
export function entryBytes (entry: CacheEntry, overhead: number): number {
  return entry.body.length + (entry.items ? itemIndexBytes(entry.items) : 0) + overhead
}

export const isFresh = (entry: CacheEntry, now: number) => now < entry.freshUntil
export const isServable = (entry: CacheEntry, now: number) => now < entry.staleUntil

// Redis layout: one line of JSON metadata, a newline, then the body bytes. Binary-safe and with
// no second JSON encoding of a body that may be a megabyte. Version 2 added the list index and the
// device owner (and lists gained nextCursor), so a version 1 entry is a miss. Version 3 keeps
// every list's index one way (`m`, with a device list's filter columns); a version 2 entry is
// still read (its device list index `i` converted), so instances of both versions share Redis
// during a rolling deploy without turning each other's entries into misses.
interface Meta { v: 2 | 3, s: 200 | 404, e: string, t: number, f: number, x: number, o?: number | null, m?: StoredItems, i?: unknown }

/** A version 2 device list index (type names and ids, primary as -1/0/1) in the stored form of version 3. */
function fromVersion2 (stored: unknown): StoredItems | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined
  const { s, d, n, t, p } = stored as Record<string, unknown>
  if (!Array.isArray(s) || !Array.isArray(d) || !Array.isArray(p)) return undefined
  return { s, d, c: { type: { n: n as string[], v: t as number[] }, primary: { n: ['', 'false', 'true'], v: p.map((flag) => (flag as number) + 1) } } }
}

export function encodeEntry (entry: CacheEntry): Buffer {
  const meta: Meta = { v: 3, s: entry.status, e: entry.etag, t: entry.storedAt, f: entry.freshUntil, x: entry.staleUntil }
  if (entry.items) meta.m = storeItems(entry.items)
  if (entry.owner !== undefined) meta.o = entry.owner
  return Buffer.concat([Buffer.from(`${JSON.stringify(meta)}\n`), entry.body])
}

/** Anything that is not an entry this code wrote (another version, corruption) is a miss. */
export function decodeEntry (raw: Buffer): CacheEntry | undefined {
  const newline = raw.indexOf(0x0a)
  if (newline < 0) return undefined
  let meta: Partial<Meta> | null
  try {
    meta = JSON.parse(raw.toString('utf8', 0, newline)) as Partial<Meta> | null
  } catch {
    return undefined
  }
  if (typeof meta !== 'object' || meta === null || (meta.v !== 3 && meta.v !== 2) || (meta.s !== 200 && meta.s !== 404) || typeof meta.e !== 'string' ||
    typeof meta.t !== 'number' || typeof meta.f !== 'number' || typeof meta.x !== 'number') return undefined
  const body = ownBytes(raw.subarray(newline + 1))
  const stored = meta.v === 2 && meta.i !== undefined ? fromVersion2(meta.i) : meta.m
  const items = stored === undefined ? undefined : loadItems(stored, body.length)
  if ((meta.m !== undefined || meta.i !== undefined) && items === undefined) return undefined
  const owner = meta.o === undefined || meta.o === null || Number.isSafeInteger(meta.o) ? meta.o : undefined
  return withFacts({ status: meta.s, body, etag: meta.e, storedAt: meta.t, freshUntil: meta.f, staleUntil: meta.x }, { items, owner })
}
