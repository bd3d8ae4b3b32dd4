// The per-key budget of calls to MOR as a unit, on an injected clock: taking, running out,
// refilling at the turn of the minute, and how long a client is told to wait.
import { describe, expect, it } from 'vitest'
import { createUpstreamBudget } from '../../src/rate-limit/upstream-budget.js'

function clock (start = 1_700_000_000_000) {
  const state = { now: start }
  return { now: () => state.now, advance: (ms: number) => { state.now += ms } }
}

describe('createUpstreamBudget', () => {
  it('grants as many calls per minute as configured, then refuses', () => {
    const time = clock()
    const budget = createUpstreamBudget(3, time.now)
    expect([budget.take('k'), budget.take('k'), budget.take('k')]).toStrictEqual([true, true, true])
    expect(budget.take('k')).toBe(false)
    expect(budget.take('k')).toBe(false)
  })

  it('stays spent until a minute has passed since the first call', () => {
    const time = clock()
    const budget = createUpstreamBudget(1, time.now)
    expect(budget.take('k')).toBe(true)
    time.advance(59_999)
    expect(budget.take('k')).toBe(false)
  })

  it('refills the whole budget once the minute is over', () => {
    const time = clock()
    const budget = createUpstreamBudget(2, time.now)
    budget.take('k')
    budget.take('k')
    time.advance(60_000)
    expect([budget.take('k'), budget.take('k'), budget.take('k')]).toStrictEqual([true, true, false])
  })

  it('starts the next window at the first call after the refill, not on a fixed grid', () => {
    const time = clock()
    const budget = createUpstreamBudget(1, time.now)
    budget.take('k')
    time.advance(90_000)
    expect(budget.take('k')).toBe(true)
    time.advance(59_000)
    expect(budget.take('k')).toBe(false)
    time.advance(1_000)
    expect(budget.take('k')).toBe(true)
  })

  it('keeps separate budgets for separate keys', () => {
    const time = clock()
    const budget = createUpstreamBudget(1, time.now)
    expect(budget.take('key-a')).toBe(true)
    expect(budget.take('key-a')).toBe(false)
    expect(budget.take('key-b')).toBe(true)
    expect(budget.take('ip:203.0.113.50')).toBe(true)
    expect(budget.take('key-b')).toBe(false)
  })

  it('says to retry when the window ends, in whole seconds rounded up', () => {
    const time = clock()
    const budget = createUpstreamBudget(1, time.now)
    budget.take('k')
    expect(budget.retryAfterSeconds('k')).toBe(60)
    time.advance(500)
    expect(budget.retryAfterSeconds('k')).toBe(60)
    time.advance(500)
    expect(budget.retryAfterSeconds('k')).toBe(59)
    time.advance(58_001)
    expect(budget.retryAfterSeconds('k')).toBe(1)
  })

  it('never says to retry in less than one second', () => {
    const time = clock()
    const budget = createUpstreamBudget(1, time.now)
    budget.take('k')
    time.advance(59_999)
    expect(budget.retryAfterSeconds('k')).toBe(1)
  })

  it('does not use up budget when asked how long to wait', () => {
    const time = clock()
    const budget = createUpstreamBudget(1, time.now)
    expect(budget.retryAfterSeconds('fresh')).toBe(60)
    expect(budget.take('fresh')).toBe(true)
  })

  it('keeps working for many keys, dropping only windows that are over', () => {
    const time = clock()
    const budget = createUpstreamBudget(1, time.now)
    for (let i = 0; i < 10_001; i++) budget.take(`old-${i}`)
    time.advance(30_000)
    expect(budget.take('recent')).toBe(true)
    time.advance(30_000)
    // Past the old windows, not past the recent one: the sweep must not forget what 'recent' used.
    expect(budget.take('another')).toBe(true)
    expect(budget.take('recent')).toBe(false)
    expect(budget.take('old-0')).toBe(true)
  })
})
