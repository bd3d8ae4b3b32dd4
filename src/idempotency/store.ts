// Where keyed writes (Idempotency-Key) are remembered, so a retry gets the first answer instead of
// a second call to MOR. The contract every store keeps, and the store for a gateway without Redis:
// in this process, bounded, on an injected clock.
import { createHash } from 'node:crypto'
import { gatewayError } from '../problems/gateway-error.js'

/** The answer a keyed write got, replayed as it was to every retry. */
export interface StoredAnswer { status: number, headers: Record<string, string>, body: string }

export type Claim =
  /** The first request with this key: run it, then `finish` with its answer, or `release` if it ended before anything was done (nothing kept; a retry runs anew). */
  | { kind: 'new', finish: (answer: StoredAnswer) => Promise<void>, release: () => Promise<void> }
  | { kind: 'replay', answer: StoredAnswer }
  /** The caller used the key for a different request (whether that one is still running or done). */
  | { kind: 'mismatch' }
  /** The same request with the same key is still running. */
  | { kind: 'running' }

export interface IdempotencyStore {
  claim: (caller: string, key: string, fingerprint: string) => Promise<Claim>
}

/** How long an answer is replayed: the draft's example, and long enough for a client's retries over a day. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000
export const MAX_ENTRIES = 10_000

/**
 * A shared store that cannot answer refuses keyed writes rather than running them unguarded: a retry
 * landing on another instance while Redis is down could otherwise create a second device.
 */
export class IdempotencyUnavailableError extends gatewayError('idempotency-unavailable', 'IDEMPOTENCY_UNAVAILABLE', '%s', 503) {
  /** Redis's client reconnects within 2 s (redis/store.ts), so that is when to look again. */
  readonly retryAfter = 2
}

/**
 * Where a caller's key is kept. Hashed, because a key may be as good as a secret to whoever can
 * list the store; the newline cannot be ambiguous, since a key is printable ASCII without one.
 */
export const entryId = (caller: string, key: string): string => createHash('sha256').update(`${caller}\n${key}`).digest('hex')

const copyAnswer = (answer: StoredAnswer): StoredAnswer => ({ status: answer.status, headers: { ...answer.headers }, body: answer.body })

/** What a stored record says to a claim with `fingerprint`. */
export function verdict (record: { state: 'running' | 'done', fingerprint: string, answer?: StoredAnswer | undefined }, fingerprint: string): Claim {
  if (record.fingerprint !== fingerprint) return { kind: 'mismatch' }
  if (record.state === 'done' && record.answer) return { kind: 'replay', answer: copyAnswer(record.answer) }
  return { kind: 'running' }
}

/** `finish` and `release` settle a claim once; a second call (a route's finally after its finish) does nothing. */
export function settleOnce (finish: (answer: StoredAnswer) => Promise<void>, release: () => Promise<void>): Extract<Claim, { kind: 'new' }> {
  let settled = false
  return {
    kind: 'new',
    finish: async (answer) => { if (!settled) { settled = true; await finish(answer) } },
    release: async () => { if (!settled) { settled = true; await release() } }
  }
}

export interface MemoryStoreOptions {
  ttlMs?: number
  /** How long a claim may run: a request that died without finishing frees its key after this. */
  runningTtlMs: number
  maxEntries?: number
  now?: () => number
}

type Entry = { state: 'running' | 'done', fingerprint: string, answer?: StoredAnswer, expiresAt: number }

export function createMemoryIdempotencyStore ({ ttlMs = IDEMPOTENCY_TTL_MS, runningTtlMs, maxEntries = MAX_ENTRIES, now = Date.now }: MemoryStoreOptions): IdempotencyStore {
  // Insertion order is the eviction order: a finished entry is inserted again, so the oldest
  // finished come first.
  const entries = new Map<string, Entry>()

  /** Makes room for one more: expired entries first, then the oldest finished. Running ones stay. */
  function makeRoom (at: number): void {
    if (entries.size < maxEntries) return
    for (const [id, entry] of entries) if (entry.expiresAt <= at) entries.delete(id)
    // Only running entries left means as many writes in flight: they are bounded by the requests
    // the gateway takes, and evicting one would let its retry run twice.
    for (const [id, entry] of entries) {
      if (entries.size < maxEntries) return
      if (entry.state === 'done') entries.delete(id)
    }
  }

  /** Whether `entry` is still the live record for `id` (not expired, not replaced by a later claim). */
  const owns = (id: string, entry: Entry) => entries.get(id) === entry && entry.expiresAt > now()

  return {
    async claim (caller, key, fingerprint) {
      const id = entryId(caller, key)
      const at = now()
      const current = entries.get(id)
      if (current && current.expiresAt > at) return verdict(current, fingerprint)
      if (current) entries.delete(id)
      makeRoom(at)
      const running: Entry = { state: 'running', fingerprint, expiresAt: at + runningTtlMs }
      entries.set(id, running)
      return settleOnce(async (answer) => {
        if (!owns(id, running)) return
        entries.delete(id)
        entries.set(id, { state: 'done', fingerprint, answer: copyAnswer(answer), expiresAt: now() + ttlMs })
      }, async () => {
        if (owns(id, running)) entries.delete(id)
      })
    }
  }
}
