// What a relayed call needs and tells (legacy/relay.ts does the call, relay-handler.ts handles
// MOR's answer): the passthrough's shared parts, and one call's headers and callbacks.
import type { Dispatcher } from 'undici'
import type { Gate } from './gate.js'
import type { WriteMethod, WriteRequest } from './writes.js'
import type { WriteOutcome } from './write-answer.js'

export interface RelayDeps {
  pool: Dispatcher
  /** MOR's origin, e.g. `http://10.0.0.5`. */
  origin: string
  gate: Gate
  maxBodyBytes: number
  /** UPSTREAM_TIMEOUT_MS, quoted by the 504 problem. */
  timeoutMs: number
  /** MOR_URL's path + /api: where the write methods live. */
  apiPrefix: string
  /**
   * A write the gateway forwarded, once MOR's answer to it has ended: what that answer says. The
   * client gets the answer once this settles (the cache has followed the write), so it must be bounded.
   */
  onWriteAnswered: (write: Write, outcome: WriteOutcome, requestId: string) => Promise<void>
  /** A call to a write method the gateway did not forward, and why (no values quoted). */
  onWriteRefused: (method: WriteMethod, reason: string, requestId: string) => void
}

/** A call to one of MOR's write methods whose target the gateway has read. */
export type Write = Extract<WriteRequest, { kind: 'write' }>

export interface RelayCall {
  /** The request's id, for what the relay reports about it. */
  requestId: string
  /** Headers for MOR (legacy/headers.ts). */
  headers: string[]
  /** Headers the gateway adds to MOR's answer (X-Request-Id, CORS), as a flat name, value list. */
  answerHeaders: () => string[]
  /** The answer is about to start: from here on the relay owns the response. */
  onStart: () => void
  /** The call failed before any answer was written: the caller answers with this error's problem. */
  onFailure: (err: Error) => void
  /** The call is over: `answered` (MOR's answer went out whole), `cut` (it broke off), or `gone` (the client left). */
  onEnd: (outcome: 'answered' | 'cut' | 'gone') => void
}
