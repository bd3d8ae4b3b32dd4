// The shared cache tier. Redis is an accelerator, never a single point of failure: every command
// has a timeout, nothing queues while disconnected, every failure reads as "not there", and the
// client reconnects by itself. The availability change is logged once, not per request.
import { randomUUID } from 'node:crypto'
import calculateSlot from 'cluster-key-slot'
import { Cluster, Redis } from 'ioredis'
import { createShardBreaker } from './shard-breaker.js'
import { parseRedisTarget } from './target.js'
import type { FastifyBaseLogger } from 'fastify'

export type LockResult = { token: string } | 'busy' | 'unavailable'

/** A record claimed (set where there was none), or the one already there; `unavailable` when Redis cannot tell. */
export type ClaimResult = { claimed: true } | { claimed: false, current: Buffer | undefined } | 'unavailable'

/** A shared fixed window: hits so far, the ones just counted included, and the time left in it. */
export interface WindowHit { count: number, msLeft: number }

export interface RedisStore {
  get: (key: string) => Promise<Buffer | undefined>
  set: (key: string, value: Buffer, ttlMs: number) => Promise<void>
  /** `busy` when another caller holds the lock; `unavailable` when Redis cannot tell. */
  lock: (key: string, ttlMs: number) => Promise<LockResult>
  /** Whether the lock is still held by anyone; false when Redis cannot tell. */
  isLocked: (key: string) => Promise<boolean>
  unlock: (key: string, token: string) => Promise<void>
  /** Sets `value` for `ttlMs` unless the key holds something, in one step; else what it holds. */
  claim: (key: string, value: Buffer, ttlMs: number) => Promise<ClaimResult>
  /**
   * Replaces a JSON record whose `token` is `token` (its owner's, as a running record carries it)
   * with `value` for `ttlMs`. False when it is not there or not ours any more, or Redis cannot tell.
   */
  replaceIfOwned: (key: string, token: string, value: Buffer, ttlMs: number) => Promise<boolean>
  /** Deletes a JSON record whose `token` is `token`, as replaceIfOwned. */
  deleteIfOwned: (key: string, token: string) => Promise<boolean>
  /** Counts `hits` in the key's window; undefined when Redis cannot tell. */
  hitWindow: (key: string, windowMs: number, hits: number) => Promise<WindowHit | undefined>
  /**
   * Remembers which user each device belongs to, for `ttlMs` (as long as the list that says so may
   * be cached): hashes of 4,096 device ids each, so a list's devices land in a few keys.
   */
  setOwners: (keyPrefix: string, userId: number, deviceIds: Iterable<number>, ttlMs: number) => Promise<void>
  /** The user a device belongs to, as some instance's list said; undefined when none did. */
  ownerOf: (keyPrefix: string, deviceId: number) => Promise<number | undefined>
  /** Deletes the keys (one command per key, so a Cluster's keys may live on different shards). */
  del: (keys: string[]) => Promise<void>
  /** Sends a message on the channel; false when Redis cannot take it. */
  publish: (channel: string, message: string) => Promise<boolean>
  /**
   * Receives the channel's messages on a connection of their own (a subscribed connection can do
   * nothing else), resubscribing after every reconnect. Ends when the store closes. `onSubscribed`
   * runs each time the subscription is in place (the first time and after each reconnect).
   */
  subscribe: (channel: string, onMessage: (message: string) => void, onSubscribed?: () => void) => void
  readonly available: boolean
  /** Nodes skipped right now after a failure (a Cluster's masters, or the one Redis). */
  readonly skippedNodes: number
  close: () => Promise<void>
}

/** How soon a SUBSCRIBE that failed on a live connection is asked again. */
const RESUBSCRIBE_DELAY_MS = 200

