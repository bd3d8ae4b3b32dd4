// The Idempotency-Key request header (IETF httpapi draft "The Idempotency-Key HTTP Header Field")
// and the fingerprint a keyed write is recognised by. Pure functions: the route decides what a
// problem becomes, the store decides what a key and a fingerprint mean together.
import { createHash, createHmac } from 'node:crypto'

/** The draft leaves the length to the server; 255 fits a UUID, a ULID or a hash with room to spare. */
export const MAX_KEY_LENGTH = 255

export type ParsedKey = { key: string } | { problem: string }

/**
 * What parseIdempotencyKey takes, as a JSON Schema pattern for the contract: an sf-string, or one
 * bare token of visible ASCII without quote, backslash or comma, with spaces or tabs around.
 * (The key's length, at most MAX_KEY_LENGTH once unescaped, is the parser's alone.)
 */
export const IDEMPOTENCY_KEY_PATTERN = '^[ \\t]*("([\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\["\\\\])+"|[\\x21\\x23-\\x2b\\x2d-\\x5b\\x5d-\\x7e]+)[ \\t]*$'

const QUOTE = 0x22
const BACKSLASH = 0x5c

const printable = (code: number) => code >= 0x20 && code <= 0x7e
const ows = (code: number) => code === 0x20 || code === 0x09

/**
 * Spaces and tabs around a field value are not part of it (RFC 9110 5.5). By index rather than
 * with /[ \t]+$/, which backtracks quadratically over a long run of spaces followed by anything else.
 */
function trimOws (header: string): string {
  let start = 0
  let end = header.length
  while (start < end && ows(header.charCodeAt(start))) start++
  while (end > start && ows(header.charCodeAt(end - 1))) end--
  return header.slice(start, end)
}

/**
 * The key an Idempotency-Key header names: undefined when there is none, a problem in plain English
 * when it is malformed. The draft's form is a Structured Fields string (`"8e03978e-…"`); a bare
 * token of visible ASCII is accepted too, because many clients send the UUID unquoted.
 */
export function parseIdempotencyKey (header: string | undefined): ParsedKey | undefined {
  if (header === undefined) return undefined
  const value = trimOws(header)
  if (value === '') return { problem: 'Idempotency-Key is empty.' }
  const parsed = value.charCodeAt(0) === QUOTE ? quoted(value) : bare(value)
  if ('problem' in parsed) return parsed
  if (parsed.key === '') return { problem: 'Idempotency-Key is empty.' }
  if (parsed.key.length > MAX_KEY_LENGTH) return { problem: `Idempotency-Key is longer than ${MAX_KEY_LENGTH} characters.` }
  return parsed
}

/** An sf-string: only `\"` and `\\` are escapes, and nothing may follow the closing quote. */
function quoted (value: string): ParsedKey {
  let key = ''
  for (let i = 1; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (!printable(code)) return { problem: 'Idempotency-Key contains a character that is not printable ASCII.' }
    if (code === BACKSLASH) {
      const next = value.charCodeAt(++i)
      if (next !== QUOTE && next !== BACKSLASH) return { problem: 'Idempotency-Key has a backslash that escapes neither a quote nor a backslash.' }
      key += value[i]
    } else if (code === QUOTE) {
      return i === value.length - 1 ? { key } : afterString(value.slice(i + 1))
    } else {
      key += value[i]
    }
  }
  return { problem: 'Idempotency-Key has no closing quote.' }
}

/** What follows a closing quote: a comma is a second value (two headers or a list), anything else junk. */
function afterString (rest: string): ParsedKey {
  return /^[ \t]*,/.test(rest)
    ? { problem: 'Idempotency-Key holds more than one value; send exactly one key.' }
    : { problem: 'Idempotency-Key has something after the closing quote.' }
}

/** The lenient form: one token of visible ASCII, no quote or backslash (they only mean something quoted). */
function bare (value: string): ParsedKey {
  if (value.includes(',')) return { problem: 'Idempotency-Key holds more than one value; send exactly one key.' }
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (!printable(code)) return { problem: 'Idempotency-Key contains a character that is not printable ASCII.' }
    if (code === 0x20) return { problem: 'Idempotency-Key contains a space; send the key as a quoted string.' }
    if (code === QUOTE || code === BACKSLASH) return { problem: 'Idempotency-Key contains a quote or a backslash outside a quoted string.' }
  }
  return { key: value }
}

/**
 * What a keyed request is recognised by: an HMAC-SHA-256 over the parts, each prefixed by its byte
 * length, so no two different lists of parts (["ab", "c"] and ["a", "bc"]) hash alike. Keyed with
 * a secret every instance shares (fingerprintKey), because the parts hold PINs and passwords and
 * the fingerprint is stored for 24 hours: a plain hash of a 4-digit PIN is found in 10,000 tries.
 */
export function fingerprint (key: Buffer, parts: string[]): string {
  const hmac = createHmac('sha256', key)
  for (const part of parts) hmac.update(`${Buffer.byteLength(part)}:`).update(part)
  return hmac.digest('hex')
}

/** The fingerprints' key, derived from MOR's API secret: the one secret every instance holds. */
export const fingerprintKey = (morSecret: string): Buffer => createHash('sha256').update(`mor-gateway idempotency fingerprint\n${morSecret}`).digest()
