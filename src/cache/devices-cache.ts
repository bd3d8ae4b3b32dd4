// The devices cache: an in-process LRU in front of an optional shared Redis tier, with request
// coalescing (one upstream call per key per instance, about one across instances through a Redis
// lock), stale-while-revalidate, stale-if-error and negative caching of "User not found".
import { retryAfterError } from '../problems/retry-after.js'
import { LRUCache } from 'lru-cache'
import type { FastifyBaseLogger } from 'fastify'
import { UPSTREAM_KINDS, upstreamKind } from '../mor/errors.js'
import { decodeEntry, encodeEntry, isFresh, isServable, newEntry, ownBytes, type CacheEntry, type Lifetimes } from './entry.js'
import type { RedisStore } from '../redis/store.js'

/** How the answer was obtained, for Cache-Status and metrics. */
export type CacheOutcome = 'hit' | 'stale' | 'miss' | 'revalidated' | 'stale-if-error'

export interface CacheResult {
  entry: CacheEntry
  outcome: CacheOutcome
  /** This request waited for an upstream call another request had started. */
  collapsed: boolean
}

export interface DevicesCacheOptions extends Lifetimes {
  maxEntries: number
  maxBytes: number
  /** Namespaces keys by upstream, so gateways for different MOR servers can share one Redis. */
  keyPrefix: string
  /** Upper bound of one upstream call; a cross-instance lock never outlives it. */
  upstreamTimeoutMs: number
  /** The user's devices as a JSON array (already serialized, possibly in a worker thread). */
  fetchDevicesJson: (userId: number) => Promise<string>
  redis: RedisStore | undefined
  log: FastifyBaseLogger
}

export interface GetOptions {
  /** Ask MOR even when a fresh entry exists (Cache-Control: no-cache). */
  revalidate?: boolean
  /**
   * Asked before this request starts an upstream call (not when it joins one): undefined to go
   * ahead, or the seconds until the caller's budget refills.
   */
  admit?: () => number | undefined
}

export interface DevicesCache {
  get: (userId: number, opts?: GetOptions) => Promise<CacheResult>
  /**
   * A fresh entry without ever calling MOR: at once from the in-process tier, as a promise from
   * Redis (one GET shared by concurrent callers), undefined when neither has one. The hit lane's
   * lookup; `get` does everything else.
   */
  peek: (userId: number) => CacheEntry | undefined | Promise<CacheEntry | undefined>
}

/** The caller's upstream budget is spent and nothing cached can stand in. */
export const UpstreamBudgetError = retryAfterError('UPSTREAM_BUDGET_EXHAUSTED', 'This API key has used its budget of calls to MOR for this minute', 429)

// Errors that mean "MOR cannot answer now": a stale copy beats an error page for these.
const LOCK_POLL_MS = 25
/**
 * Per-entry memory besides the body: entry object, key, LRU bookkeeping and allocator slack. The
 * bench measures about 1.5 KB of RSS per entry beyond the body (npm run bench); rounded up.
 */
