// Gateway API keys: who may call /v1. Keys are kept only as SHA-256 digests and compared in
// constant time against every key, so neither timing nor a heap dump gives a key away. A key is
// known in logs and metrics by a short id derived from its digest, never by itself.
import { createHash, timingSafeEqual } from 'node:crypto'

export interface KeyRing {
  /** The id of the key `token` is, or undefined. */
  verify: (token: string) => string | undefined
  readonly size: number
}

const digest = (value: string) => createHash('sha256').update(value).digest()

/** One key per line; blank lines and `#` comments are ignored. */
export function parseKeyFile (text: string): string[] {
  return text.split(/\r?\n/).map((line) => line.replace(/#.*$/, '').trim()).filter(Boolean)
}

export function keyId (key: string): string {
  return `key-${digest(`mor-gateway key id\n${key}`).toString('hex').slice(0, 12)}`
}

export function createKeyRing (keys: string[]): KeyRing {
  const entries = [...new Set(keys)].map((key) => ({ digest: digest(key), id: keyId(key) }))
  return {
    verify (token) {
      const candidate = digest(token)
      let found: string | undefined
      // No early exit: the time taken does not depend on which key (if any) matched.
      for (const entry of entries) {
        if (timingSafeEqual(candidate, entry.digest)) found = entry.id
      }
      return found
    },
    size: entries.length
  }
}