// Deletes the lock only if it is still ours, so a slow holder never frees a successor's lock.
const UNLOCK_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
// One round trip for any number of hits. The window starts with the first; a key that somehow
// lost its expiry gets one again rather than counting forever.
const HIT_WINDOW = {
  numberOfKeys: 1,
  lua: `local n = redis.call('incrby', KEYS[1], ARGV[2])
local left = redis.call('pttl', KEYS[1])
if n == tonumber(ARGV[2]) or left < 0 then redis.call('pexpire', KEYS[1], ARGV[1]); left = tonumber(ARGV[1]) end
return {n, left}`
}
// The idempotency records' steps, each one atomic on one key (so one Cluster slot). A record that
// is not JSON, or has no token, is nobody's: it is left alone.
const CLAIM = {
  numberOfKeys: 1,
  lua: `if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
return {0, redis.call('get', KEYS[1])}`
}
const OWNED = `local current = redis.call('get', KEYS[1])
if not current then return 0 end
local ok, record = pcall(cjson.decode, current)
if not ok or type(record) ~= 'table' or record.token ~= ARGV[1] then return 0 end
`
const REPLACE_IF_OWNED = { numberOfKeys: 1, lua: `${OWNED}redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])\nreturn 1` }
const DELETE_IF_OWNED = { numberOfKeys: 1, lua: `${OWNED}redis.call('del', KEYS[1])\nreturn 1` }
type RecordScripts = {
  mgwClaimBuffer: (key: string, value: Buffer, ttlMs: number) => Promise<[1] | [0, Buffer | null]>
  mgwReplaceIfOwned: (key: string, token: string, value: Buffer, ttlMs: number) => Promise<number>
  mgwDeleteIfOwned: (key: string, token: string) => Promise<number>
}
type ScriptClient = { mgwHitWindow: (key: string, windowMs: number, hits: number) => Promise<[number, number]> }
const MAX_RECONNECT_DELAY_MS = 2000
const OWNERS_BUCKET_SIZE = 4096
const ownersBucket = (keyPrefix: string, deviceId: number) => `${keyPrefix}:owners:${Math.floor(deviceId / OWNERS_BUCKET_SIZE)}`

export interface RedisSettings {
  url: string
  timeoutMs: number
  /** PEM certificates to trust for rediss:// (a private CA); the system's otherwise. */
  tlsCa?: Buffer | undefined
}

/** The one client REDIS_URL names, with the fail-soft options on every connection it makes. */
function connect ({ url, timeoutMs, tlsCa }: RedisSettings): Redis | Cluster {
  const failSoft = {
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1000),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, MAX_RECONNECT_DELAY_MS)
  }
  const target = parseRedisTarget(url)
  if (!target) throw new Error('REDIS_URL is not a redis://, rediss://, redis[s]-sentinel:// or redis[s]-cluster:// URL')
  const tls = target.tls ? { tls: tlsCa ? { ca: tlsCa } : {} } : {}
  if (target.kind === 'single') return new Redis(target.url, { ...failSoft, ...tls })
  const credentials = { username: target.username, password: target.password }
  if (target.kind === 'sentinel') {
    return new Redis({
      ...failSoft,
      ...credentials,
      ...tls,
      sentinels: target.sentinels,
      name: target.name,
      db: target.db,
      sentinelUsername: target.username,
      sentinelPassword: target.password,
      ...(target.tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls.tls } : {})
    })
  }
  // A Cluster makes a connection per node from redisOptions, but puts its own enableOfflineQueue
  // and retryStrategy before them: the breaker below bounds what a lost node costs instead.
  return new Cluster(target.nodes, { enableOfflineQueue: false, clusterRetryStrategy: failSoft.retryStrategy, redisOptions: { ...failSoft, ...credentials, ...tls } })
}

