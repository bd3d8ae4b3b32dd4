// The idempotency store shared by every instance through Redis, so a retry that lands on another
// instance still gets the first answer. One key per caller and Idempotency-Key holds a JSON
// record: running (with its owner's token) until the owner finishes or releases it, then done.
import { randomUUID } from 'node:crypto'
import type { RedisStore } from '../redis/store.js'
import {
  entryId, IDEMPOTENCY_TTL_MS, IdempotencyUnavailableError, settleOnce, verdict,
  type IdempotencyStore, type StoredAnswer
} from './store.js'

export interface RedisIdempotencyOptions {
  /** The gateway's namespace in Redis (ending in its separator); records are `${prefix}idem:<hash>`. */
  prefix: string
  ttlMs?: number
  /** How long a claim may run: a request that died without finishing frees its key after this. */
  runningTtlMs: number
}

export interface IdempotencyRecord {
  state: 'running' | 'done'
  token: string
  fingerprint: string
  answer?: StoredAnswer
}

const UNAVAILABLE = 'Redis cannot be reached, so a retry of this request could not be recognised on another instance'

/** A stored record, or undefined for anything this version cannot read as one. */
export function readRecord (value: Buffer | undefined): IdempotencyRecord | undefined {
  if (value === undefined) return undefined
  let record: unknown
  try { record = JSON.parse(value.toString('utf8')) } catch { return undefined }
  if (typeof record !== 'object' || record === null) return undefined
  const { state, token, fingerprint, answer } = record as Record<string, unknown>
  if ((state !== 'running' && state !== 'done') || typeof token !== 'string' || typeof fingerprint !== 'string') return undefined
  if (state === 'running') return { state, token, fingerprint }
  return isAnswer(answer) ? { state, token, fingerprint, answer } : undefined
}

function isAnswer (value: unknown): value is StoredAnswer {
  if (typeof value !== 'object' || value === null) return false
  const { status, headers, body } = value as Record<string, unknown>
  return Number.isInteger(status) && typeof body === 'string' && typeof headers === 'object' && headers !== null &&
    Object.values(headers).every((header) => typeof header === 'string')
}

const encode = (record: IdempotencyRecord) => Buffer.from(JSON.stringify(record))

export function createRedisIdempotencyStore (redis: RedisStore, { prefix, ttlMs = IDEMPOTENCY_TTL_MS, runningTtlMs }: RedisIdempotencyOptions): IdempotencyStore {
  return {
    async claim (caller, key, fingerprint) {
      if (!redis.available) throw new IdempotencyUnavailableError(UNAVAILABLE)
      const id = `${prefix}idem:${entryId(caller, key)}`
      const token = randomUUID()
      const claimed = await redis.claim(id, encode({ state: 'running', token, fingerprint }), runningTtlMs)
      if (claimed === 'unavailable') throw new IdempotencyUnavailableError(UNAVAILABLE)
      if (claimed.claimed) {
        // When Redis cannot take the answer, the running record keeps the key until runningTtlMs:
        // retries are refused as running until then. The route has its answer either way.
        return settleOnce(async (answer) => {
          await redis.replaceIfOwned(id, token, encode({ state: 'done', token, fingerprint, answer }), ttlMs)
        }, async () => {
          await redis.deleteIfOwned(id, token)
        })
      }
      const current = readRecord(claimed.current)
      // A record this version cannot read (another version's, or damaged) says nothing safe either way.
      if (!current) throw new IdempotencyUnavailableError('The stored record of this Idempotency-Key cannot be read')
      return verdict(current, fingerprint)
    }
  }
}
