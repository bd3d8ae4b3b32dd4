// Gateway API keys: who may call /v1. The ring holds SHA-256 digests, compared in constant time
// against every key, so timing gives no key away; keys that have been used are remembered to skip
// the hash next time (see createKeyRing). A key is known in logs and metrics by a short id
// derived from its digest, never by itself.
import { hash, timingSafeEqual } from 'node:crypto'

export interface KeyRing {
  /** The id of the key `token` is, or undefined. */
  verify: (token: string) => string | undefined
  readonly size: number
}

// The one-shot hash: every request is verified, and a Hash object costs twice as much.
const digest = (value: string) => hash('sha256', value, 'buffer')

/** One key per line; blank lines and `#` comments are ignored. */
export function parseKeyFile (text: string): string[] {
  return text.split(/\r?\n/).map((line) => line.replace(/#.*$/, '').trim()).filter(Boolean)
}

export function keyId (key: string): string {
  return `key-${digest(`mor-gateway key id\n${key}`).toString('hex').slice(0, 12)}`
}

/** Past this many remembered tokens the memo starts over (a valid key has few spellings). */
const MEMO_LIMIT = 1000

export function createKeyRing (keys: string[]): KeyRing {
  const entries = [...new Set(keys)].map((key) => ({ digest: digest(key), id: keyId(key) }))
  // Tokens already verified, valid ones only: hashing every request's key was a fifth of the cost
  // of a cache hit. This keeps the keys in use in memory, as process.env does for
  // GATEWAY_API_KEYS; a wrong token is never remembered, so guesses always pay the full check.
  const verified = new Map<string, string>()
  return {
    verify (token) {
      const known = verified.get(token)
      if (known !== undefined) return known
      const candidate = digest(token)
      let found: string | undefined
      // No early exit: the time taken does not depend on which key (if any) matched.
      for (const entry of entries) {
        if (timingSafeEqual(candidate, entry.digest)) found = entry.id
      }
      if (found !== undefined) {
        if (verified.size >= MEMO_LIMIT) verified.clear()
        verified.set(token, found)
      }
      return found
    },
    size: entries.length
  }
}
