// The devices cache: an in-process LRU in front of an optional shared Redis tier, with request
// coalescing (one upstream call per key per instance, about one across instances through a Redis
// lock), stale-while-revalidate, stale-if-error and negative caching of "not found". It holds every
// catalogue answer under one memory budget and exactly the same rules; those writes move (a user's
// device list, one device's details) sit under their subject, which writes, the invalidation bus
// and the device-to-owner map name.
import { OverloadedError, retryAfterError } from '../problems/retry-after.js'
import { LRUCache } from 'lru-cache'
import type { FastifyBaseLogger } from 'fastify'
import { UPSTREAM_KINDS, upstreamKind } from '../mor/errors.js'
import { decodeEntry, encodeEntry, entryBytes, isFresh, isServable, newEntry, ownBytes, type CacheEntry, type EntryFacts, type Lifetimes } from './entry.js'
import type { RedisStore } from '../redis/store.js'
import { traced, type TraceScope } from '../tracing/tracer.js'
import type { ItemIndex } from '../paging/items.js'
import type { SpanContext } from '../tracing/trace-context.js'

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
  admit?: () => number | undefined | Promise<number | undefined>
  /**
   * Nothing cached may stand in for MOR's answer: not when the budget is spent, not when MOR
   * fails. For answers that must behave exactly like an uncached negative one.
   */
  strict?: boolean
  /** The request's trace, asked for only when the answer is not a fresh one in memory. */
  trace?: () => TraceScope
}

/** What one cache entry is about, when writes move it: a user's device list, or one device's details. */
export type Subject = { userId: number } | { deviceId: number }

/**
 * Where a catalogue answer sits in the cache: its key (everything that changes MOR's answer,
 * namespaced by resource), or, for an answer writes move, its subject (a device list, a device).
 */
export type CacheRef = { key: string } | { subject: Subject }

/** A catalogue answer the cache holds: where it sits, its lifetimes, and how to fetch it from MOR. */
export type Keyed = CacheRef & {
  /** Its own lifetimes (a settled period's calls), or the cache's. */
  life?: Lifetimes | undefined
  /** The answer's JSON, a list's index, and the user the answer names as its owner (device details). */
  fetch: (trace?: TraceScope) => Promise<{ json: string, items: ItemIndex | undefined, owner?: number | null | undefined }>
}

export interface DevicesCache {
  /** A catalogue answer: from the cache, or fetched from MOR (coalesced, stale-while-revalidate, stale-if-error). */
  getKeyed: (keyed: Keyed, opts?: GetOptions) => Promise<CacheResult>
  /**
   * A fresh entry without ever calling MOR: at once from the in-process tier, as a promise from
   * Redis (one GET shared by concurrent callers), undefined when neither has one. The hit lane's
   * lookup; `getKeyed` does everything else.
   */
  peekKeyed: (ref: CacheRef) => CacheEntry | undefined | Promise<CacheEntry | undefined>
  /** An entry, fresh or stale, without calling MOR or starting a refresh (a device's owner, before its scope is decided). */
  inspectKeyed: (ref: CacheRef) => Promise<CacheEntry | undefined>
  /**
   * Drops what this instance holds of a user's list or a device's details, and makes sure a fetch
   * already under way neither stores its (older) answer nor serves it to later requests.
   */
  forget: (subject: Subject) => void
  /**
   * Drops this instance's in-process copy only, leaving fetches under way alone: another instance
   * stored a newer answer in Redis, which the next request reads.
   */
  dropLocal: (subject: Subject) => void
  /** The user a device belongs to, as far as this instance knows (its cached lists and details), else as Redis knows. */
  ownerOf: (deviceId: number) => number | undefined | Promise<number | undefined>
  /** The Redis key of a user's list or a device's details. */
  keyOf: (subject: Subject) => string
  /** Called whenever this instance stores an answer it fetched from MOR (the invalidation bus's cue). */
  onStored: (listener: (subject: Subject) => void) => void
}

/** The caller's upstream budget is spent and nothing cached can stand in. */
export const UpstreamBudgetError = retryAfterError('rate-limited', 'UPSTREAM_BUDGET_EXHAUSTED', 'This API key has used its budget of calls to MOR for this minute', 429)

// Errors that mean "MOR cannot answer now": a stale copy beats an error page for these.
const LOCK_POLL_MS = 25
/**
 * Per-entry memory besides the body: entry object, key, LRU bookkeeping and allocator slack. The
 * bench measures about 1.5 KB of RSS per entry beyond the body (npm run bench); rounded up.
 */
