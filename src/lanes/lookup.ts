// The hit lane's one question, "may this caller make a request, and is there a fresh entry?": both
// halves at once, each answered in memory when it can be and from Redis when it must (the count
// batched per caller, the lookup shared by concurrent requests for one user).
import type { RequestLimiter } from '../rate-limit/request-limiter.js'
import type { DevicesCache } from '../cache/devices-cache.js'
import type { Lookup } from './hit-lane.js'
import type { Caller } from '../auth/caller.js'

export function createLaneLookup (limiter: RequestLimiter, cache: Pick<DevicesCache, 'peek'>) {
  return function lookup (caller: Caller, userId: number): Lookup | Promise<Lookup> {
    const decision = limiter.take(caller.rateKey, caller.rate)
    const entry = cache.peek(userId)
    if (!(decision instanceof Promise) && !(entry instanceof Promise)) return { decision, entry }
    return Promise.all([decision, entry]).then(([d, e]) => ({ decision: d, entry: e }))
  }
}
