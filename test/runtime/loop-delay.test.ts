// runtime/loop-delay.ts: one sampling window's event-loop delay, the reading load shedding acts on.
import { describe, expect, it } from 'vitest'
import { windowDelayMs } from '../../src/runtime/loop-delay.js'

describe('windowDelayMs', () => {
  const window = { windowMs: 1000 }

  it('is the histogram\'s mean less its resolution when the window measured ticks', () => {
    expect(windowDelayMs({ ...window, count: 90, meanNs: 25e6, lateMs: 3 }, 10)).toBe(15)
    // A tick on time is no delay, and never a negative one.
    expect(windowDelayMs({ ...window, count: 100, meanNs: 9.5e6, lateMs: 0 }, 10)).toBe(0)
  })

  it('reads a window without ticks as a loop held for all of it, not as an infinite delay', () => {
    expect(windowDelayMs({ ...window, count: 0, meanNs: Number.NaN, lateMs: 400 }, 10)).toBe(1400)
    expect(windowDelayMs({ ...window, count: 0, meanNs: Number.NaN, lateMs: 2500 }, 10)).toBe(3500)
    expect(windowDelayMs({ ...window, count: 0, meanNs: Number.NaN, lateMs: -0.3 }, 10)).toBe(1000)
  })
})
