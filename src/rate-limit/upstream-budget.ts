// A per-key budget on upstream calls (cache misses and revalidations) per minute: a client that
// sends `Cache-Control: no-cache` in a loop gets cached answers, not MOR. Counted like the request
// rate limit (whose windows and batching it reuses): shared by every instance through Redis when
// there is one, so N instances spend one budget, and in this instance's own windows while Redis
// cannot answer.
import type { RedisStore } from '../redis/store.js'
import { createRequestLimiter, type RateDecision } from './request-limiter.js'

export interface UpstreamBudget {
  /** Takes one call from the key's budget: undefined when granted, else the seconds until it refills. */
  admit: (key: string) => number | undefined | Promise<number | undefined>
}

const verdict = (d: RateDecision) => (d.allowed ? undefined : d.resetSeconds)

export function createUpstreamBudget (perMinute: number, opts: { redis?: RedisStore, keyPrefix?: string, now?: () => number } = {}): UpstreamBudget {
  const limiter = createRequestLimiter(perMinute, opts)
  return {
    admit (key) {
      const decision = limiter.take(key)
      return decision instanceof Promise ? decision.then(verdict) : verdict(decision)
    }
  }
}