export function createRedisStore (settings: RedisSettings, log: FastifyBaseLogger): RedisStore {
  const client = connect(settings)
  let available = false
  let closing = false
  const subscribers: Array<Redis | Cluster> = []
  client.on('ready', () => {
    if (!available) log.info('redis cache tier available')
    available = true
  })
  const down = () => {
    if (available && !closing) log.warn('redis cache tier unavailable; serving from the in-process tier and MOR')
    available = false
  }
  client.on('close', down)
  client.on('end', down)
  // Connection errors surface here on every retry; the state change above is what gets logged.
  client.on('error', () => {})

  // ioredis sends it by SHA, and loads it again after a Redis restart emptied its script cache.
  client.defineCommand('mgwHitWindow', HIT_WINDOW)
  const scripts = client as unknown as ScriptClient
  client.defineCommand('mgwClaim', CLAIM)
  client.defineCommand('mgwReplaceIfOwned', REPLACE_IF_OWNED)
  client.defineCommand('mgwDeleteIfOwned', DELETE_IF_OWNED)
  const records = client as unknown as RecordScripts
  const px = (ttlMs: number) => Math.max(1, Math.ceil(ttlMs))

  // The node that holds `key`: its slot's master in a Cluster, the one Redis otherwise.
  const breaker = createShardBreaker()
  const nodeOf = client instanceof Cluster
    ? (key: string) => client.slots[calculateSlot(key)]?.[0] ?? 'unmapped'
    : () => 'redis'
  /** Runs a command on `key`'s node unless that node is skipped; a keyless command is never skipped. */
  async function attempt<T> (key: string | undefined, command: () => Promise<T>, fallback: T): Promise<T> {
    if (!available) return fallback
    const node = key === undefined ? undefined : nodeOf(key)
    if (node !== undefined && !breaker.allows(node)) return fallback
    try {
      const result = await command()
      if (node !== undefined) breaker.succeeded(node)
      return result
    } catch {
      if (node !== undefined) breaker.failed(node)
      return fallback
    }
  }

  return {
    get: (key) => attempt(key, async () => (await client.getBuffer(key)) ?? undefined, undefined),
    set: (key, value, ttlMs) => attempt(key, async () => { await client.set(key, value, 'PX', Math.max(1, Math.ceil(ttlMs))) }, undefined),
    lock: (key, ttlMs) => attempt<LockResult>(key, async () => {
      const token = randomUUID()
      return (await client.set(key, token, 'PX', ttlMs, 'NX')) === 'OK' ? { token } : 'busy'
    }, 'unavailable'),
    isLocked: (key) => attempt(key, async () => (await client.exists(key)) === 1, false),
    unlock: (key, token) => attempt(key, async () => { await client.eval(UNLOCK_SCRIPT, 1, key, token) }, undefined),
    claim: (key, value, ttlMs) => attempt<ClaimResult>(key, async () => {
      const reply = await records.mgwClaimBuffer(key, value, px(ttlMs))
      return reply[0] === 1 ? { claimed: true } : { claimed: false, current: reply[1] ?? undefined }
    }, 'unavailable'),
    replaceIfOwned: (key, token, value, ttlMs) => attempt(key, async () => (await records.mgwReplaceIfOwned(key, token, value, px(ttlMs))) === 1, false),
    deleteIfOwned: (key, token) => attempt(key, async () => (await records.mgwDeleteIfOwned(key, token)) === 1, false),
    hitWindow: (key, windowMs, hits) => attempt(key, async () => {
      const [count, msLeft] = await scripts.mgwHitWindow(key, windowMs, hits)
      return { count, msLeft }
    }, undefined),
    setOwners: async (keyPrefix, userId, deviceIds, ttlMs) => {
      const buckets = new Map<string, string[]>()
      for (const id of deviceIds) {
        const key = ownersBucket(keyPrefix, id)
        let fields = buckets.get(key)
        if (!fields) buckets.set(key, fields = [])
        fields.push(String(id), String(userId))
      }
      const ttl = Math.max(1, Math.ceil(ttlMs))
      await Promise.all([...buckets].map(([key, fields]) => attempt(key, async () => {
        await client.hset(key, ...fields)
        await client.pexpire(key, ttl)
      }, undefined)))
    },
    ownerOf: (keyPrefix, deviceId) => {
      const key = ownersBucket(keyPrefix, deviceId)
      return attempt(key, async () => {
        const value = await client.hget(key, String(deviceId))
        return value !== null && /^[0-9]{1,10}$/.test(value) ? Number(value) : undefined
      }, undefined)
    },
    del: async (keys) => { await Promise.all(keys.map((key) => attempt(key, async () => { await client.del(key) }, undefined))) },
    // PUBLISH has no key: a Cluster sends it to any master and spreads it from there.
    publish: (channel, message) => attempt(undefined, async () => { await client.publish(channel, message); return true }, false),
    subscribe (channel, onMessage, onSubscribed) {
      const subscriber = client.duplicate()
      subscribers.push(subscriber)
      subscriber.on('error', () => {})
      subscriber.on('message', (from: string, message: string) => { if (from === channel) onMessage(message) })
      // With no offline queue a command before the connection is up fails, so the subscription is
      // made on every ready (the first, and each after a reconnect; subscribing twice is harmless).
      // A SUBSCRIBE that fails on a live connection (past REDIS_TIMEOUT_MS on a loaded machine) is
      // asked again: left alone, this instance would never greet the others, nor they it.
      const subscribeNow = () => {
        subscriber.subscribe(channel).then(() => { onSubscribed?.() }, () => {
          if (!closing && subscriber.status === 'ready') setTimeout(subscribeNow, RESUBSCRIBE_DELAY_MS).unref()
        })
      }
      subscriber.on('ready', subscribeNow)
    },
    get available () { return available },
    get skippedNodes () { return breaker.skipped },
    close: async () => {
      closing = true
      for (const subscriber of subscribers) subscriber.disconnect()
      client.disconnect()
    }
  }
}
