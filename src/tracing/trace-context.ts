// W3C Trace Context (https://www.w3.org/TR/trace-context/): the traceparent header read and
// written, and fresh ids. Pure functions; nothing here is on the path of a request unless that
// request is traced or reaches MOR.
import { randomFillSync } from 'node:crypto'

/** Where a span sits: its trace, its own id, and whether the trace is recorded. */
export interface SpanContext {
  traceId: string
  spanId: string
  sampled: boolean
  /** The caller's tracestate, passed on unchanged (vendors' entries; never read). */
  traceState?: string | undefined
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/
const ZERO_TRACE = '0'.repeat(32)
const ZERO_SPAN = '0'.repeat(16)
// tracestate: at most 32 list members, 512 characters is what the spec asks to propagate.
const MAX_TRACESTATE = 512
const TRACESTATE = /^[\x20-\x7e]+$/

/**
 * The caller's span from its traceparent (and tracestate), or undefined when it sent none or an
 * invalid one (then the gateway starts a trace of its own, as the spec says).
 */
export function parseTraceparent (header: string | string[] | undefined, state?: string | string[]): SpanContext | undefined {
  if (typeof header !== 'string' || header.length > 512) return undefined
  const match = TRACEPARENT.exec(header.trim().toLowerCase())
  if (!match) return undefined
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined]
  // Version ff is invalid; version 00 has nothing after the flags; later versions may.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined
  // Passed on to MOR and into spans only when it is what the spec allows: printable ASCII.
  const traceState = typeof state === 'string' && state.length > 0 && state.length <= MAX_TRACESTATE && TRACESTATE.test(state) ? state : undefined
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1, traceState }
}

export const formatTraceparent = (span: SpanContext) => `00-${span.traceId}-${span.spanId}-${span.sampled ? '01' : '00'}`

// Ids from a pooled buffer: one getrandom call per 256 ids, not one per id.
const pool = Buffer.alloc(4096)
let offset = pool.length

function randomHex (bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool)
    offset = 0
  }
  const hex = pool.toString('hex', offset, offset + bytes)
  offset += bytes
  return /^0+$/.test(hex) ? randomHex(bytes) : hex
}

export const newTraceId = () => randomHex(16)
export const newSpanId = () => randomHex(8)
