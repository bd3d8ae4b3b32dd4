// Per-key fixed windows of one minute, each starting at the key's first use after the last one
// ended. The request rate limit and the upstream budget both count in them.
export interface Window {
  start: number
  used: number
}

export interface FixedWindows {
  /** The key's current window, opened now when the last one is over. */
  current: (key: string) => Window
  /** Whole seconds until `window` ends, never less than 1 (a Retry-After value). */
  secondsLeft: (window: Window) => number
}

export const WINDOW_MS = 60_000

/** Whole seconds for `msLeft`, never less than 1: what Retry-After and RateLimit-Reset say. */
export const wholeSecondsLeft = (msLeft: number) => Math.max(1, Math.ceil(msLeft / 1000))
/** Past this many keys, windows that are over are swept when a new one opens. */
const SWEEP_ABOVE = 10_000

export function createFixedWindows (now: () => number = Date.now): FixedWindows {
  const windows = new Map<string, Window>()
  return {
    current (key) {
      const t = now()
      let window = windows.get(key)
      if (!window || t - window.start >= WINDOW_MS) {
        // Old windows go when touched, and all of them at the turn of a window once the map is large.
        if (windows.size > SWEEP_ABOVE) for (const [k, w] of windows) if (t - w.start >= WINDOW_MS) windows.delete(k)
        window = { start: t, used: 0 }
        windows.set(key, window)
      }
      return window
    },
    secondsLeft: (window) => wholeSecondsLeft(window.start + WINDOW_MS - now())
  }
}