export const ENTRY_OVERHEAD_BYTES = 2048

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function createDevicesCache (opts: DevicesCacheOptions): DevicesCache {
  const { redis, log } = opts
  // CACHE_MAX_ENTRIES=0 turns the in-process tier off (Redis only, or no cache at all).
  const lru = opts.maxEntries === 0
    ? undefined
    // Keyed by the user id itself: a number needs no string built and hashed per lookup (the hit
    // path's cost); the namespaced string key is Redis's, built only when Redis is asked.
    : new LRUCache<number, CacheEntry>({
      max: opts.maxEntries,
      maxSize: opts.maxBytes,
      // The body dominates; the constant covers the entry object, key and LRU bookkeeping.
      sizeCalculation: (entry) => entry.body.length + ENTRY_OVERHEAD_BYTES
    })
  const fetches = new Map<string, Promise<CacheEntry>>()
  const lookups = new Map<string, Promise<CacheEntry | undefined>>()
  const keyOf = (userId: number) => `${opts.keyPrefix}:devices:${userId}`

  function remember (userId: number, entry: CacheEntry, now: number): void {
    if (isServable(entry, now)) lru?.set(userId, entry, { ttl: entry.staleUntil - now })
  }

  function lookupRemote (key: string): Promise<CacheEntry | undefined> {
    if (!redis?.available) return Promise.resolve(undefined)
    let pending = lookups.get(key)
    if (!pending) {
      pending = redis.get(key).then((raw) => (raw ? decodeEntry(raw) : undefined))
      lookups.set(key, pending)
      pending.then(() => lookups.delete(key), () => lookups.delete(key))
    }
    return pending
  }

  /** Waits for another instance's fetch: its entry, or undefined once its lock is gone. */
  async function awaitOtherInstance (key: string, since: number): Promise<CacheEntry | undefined> {
    const deadline = Date.now() + opts.upstreamTimeoutMs + 1000
    while (Date.now() < deadline) {
      await sleep(LOCK_POLL_MS)
      const raw = await redis?.get(key)
      const entry = raw ? decodeEntry(raw) : undefined
      if (entry && entry.storedAt >= since) return entry
      if (!(await redis?.isLocked(`${key}:lock`))) return undefined
    }
    return undefined
  }

  async function fetchAndStore (key: string, userId: number): Promise<CacheEntry> {
    const started = Date.now()
    const lockKey = `${key}:lock`
    const lock = redis ? await redis.lock(lockKey, opts.upstreamTimeoutMs + 1000) : 'unavailable'
    if (lock === 'busy') {
      const theirs = await awaitOtherInstance(key, started)
      if (theirs) {
        remember(userId, theirs, Date.now())
        return theirs
      }
    }
    try {
      let entry: CacheEntry
      try {
        const devices = await opts.fetchDevicesJson(userId)
        entry = newEntry(200, ownBytes(`{"userId":${userId},"devices":${devices}}`), Date.now(), opts)
      } catch (err) {
        if (upstreamKind(err) !== 'not-found') throw err
        entry = newEntry(404, Buffer.alloc(0), Date.now(), opts)
      }
      remember(userId, entry, Date.now())
      if (redis && entry.staleUntil > entry.storedAt) await redis.set(key, encodeEntry(entry), entry.staleUntil - entry.storedAt)
      return entry
    } finally {
      if (typeof lock === 'object') await redis?.unlock(lockKey, lock.token)
    }
  }

  /** At most one upstream call per key in this process; latecomers share its result. */
  function fetchCoalesced (key: string, userId: number, admit?: GetOptions['admit']): { promise: Promise<CacheEntry>, collapsed: boolean } {
    const running = fetches.get(key)
    if (running) return { promise: running, collapsed: true }
    const wait = admit?.()
    if (wait !== undefined) throw new UpstreamBudgetError(wait)
    const promise = fetchAndStore(key, userId)
    fetches.set(key, promise)
    promise.then(() => fetches.delete(key), () => fetches.delete(key))
    return { promise, collapsed: false }
  }

  function refreshInBackground (key: string, userId: number): void {
    fetchCoalesced(key, userId).promise.catch((err: unknown) => {
      log.warn({ err, userId }, 'background refresh failed; serving stale')
    })
  }

  async function get (userId: number, { revalidate = false, admit }: GetOptions = {}): Promise<CacheResult> {
    let cached = lru?.get(userId)
    if (!revalidate && cached && isFresh(cached, Date.now())) return { entry: cached, outcome: 'hit', collapsed: false }
    const key = keyOf(userId)
    if (!revalidate) {
      const remote = await lookupRemote(key)
      const now = Date.now()
      if (remote && isServable(remote, now) && (!cached || remote.storedAt > cached.storedAt)) {
        remember(userId, remote, now)
        cached = remote
      }
      if (cached && isFresh(cached, now)) return { entry: cached, outcome: 'hit', collapsed: false }
      if (cached && isServable(cached, now) && cached.status === 200) {
        refreshInBackground(key, userId)
        return { entry: cached, outcome: 'stale', collapsed: false }
      }
    }
    let started: ReturnType<typeof fetchCoalesced>
    try {
      started = fetchCoalesced(key, userId, admit)
    } catch (err) {
      // Out of budget: what is cached still answers (a no-cache request gets the cached copy).
      const now = Date.now()
      if (cached && isServable(cached, now)) return { entry: cached, outcome: isFresh(cached, now) ? 'hit' : 'stale', collapsed: false }
      throw err
    }
    const { promise, collapsed } = started
    try {
      return { entry: await promise, outcome: revalidate ? 'revalidated' : 'miss', collapsed }
    } catch (err) {
      const fallback = cached && isServable(cached, Date.now()) && cached.status === 200 ? cached : undefined
      const kind = upstreamKind(err)
      if (fallback && kind !== undefined && UPSTREAM_KINDS[kind].staleIfError) {
        log.warn({ err, userId }, 'MOR failed; serving the cached answer instead')
        return { entry: fallback, outcome: 'stale-if-error', collapsed }
      }
      throw err
    }
  }

  function peek (userId: number): CacheEntry | undefined | Promise<CacheEntry | undefined> {
    const cached = lru?.get(userId)
    if (cached && isFresh(cached, Date.now())) return cached
    if (!redis?.available) return undefined
    return lookupRemote(keyOf(userId)).then((remote) => {
      const now = Date.now()
      if (!remote || !isFresh(remote, now)) return undefined
      remember(userId, remote, now)
      return remote
    })
  }

  return { get, peek }
}
