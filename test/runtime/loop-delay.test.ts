// runtime/loop-delay.ts: one sampling window's event-loop delay, the reading load shedding acts on.
import { describe, expect, it } from 'vitest'
import { windowDelayMs } from '../../src/runtime/loop-delay.js'

describe('windowDelayMs', () => {
  it('is the histogram\'s mean less its resolution when the window measured ticks', () => {
    expect(windowDelayMs({ count: 90, meanNs: 25e6, lateMs: 3 }, 10)).toBe(15)
    // A tick on time is no delay, and never a negative one.
    expect(windowDelayMs({ count: 100, meanNs: 9.5e6, lateMs: 0 }, 10)).toBe(0)
  })

  it('reads a window without ticks as the lateness of the timer that closed it, not as an infinite delay', () => {
    expect(windowDelayMs({ count: 0, meanNs: Number.NaN, lateMs: 400 }, 10)).toBe(400)
    expect(windowDelayMs({ count: 0, meanNs: Number.NaN, lateMs: 2500 }, 10)).toBe(2500)
    expect(windowDelayMs({ count: 0, meanNs: Number.NaN, lateMs: -0.3 }, 10)).toBe(0)
  })
})
