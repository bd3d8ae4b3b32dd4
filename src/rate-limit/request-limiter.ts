// The per-key request rate limit: a fixed window per minute, in this process or shared by every
// instance through Redis. Written for the hot path (a cache hit spends most of its time here with
// a general-purpose plugin): a local decision is synchronous; shared counting sends the requests
// of one key that arrive in the same turn of the event loop as one INCRBY, and gives each its own
// count from the result, exactly as if they had been counted one by one.
// When Redis cannot answer, this instance's own windows decide: an outage neither refuses
// everyone nor lifts the limit.
import type { RedisStore, WindowHit } from '../redis/store.js'
import { createFixedWindows, wholeSecondsLeft, WINDOW_MS } from './fixed-window.js'

export interface RateDecision {
  allowed: boolean
  limit: number
  remaining: number
  /** Seconds until the window ends, at least 1: RateLimit-Reset, and Retry-After when refused. */
  resetSeconds: number
}

export interface RequestLimiter {
  /** Counts one request for `key`, against `limit` (the caller's own) or the limiter's default. */
  take: (key: string, limit?: number) => RateDecision | Promise<RateDecision>
}

export function decide (limit: number, count: number, msLeft: number): RateDecision {
  return { allowed: count <= limit, limit, remaining: Math.max(0, limit - count), resetSeconds: wholeSecondsLeft(msLeft) }
}

/** RateLimit-* response headers (draft-ietf-httpapi-ratelimit-headers), as a flat name, value list. */
export function rateLimitHeaders (d: RateDecision): string[] {
  return ['ratelimit-limit', String(d.limit), 'ratelimit-remaining', String(d.remaining), 'ratelimit-reset', String(d.resetSeconds)]
}

/** The requests of one key waiting for the next INCRBY. */
interface Batch { hits: number, result: Promise<WindowHit | undefined> }

export function createRequestLimiter (defaultLimit: number, opts: { redis?: RedisStore, keyPrefix?: string, now?: () => number } = {}): RequestLimiter {
  const { redis, keyPrefix = '', now = Date.now } = opts
  const windows = createFixedWindows(now)
  const local = (key: string, limit = defaultLimit): RateDecision => {
    const window = windows.current(key)
    window.used++
    return decide(limit, window.used, window.start + WINDOW_MS - now())
  }
  if (!redis) return { take: local }

  const batches = new Map<string, Batch>()
  function join (key: string): { batch: Batch, index: number } {
    let batch = batches.get(key)
    if (!batch) {
      let send!: () => void
      const ready = new Promise<void>((resolve) => { send = resolve })
      const created: Batch = { hits: 0, result: ready.then(() => redis?.hitWindow(`${keyPrefix}${key}`, WINDOW_MS, created.hits)) }
      batch = created
      batches.set(key, created)
      // Everything that arrives for this key until the event loop turns goes in the same INCRBY.
      setImmediate(() => {
        batches.delete(key)
        send()
      })
    }
    return { batch, index: batch.hits++ }
  }
  return {
    take (key, limit = defaultLimit) {
      if (!redis.available) return local(key, limit)
      const { batch, index } = join(key)
      // The batch's total is the count after its last request; earlier ones get earlier counts.
      return batch.result.then((hit) => (hit ? decide(limit, hit.count - batch.hits + index + 1, hit.msLeft) : local(key, limit)))
    }
  }
}
