// The per-key budget of calls to MOR as a unit, on an injected clock: taking, running out,
// refilling at the turn of the minute, and how long a client is told to wait. (Shared counting in
// Redis is the request limiter's, tested there and across gateways in devices-cluster.test.ts.)
import { describe, expect, it } from 'vitest'
import { createUpstreamBudget } from '../../src/rate-limit/upstream-budget.js'

function clock (start = 1_700_000_000_000) {
  const state = { now: start }
  return { now: () => state.now, advance: (ms: number) => { state.now += ms } }
}
const granted = undefined

describe('createUpstreamBudget', () => {
  it('grants as many calls per minute as configured, then refuses', () => {
    const time = clock()
    const budget = createUpstreamBudget(3, { now: time.now })
    expect([budget.admit('k'), budget.admit('k'), budget.admit('k')]).toStrictEqual([granted, granted, granted])
    expect(budget.admit('k')).toBe(60)
    expect(budget.admit('k')).toBe(60)
  })

  it('stays spent until a minute has passed since the first call', () => {
    const time = clock()
    const budget = createUpstreamBudget(1, { now: time.now })
    expect(budget.admit('k')).toBe(granted)
    time.advance(59_999)
    expect(budget.admit('k')).toBe(1)
  })

  it('refills the whole budget once the minute is over', () => {
    const time = clock()
    const budget = createUpstreamBudget(2, { now: time.now })
    budget.admit('k')
    budget.admit('k')
    time.advance(60_000)
    expect([budget.admit('k'), budget.admit('k'), budget.admit('k')]).toStrictEqual([granted, granted, 60])
  })

  it('starts the next window at the first call after the refill, not on a fixed grid', () => {
    const time = clock()
    const budget = createUpstreamBudget(1, { now: time.now })
    budget.admit('k')
    time.advance(90_000)
    expect(budget.admit('k')).toBe(granted)
    time.advance(59_000)
    expect(budget.admit('k')).toBe(1)
    time.advance(1_000)
    expect(budget.admit('k')).toBe(granted)
  })

  it('keeps separate budgets for separate keys', () => {
    const time = clock()
    const budget = createUpstreamBudget(1, { now: time.now })
    expect(budget.admit('key-a')).toBe(granted)
    expect(budget.admit('key-a')).toBe(60)
    expect(budget.admit('key-b')).toBe(granted)
    expect(budget.admit('ip:203.0.113.50')).toBe(granted)
    expect(budget.admit('key-b')).toBe(60)
  })

  it('says to retry when the window ends, in whole seconds rounded up', () => {
    const time = clock()
    const budget = createUpstreamBudget(1, { now: time.now })
    budget.admit('k')
    expect(budget.admit('k')).toBe(60)
    time.advance(500)
    expect(budget.admit('k')).toBe(60)
    time.advance(500)
    expect(budget.admit('k')).toBe(59)
    time.advance(58_001)
    expect(budget.admit('k')).toBe(1)
  })

  it('keeps working for many keys, dropping only windows that are over', () => {
    const time = clock()
    const budget = createUpstreamBudget(1, { now: time.now })
    for (let i = 0; i < 10_001; i++) budget.admit(`old-${i}`)
    time.advance(30_000)
    expect(budget.admit('recent')).toBe(granted)
    time.advance(30_000)
    // Past the old windows, not past the recent one: the sweep must not forget what 'recent' used.
    expect(budget.admit('another')).toBe(granted)
    expect(budget.admit('recent')).toBe(30)
    expect(budget.admit('old-0')).toBe(granted)
  })
})
