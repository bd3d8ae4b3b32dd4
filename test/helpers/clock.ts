// The wall clock the gateway in this process reads for freshness, TTLs and windows (Date.now),
// moved by a test instead of slept on. Only Date is faked: sockets, timers and the event loop keep
// real time, so the gateway still answers, and a timeout (MOR's, Redis's) still fires. The cache
// reads Date.now() at each look; a clock taken as `now = Date.now` when a part is made (a breaker,
// a limiter's windows) follows the fake only when the gateway starts after it. It cannot move a
// gateway in a child process, nor the expiry (PX) of a key in a real redis-server.
import { onTestFinished, vi } from 'vitest'

export interface WallClock {
  /** Moves Date.now() on by `ms`. In between it stands still: a deadline on Date never passes. */
  advance: (ms: number) => void
}

/** Fakes Date for the rest of the calling test, from now on; the real Date is back after it. */
export function fakeWallClock (): WallClock {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() })
  onTestFinished(() => { vi.useRealTimers() })
  return { advance: (ms) => { vi.advanceTimersByTime(ms) } }
}
