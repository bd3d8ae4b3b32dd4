// A per-key budget on upstream calls (cache misses and revalidations), per instance and per
// minute: a client that sends `Cache-Control: no-cache` in a loop gets cached answers, not MOR.
import { createFixedWindows } from './fixed-window.js'

export interface UpstreamBudget {
  /** Takes one call from the key's budget; false when the budget for this minute is spent. */
  take: (key: string) => boolean
  /** Seconds until the key's budget refills. */
  retryAfterSeconds: (key: string) => number
}

export function createUpstreamBudget (perMinute: number, now: () => number = Date.now): UpstreamBudget {
  const windows = createFixedWindows(now)
  return {
    take (key) {
      const window = windows.current(key)
      if (window.used >= perMinute) return false
      window.used++
      return true
    },
    retryAfterSeconds: (key) => windows.secondsLeft(windows.current(key))
  }
}
