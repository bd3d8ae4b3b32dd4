// Gateway API keys: who may call /v1. The ring holds SHA-256 digests, compared in constant time
// against every key, so timing gives no key away; keys that have been used are remembered to skip
// the hash next time (see createKeyRing). A key is known in logs and metrics by a short id
// derived from its digest, never by itself.
import { hash, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'

export interface KeyRing {
  /** The id of the key `token` is, or undefined. */
  verify: (token: string) => string | undefined
  readonly size: number
}

// The one-shot hash: every request is verified, and a Hash object costs twice as much.
const digest = (value: string) => hash('sha256', value, 'buffer')

/** API keys are bearer secrets: too short and they can be guessed. */
export const MIN_API_KEY_LENGTH = 16
/** RFC 6750 token68 characters: a key with others could never be presented. */
const BEARER_TOKEN = /^[A-Za-z0-9._~+/=-]+$/

/** How many of `keys` are unusable as API keys (too short, or not sendable as a Bearer token). */
export function invalidApiKeys (keys: string[]): number {
  return keys.filter((key) => key.length < MIN_API_KEY_LENGTH || !BEARER_TOKEN.test(key)).length
}

/** What is wrong with a set of keys, for a configuration error (never quoting a key), or undefined. */
export function unusableKeys (keys: string[]): string | undefined {
  const invalid = invalidApiKeys(keys)
  return invalid > 0 ? `holds ${invalid} key(s) shorter than ${MIN_API_KEY_LENGTH} characters or with characters a Bearer token cannot carry` : undefined
}

/**
 * The keys of GATEWAY_API_KEYS_FILE, or why they cannot be used (never quoting a key). Read at
 * start by the config check and the auth plugin, and on SIGHUP.
 */
export function readKeyFile (path: string): { keys: string[], problem: string | undefined } {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    return { keys: [], problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` }
  }
  const keys = parseKeyFile(text)
  return { keys, problem: unusableKeys(keys) ?? (keys.length === 0 ? 'holds no keys' : undefined) }
}

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
