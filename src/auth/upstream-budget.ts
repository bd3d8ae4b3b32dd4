// A per-key budget on upstream calls (cache misses and revalidations), per instance and per
// minute: a client that sends `Cache-Control: no-cache` in a loop gets cached answers, not MOR.
export interface UpstreamBudget {
  /** Takes one call from the key's budget; false when the budget for this minute is spent. */
  take: (key: string) => boolean
  /** Seconds until the key's budget refills. */
  retryAfterSeconds: (key: string) => number
}

const WINDOW_MS = 60_000

export function createUpstreamBudget (perMinute: number, now: () => number = Date.now): UpstreamBudget {
  const windows = new Map<string, { start: number, used: number }>()
  const current = (key: string) => {
    const t = now()
    let window = windows.get(key)
    if (!window || t - window.start >= WINDOW_MS) {
      // Old windows go when touched, and all of them at the turn of a window once the map is large.
      if (windows.size > 10_000) for (const [k, w] of windows) if (t - w.start >= WINDOW_MS) windows.delete(k)
      window = { start: t, used: 0 }
      windows.set(key, window)
    }
    return window
  }
  return {
    take (key) {
      const window = current(key)
      if (window.used >= perMinute) return false
      window.used++
      return true
    },
    retryAfterSeconds (key) {
      return Math.max(1, Math.ceil((current(key).start + WINDOW_MS - now()) / 1000))
    }
  }
}
