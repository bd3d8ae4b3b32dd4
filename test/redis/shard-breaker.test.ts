// The per-node breaker on an injected clock: a failed node is skipped for a back-off that doubles
// with every failed probe up to its ceiling, one probe at a time, and a success restores it.
import { describe, expect, it } from 'vitest'
import { createShardBreaker, FIRST_BACKOFF_MS, MAX_BACKOFF_MS } from '../../src/redis/shard-breaker.js'

function clock () {
  const state = { now: 1_000_000 }
  return { now: () => state.now, advance: (ms: number) => { state.now += ms } }
}

describe('createShardBreaker', () => {
  it('skips only the node that failed, until its back-off is over', () => {
    const time = clock()
    const breaker = createShardBreaker(time.now)
    breaker.failed('a:1')
    expect(breaker.allows('a:1')).toBe(false)
    expect(breaker.allows('b:2')).toBe(true)
    expect(breaker.skipped).toBe(1)
    time.advance(FIRST_BACKOFF_MS - 1)
    expect(breaker.allows('a:1')).toBe(false)
    time.advance(1)
    expect(breaker.allows('a:1')).toBe(true)
  })

  it('lets one probe through at a time, and a success closes it', () => {
    const time = clock()
    const breaker = createShardBreaker(time.now)
    breaker.failed('a:1')
    time.advance(FIRST_BACKOFF_MS)
    expect(breaker.allows('a:1')).toBe(true)
    expect(breaker.allows('a:1')).toBe(false)
    breaker.succeeded('a:1')
    expect([breaker.allows('a:1'), breaker.allows('a:1'), breaker.skipped]).toStrictEqual([true, true, 0])
  })

  it('doubles the back-off with each failed probe, up to its ceiling', () => {
    const time = clock()
    const breaker = createShardBreaker(time.now)
    breaker.failed('a:1')
    const backoffs = []
    for (let i = 0; i < 6; i++) {
      let waited = 0
      while (!breaker.allows('a:1')) { time.advance(10); waited += 10 }
      backoffs.push(waited)
      breaker.failed('a:1')
    }
    expect(backoffs).toStrictEqual([250, 500, 1000, 2000, 2000, 2000])
    expect(Math.max(...backoffs)).toBe(MAX_BACKOFF_MS)
  })

  it('counts a node as skipped only while it is in back-off or being probed', () => {
    const time = clock()
    const breaker = createShardBreaker(time.now)
    breaker.failed('old-master:1')
    expect(breaker.skipped).toBe(1)
    // A failover moved its slots away: nothing probes it again, and the gauge must not stay up.
    time.advance(FIRST_BACKOFF_MS)
    expect(breaker.skipped).toBe(0)
    expect(breaker.allows('old-master:1')).toBe(true)
    expect(breaker.skipped).toBe(1)
  })

  it('counts the failures of commands sent together as one', () => {
    const time = clock()
    const breaker = createShardBreaker(time.now)
    for (let i = 0; i < 50; i++) breaker.failed('a:1')
    time.advance(FIRST_BACKOFF_MS)
    expect(breaker.allows('a:1')).toBe(true)
  })
})