export const ENTRY_OVERHEAD_BYTES = 2048

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** How often a request joins calls that other callers' spent budgets refuse before it gives up. */
const MAX_BUDGET_ATTEMPTS = 4

/** Devices whose owner an instance remembers from the lists it has seen: enough for a busy instance. */
const OWNERS_KEPT = 500_000

/** One cached thing: its keys in both tiers and how to fetch it from MOR. */
interface Target {
  /**
   * The in-process key: a user id as is, a device id as -1 - id (ids are never negative), a
   * catalogue answer by its key text.
   */
  local: number | string
  /** The Redis key, namespaced by upstream and kind. */
  key: string
  /** For logs: which user or device, or the catalogue key. */
  label: Subject | { resource: string }
  /** Its own lifetimes (a catalogue answer's policy); undefined: the cache's. */
  life?: Lifetimes
  fetch: (trace?: TraceScope) => Promise<{ body: string, facts: EntryFacts }>
}

/** A Redis command's span attributes. */
const REDIS_SPAN = { 'db.system': 'redis' }

export function createDevicesCache (opts: DevicesCacheOptions): DevicesCache {
  const { redis, log } = opts
  // CACHE_MAX_ENTRIES=0 turns the in-process tier off (Redis only, or no cache at all).
  const lru = opts.maxEntries === 0
    ? undefined
    // Keyed by numbers: a number needs no string built and hashed per lookup (the hit path's
    // cost); the namespaced string key is Redis's, built only when Redis is asked.
    : new LRUCache<number | string, CacheEntry>({
      max: opts.maxEntries,
      maxSize: opts.maxBytes,
      // The body (and a list's index) dominate; the constant covers the entry object, key and LRU bookkeeping.
      sizeCalculation: (entry) => entryBytes(entry, ENTRY_OVERHEAD_BYTES)
    })
  const fetches = new Map<string, Promise<CacheEntry>>()
  // The span each traced fetch runs under, for the requests that join it to link to.
  const fetchTraces = new WeakMap<Promise<CacheEntry>, SpanContext>()
  const lookups = new Map<string, Promise<CacheEntry | undefined>>()
  // When each key was last forgotten: a fetch that started before must not store its answer.
  const forgotten = new Map<string, number>()
  const owners = new LRUCache<number, number>({ max: OWNERS_KEPT })
  let stored: ((subject: Subject) => void) | undefined

  /** The in-process and Redis keys, and the log label, of a subject's entry. */
  const subjectPlace = (subject: Subject): Pick<Target, 'local' | 'key' | 'label'> => ('userId' in subject
    ? { local: subject.userId, key: `${opts.keyPrefix}:devices:${subject.userId}`, label: subject }
    : { local: -1 - subject.deviceId, key: `${opts.keyPrefix}:device:${subject.deviceId}`, label: subject })
  const placeOf = (ref: CacheRef): Pick<Target, 'local' | 'key' | 'label'> =>
    ('subject' in ref ? subjectPlace(ref.subject) : { local: ref.key, key: `${opts.keyPrefix}:${ref.key}`, label: { resource: ref.key } })
  /** The in-process key alone: what a hit needs, built without the Redis key or the label. */
  const localOf = (ref: CacheRef): number | string => {
    if (!('subject' in ref)) return ref.key
    return 'userId' in ref.subject ? ref.subject.userId : -1 - ref.subject.deviceId
  }

  const keyedTarget = (keyed: Keyed): Target => ({
    ...placeOf(keyed),
    life: keyed.life,
    fetch: async (trace) => {
      const { json, items, owner } = await keyed.fetch(trace)
      return { body: json, facts: { items, owner } }
    }
  })
  // Only a look in Redis needs the target, which a peek or an inspection never fetches with.
  const lookTarget = (ref: CacheRef): Target => ({ ...placeOf(ref), fetch: () => Promise.reject(new Error('a look never fetches')) })

  function remember (target: Target, entry: CacheEntry, now: number): void {
    if (!isServable(entry, now)) return
    lru?.set(target.local, entry, { ttl: entry.staleUntil - now })
    if (entry.items && 'userId' in target.label) for (const id of entry.items.ids) owners.set(id, target.label.userId)
  }

  const wasForgottenSince = (key: string, since: number) => (forgotten.get(key) ?? -1) >= since

  function lookupRemote (key: string): Promise<CacheEntry | undefined> {
    if (!redis?.available) return Promise.resolve(undefined)
    let pending = lookups.get(key)
    if (!pending) {
      const started = Date.now()
      // A lookup that was under way when the key was forgotten may bring back what was dropped.
      pending = redis.get(key).then((raw) => (raw && !wasForgottenSince(key, started) ? decodeEntry(raw) : undefined))
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

  async function fetchAndStore (target: Target, trace?: TraceScope): Promise<CacheEntry> {
    const { key } = target
    const started = Date.now()
    const lockKey = `${key}:lock`
    const lock = redis ? await traced(trace, 'Redis lock', 'client', REDIS_SPAN, () => redis.lock(lockKey, opts.upstreamTimeoutMs + 1000)) : 'unavailable'
    if (lock === 'busy') {
      const theirs = await traced(trace, 'wait for another instance\'s fetch', 'internal', undefined, () => awaitOtherInstance(key, started))
      if (theirs) {
        if (!wasForgottenSince(key, started)) remember(target, theirs, Date.now())
        return theirs
      }
    }
    try {
      let entry: CacheEntry
      try {
        const { body, facts } = await target.fetch(trace)
        entry = newEntry(200, ownBytes(body), Date.now(), target.life ?? opts, facts)
      } catch (err) {
        if (upstreamKind(err) !== 'not-found') throw err
        entry = newEntry(404, Buffer.alloc(0), Date.now(), target.life ?? opts)
      }
      // Forgotten meanwhile (a write went through): MOR may have answered from before it.
      if (wasForgottenSince(key, started)) return entry
      remember(target, entry, Date.now())
      if (redis && entry.staleUntil > entry.storedAt) {
        const life = entry.staleUntil - entry.storedAt
        await traced(trace, 'Redis store', 'client', REDIS_SPAN, async () => {
          await redis.set(key, encodeEntry(entry), life)
          // Which user each listed device belongs to, for a write through the passthrough on any instance.
          if (entry.items && 'userId' in target.label) await redis.setOwners(opts.keyPrefix, target.label.userId, entry.items.ids, life)
        })
      }
      if (!('resource' in target.label)) stored?.(target.label)
      return entry
    } finally {
      if (typeof lock === 'object') await redis?.unlock(lockKey, lock.token)
    }
  }

  /**
   * At most one upstream call per key in this process; latecomers share its result. A budget that
   * answers later (shared through Redis) holds the key's place from the start, so requests that
   * arrive while it is asked join this call instead of each charging their own budget.
   */
  function fetchCoalesced (target: Target, admit?: GetOptions['admit'], trace?: TraceScope): { promise: Promise<CacheEntry>, collapsed: boolean } {
    const running = fetches.get(target.key)
    if (running) {
      // A request that joins waits in a span linked to the one whose trace holds the MOR call.
      const promise = traced(trace, 'wait for a coalesced fetch', 'internal', undefined, (span) => {
        const owner = span && fetchTraces.get(running)
        if (owner) span?.addLink(owner)
        return running
      })
      return { promise, collapsed: true }
    }
    const admission = admit?.()
    if (typeof admission === 'number') throw new UpstreamBudgetError(admission)
    const promise = admission === undefined
      ? fetchAndStore(target, trace)
      : admission.then((wait) => {
        if (wait !== undefined) throw new UpstreamBudgetError(wait)
        return fetchAndStore(target, trace)
      })
    fetches.set(target.key, promise)
    if (trace?.tracer.recording === true) fetchTraces.set(promise, trace.parent)
    // Only its own: forget() may have put a newer fetch in its place.
    const done = () => { if (fetches.get(target.key) === promise) fetches.delete(target.key) }
    promise.then(done, done)
    return { promise, collapsed: false }
  }

  function refreshInBackground (target: Target, trace: TraceScope | undefined): void {
    fetchCoalesced(target, undefined, trace).promise.catch((err: unknown) => {
      // Joined a call whose caller's budget was spent: nothing was asked of MOR, nothing failed.
      if (err instanceof UpstreamBudgetError) return
      log.warn({ err, ...target.label }, 'background refresh failed; serving stale')
    })
  }

  async function inspect (target: Target): Promise<CacheEntry | undefined> {
    let cached = lru?.get(target.local)
    const remote = await lookupRemote(target.key)
    const now = Date.now()
    if (remote && isServable(remote, now) && (!cached || remote.storedAt > cached.storedAt)) {
      remember(target, remote, now)
      cached = remote
    }
    return cached && isServable(cached, now) ? cached : undefined
  }

  async function getTarget (target: Target, { revalidate = false, admit, strict = false, trace: traceOf }: GetOptions): Promise<CacheResult> {
    let cached = lru?.get(target.local)
    if (!revalidate && cached && isFresh(cached, Date.now())) return { entry: cached, outcome: 'hit', collapsed: false }
    const trace = traceOf?.()
    if (!revalidate) {
      const remote = redis?.available ? await traced(trace, 'Redis lookup', 'client', REDIS_SPAN, () => lookupRemote(target.key)) : undefined
      const now = Date.now()
      if (remote && isServable(remote, now) && (!cached || remote.storedAt > cached.storedAt)) {
        remember(target, remote, now)
        cached = remote
      }
      if (cached && isFresh(cached, now)) return { entry: cached, outcome: 'hit', collapsed: false }
      if (cached && isServable(cached, now) && cached.status === 200) {
        refreshInBackground(target, trace)
        return { entry: cached, outcome: 'stale', collapsed: false }
      }
    }
    // Out of budget: what is cached still answers (a no-cache request gets the cached copy).
    const outOfBudget = (err: unknown): CacheResult => {
      const now = Date.now()
      if (!strict && cached && isServable(cached, now)) return { entry: cached, outcome: isFresh(cached, now) ? 'hit' : 'stale', collapsed: false }
      throw err
    }
    // A call this request joined may be refused by its starter's budget: it then asks its own
    // (joining again is fine; the joined call may be refused too), at most a few times.
    for (let attempt = 1, askedOwn = false; ; attempt++) {
      let started: ReturnType<typeof fetchCoalesced>
      try {
        started = fetchCoalesced(target, admit, trace)
      } catch (err) {
        return outOfBudget(err)
      }
      const { promise, collapsed } = started
      if (!collapsed) askedOwn = true
      try {
        return { entry: await promise, outcome: revalidate ? 'revalidated' : 'miss', collapsed }
      } catch (err) {
        if (err instanceof UpstreamBudgetError) {
          if (!askedOwn && admit && attempt < MAX_BUDGET_ATTEMPTS) continue
          return outOfBudget(err)
        }
        const fallback = !strict && cached && isServable(cached, Date.now()) && cached.status === 200 ? cached : undefined
        const kind = upstreamKind(err)
        // A busy translation pool (503 overloaded) is no worse a reason than MOR's for a stale answer.
        if (fallback && ((kind !== undefined && UPSTREAM_KINDS[kind].staleIfError) || err instanceof OverloadedError)) {
          log.warn({ err, ...target.label }, 'MOR failed; serving the cached answer instead')
          return { entry: fallback, outcome: 'stale-if-error', collapsed }
        }
        throw err
      }
    }
  }

  // The target is made only for a look in Redis: a hit in process allocates nothing.
  function peekTarget (local: number | string, targetOf: () => Target): CacheEntry | undefined | Promise<CacheEntry | undefined> {
    const cached = lru?.get(local)
    if (cached && isFresh(cached, Date.now())) return cached
    if (!redis?.available) return undefined
    const target = targetOf()
    return lookupRemote(target.key).then((remote) => {
      const now = Date.now()
      if (!remote || !isFresh(remote, now)) return undefined
      remember(target, remote, now)
      return remote
    })
  }

  function forget (subject: Subject): void {
    const { local, key } = subjectPlace(subject)
    const now = Date.now()
    lru?.delete(local)
    fetches.delete(key)
    lookups.delete(key)
    forgotten.set(key, now)
    // Marks older than any fetch still running are no use: fetches end within the upstream timeout.
    for (const [old, at] of forgotten) if (now - at > 2 * opts.upstreamTimeoutMs + 2000) forgotten.delete(old)
  }

  function ownerOf (deviceId: number): number | undefined | Promise<number | undefined> {
    const details = lru?.peek(-1 - deviceId)
    const known = owners.get(deviceId) ?? (typeof details?.owner === 'number' ? details.owner : undefined)
    if (known !== undefined || !redis?.available) return known
    return redis.ownerOf(opts.keyPrefix, deviceId)
  }

  return {
    forget,
    dropLocal: (subject) => { lru?.delete(subjectPlace(subject).local) },
    ownerOf,
    onStored: (listener) => { stored = listener },
    keyOf: (subject) => subjectPlace(subject).key,
    getKeyed: (keyed, getOpts = {}) => getTarget(keyedTarget(keyed), getOpts),
    peekKeyed: (ref) => peekTarget(localOf(ref), () => lookTarget(ref)),
    inspectKeyed: (ref) => inspect(lookTarget(ref))
  }
}
