// W3C traceparent read and written, and the standard samplers, as pure functions.
import { describe, expect, it } from 'vitest'
import { formatTraceparent, newSpanId, newTraceId, parseTraceparent } from '../../src/tracing/trace-context.js'
import { createSampler } from '../../src/tracing/sampler.js'

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const SPAN = '00f067aa0ba902b7'

describe('parseTraceparent', () => {
  it('reads the spec\'s example, sampled or not, with its tracestate', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`, 'congo=t61rcWkgMzE')).toStrictEqual({ traceId: TRACE, spanId: SPAN, sampled: true, traceState: 'congo=t61rcWkgMzE' })
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.sampled).toBe(false)
    // A tracestate the spec does not allow (non-ASCII, too long) is dropped, the traceparent kept.
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`, 'v=caf\u00e9')).toMatchObject({ traceId: TRACE, traceState: undefined })
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`, `v=${'x'.repeat(600)}`)?.traceState).toBeUndefined()
    // A later version may add fields; its first four are read the same.
    expect(parseTraceparent(`cc-${TRACE}-${SPAN}-09-what-the-future-brings`)?.sampled).toBe(true)
  })

  it.each([
    undefined, '', 'garbage', `ff-${TRACE}-${SPAN}-01`, `00-${'0'.repeat(32)}-${SPAN}-01`, `00-${TRACE}-${'0'.repeat(16)}-01`,
    `00-${TRACE}-${SPAN}-01-extra`, `00-${TRACE.slice(1)}-${SPAN}-01`, `00-${TRACE}-${SPAN}-1`, `00-${TRACE}-${SPAN}-01${'x'.repeat(600)}`
  ])('starts a new trace for %j', (header) => {
    expect(parseTraceparent(header)).toBeUndefined()
  })

  it('writes what it reads, and makes ids of the right shape that are never all zeros', () => {
    expect(formatTraceparent({ traceId: TRACE, spanId: SPAN, sampled: true })).toBe(`00-${TRACE}-${SPAN}-01`)
    const ids = new Set(Array.from({ length: 1000 }, () => newTraceId()))
    expect(ids.size).toBe(1000)
    for (const id of ids) expect(id).toMatch(/^(?!0{32})[0-9a-f]{32}$/)
    expect(newSpanId()).toMatch(/^(?!0{16})[0-9a-f]{16}$/)
  })
})

describe('createSampler', () => {
  it('follows the caller when parent-based, and decides by the trace id otherwise', () => {
    const half = createSampler('parentbased_traceidratio', 0.5)
    expect([half(TRACE, true), half(TRACE, false)]).toStrictEqual([true, false])
    const ids = Array.from({ length: 4000 }, () => newTraceId())
    const share = ids.filter((id) => half(id, undefined)).length / ids.length
    expect(share).toBeGreaterThan(0.4)
    expect(share).toBeLessThan(0.6)
    // The same trace gets the same decision on every instance.
    expect(ids.every((id) => half(id, undefined) === createSampler('traceidratio', 0.5)(id, true))).toBe(true)
    expect([createSampler('always_off', 1)(TRACE, true), createSampler('always_on', 0)(TRACE, false)]).toStrictEqual([false, true])
    expect(createSampler('parentbased_always_off', 1)(TRACE, undefined)).toBe(false)
  })
})
