// The shared cache tier. Redis is an accelerator, never a single point of failure: every command
// has a timeout, nothing queues while disconnected, every failure reads as "not there", and the
// client reconnects by itself. The availability change is logged once, not per request.
import { randomUUID } from 'node:crypto'
import { Cluster, Redis } from 'ioredis'
import { parseRedisTarget } from './target.js'
import type { FastifyBaseLogger } from 'fastify'

export type LockResult = { token: string } | 'busy' | 'unavailable'

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
   * nothing else), resubscribing after every reconnect. Ends when the store closes.
   */
  subscribe: (channel: string, onMessage: (message: string) => void) => void
  readonly available: boolean
  close: () => Promise<void>
}

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
type ScriptClient = { mgwHitWindow: (key: string, windowMs: number, hits: number) => Promise<[number, number]> }
const MAX_RECONNECT_DELAY_MS = 2000
const OWNERS_BUCKET_SIZE = 4096
const ownersBucket = (keyPrefix: string, deviceId: number) => `${keyPrefix}:owners:${Math.floor(deviceId / OWNERS_BUCKET_SIZE)}`

export function createRedisStore (url: string, timeoutMs: number, log: FastifyBaseLogger): RedisStore {
  const failSoft = {
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1000),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, MAX_RECONNECT_DELAY_MS)
  }
  const target = parseRedisTarget(url)
  if (!target) throw new Error('REDIS_URL is not a redis://, rediss://, redis-sentinel:// or redis-cluster:// URL')
  const client: Redis | Cluster = target.kind === 'single'
    ? new Redis(target.url, failSoft)
    : target.kind === 'sentinel'
      ? new Redis({ ...failSoft, sentinels: target.sentinels, name: target.name, password: target.password, sentinelPassword: target.password, db: target.db })
      : new Cluster(target.nodes, { enableOfflineQueue: false, clusterRetryStrategy: failSoft.retryStrategy, redisOptions: { ...failSoft, password: target.password } })
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

  async function attempt<T> (command: () => Promise<T>, fallback: T): Promise<T> {
    if (!available) return fallback
    try {
      return await command()
    } catch {
      return fallback
    }
  }

  return {
    get: (key) => attempt(async () => (await client.getBuffer(key)) ?? undefined, undefined),
    set: (key, value, ttlMs) => attempt(async () => { await client.set(key, value, 'PX', Math.max(1, Math.ceil(ttlMs))) }, undefined),
    lock: (key, ttlMs) => attempt<LockResult>(async () => {
      const token = randomUUID()
      return (await client.set(key, token, 'PX', ttlMs, 'NX')) === 'OK' ? { token } : 'busy'
    }, 'unavailable'),
    isLocked: (key) => attempt(async () => (await client.exists(key)) === 1, false),
    unlock: (key, token) => attempt(async () => { await client.eval(UNLOCK_SCRIPT, 1, key, token) }, undefined),
    hitWindow: (key, windowMs, hits) => attempt(async () => {
      const [count, msLeft] = await scripts.mgwHitWindow(key, windowMs, hits)
      return { count, msLeft }
    }, undefined),
    setOwners: (keyPrefix, userId, deviceIds, ttlMs) => attempt(async () => {
      const buckets = new Map<string, string[]>()
      for (const id of deviceIds) {
        const key = ownersBucket(keyPrefix, id)
        let fields = buckets.get(key)
        if (!fields) buckets.set(key, fields = [])
        fields.push(String(id), String(userId))
      }
      const ttl = Math.max(1, Math.ceil(ttlMs))
      await Promise.all([...buckets].map(async ([key, fields]) => {
        await client.hset(key, ...fields)
        await client.pexpire(key, ttl)
      }))
    }, undefined),
    ownerOf: (keyPrefix, deviceId) => attempt(async () => {
      const value = await client.hget(ownersBucket(keyPrefix, deviceId), String(deviceId))
      return value !== null && /^[0-9]{1,10}$/.test(value) ? Number(value) : undefined
    }, undefined),
    del: (keys) => attempt(async () => { await Promise.all(keys.map((key) => client.del(key))) }, undefined),
    publish: (channel, message) => attempt(async () => { await client.publish(channel, message); return true }, false),
    subscribe (channel, onMessage) {
      const subscriber = client.duplicate()
      subscribers.push(subscriber)
      subscriber.on('error', () => {})
      subscriber.on('message', (from: string, message: string) => { if (from === channel) onMessage(message) })
      // With no offline queue a command before the connection is up fails, so the subscription is
      // made on every ready (the first, and each after a reconnect; subscribing twice is harmless).
      subscriber.on('ready', () => { subscriber.subscribe(channel).catch(() => {}) })
    },
    get available () { return available },
    close: async () => {
      closing = true
      for (const subscriber of subscribers) subscriber.disconnect()
      client.disconnect()
    }
  }
}
