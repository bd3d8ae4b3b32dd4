// The Idempotency-Key header as the draft writes it (a Structured Fields string), as clients often
// send it (a bare token), and every way it can be malformed; and the fingerprint of a request.
import { createHash, createHmac } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fingerprint, fingerprintKey, IDEMPOTENCY_KEY_PATTERN, MAX_KEY_LENGTH, parseIdempotencyKey } from '../../src/idempotency/key.js'

const UUID = '8e03978e-40d5-43e8-bc93-6894a57f9324'

describe('parseIdempotencyKey', () => {
  it('says nothing when the header is absent', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined()
  })

  it('reads the draft\'s quoted form and the bare form alike', () => {
    expect(parseIdempotencyKey(`"${UUID}"`)).toStrictEqual({ key: UUID })
    expect(parseIdempotencyKey(UUID)).toStrictEqual({ key: UUID })
    expect(parseIdempotencyKey(` "${UUID}" `)).toStrictEqual({ key: UUID })
    expect(parseIdempotencyKey('\tabc ')).toStrictEqual({ key: 'abc' })
  })

  it('honours the string escapes \\" and \\\\ and keeps spaces and commas inside quotes', () => {
    expect(parseIdempotencyKey('"a\\"b\\\\c"')).toStrictEqual({ key: 'a"b\\c' })
    expect(parseIdempotencyKey('"order 17, retry"')).toStrictEqual({ key: 'order 17, retry' })
  })

  it('refuses an escape other than \\" and \\\\', () => {
    const problem = 'Idempotency-Key has a backslash that escapes neither a quote nor a backslash.'
    expect(parseIdempotencyKey('"a\\nb"')).toStrictEqual({ problem })
    expect(parseIdempotencyKey('"a\\')).toStrictEqual({ problem })
  })

  it('refuses an empty key, quoted or not', () => {
    for (const header of ['', '   ', '""', ' "" ']) expect(parseIdempotencyKey(header)).toStrictEqual({ problem: 'Idempotency-Key is empty.' })
  })

  it('takes up to 255 characters, counted after unescaping', () => {
    expect(parseIdempotencyKey('k'.repeat(255))).toStrictEqual({ key: 'k'.repeat(255) })
    expect(parseIdempotencyKey(`"${'\\"'.repeat(255)}"`)).toStrictEqual({ key: '"'.repeat(255) })
    const problem = 'Idempotency-Key is longer than 255 characters.'
    expect(parseIdempotencyKey('k'.repeat(256))).toStrictEqual({ problem })
    expect(parseIdempotencyKey(`"${'k'.repeat(256)}"`)).toStrictEqual({ problem })
  })

  it('refuses control characters and anything outside ASCII', () => {
    const problem = 'Idempotency-Key contains a character that is not printable ASCII.'
    for (const header of ['ab\u0001c', 'ab\u007fc', '"a\tb"', '"a\u0000b"', 'cl\u00e9', '"cl\u00e9"', 'a\u2028b']) {
      expect(parseIdempotencyKey(header), JSON.stringify(header)).toStrictEqual({ problem })
    }
  })

  it('refuses two values: two headers (joined with a comma) or a list', () => {
    const problem = 'Idempotency-Key holds more than one value; send exactly one key.'
    for (const header of ['"a", "b"', '"a",', 'a, b', 'a,b', `${UUID}, ${UUID}`]) {
      expect(parseIdempotencyKey(header), header).toStrictEqual({ problem })
    }
  })

  it('refuses a quoted key that does not end, or has something after it', () => {
    expect(parseIdempotencyKey('"abc')).toStrictEqual({ problem: 'Idempotency-Key has no closing quote.' })
    expect(parseIdempotencyKey('"abc\\"')).toStrictEqual({ problem: 'Idempotency-Key has no closing quote.' })
    expect(parseIdempotencyKey('"abc"x')).toStrictEqual({ problem: 'Idempotency-Key has something after the closing quote.' })
    expect(parseIdempotencyKey('"abc";p=1')).toStrictEqual({ problem: 'Idempotency-Key has something after the closing quote.' })
  })

  it('refuses a bare key with a space, a quote or a backslash in it', () => {
    expect(parseIdempotencyKey('a b')).toStrictEqual({ problem: 'Idempotency-Key contains a space; send the key as a quoted string.' })
    const problem = 'Idempotency-Key contains a quote or a backslash outside a quoted string.'
    for (const header of ['a"b', 'ab"', 'a\\b']) expect(parseIdempotencyKey(header), header).toStrictEqual({ problem })
  })
})

describe('fingerprint', () => {
  const KEY = fingerprintKey('mor-secret')
  const hmac = (text: string, key = KEY) => createHmac('sha256', key).update(text).digest('hex')
  const print = (parts: string[]) => fingerprint(KEY, parts)

  it('is the hex HMAC-SHA-256 of the parts, each after its length in bytes, keyed by the MOR secret', () => {
    expect(print(['POST', '/v1/users/7/devices', '{"a":1}', ''])).toBe(hmac('4:POST19:/v1/users/7/devices7:{"a":1}0:'))
    expect(print(['clé'])).toBe(hmac('4:clé'))
    expect(KEY).toStrictEqual(createHash('sha256').update('mor-gateway idempotency fingerprint\nmor-secret').digest())
  })

  it('cannot be recomputed without the secret: a plain hash of a PIN is not the fingerprint', () => {
    const parts = ['POST', '/v1/users/7/devices', '{"pin":"1234","type":"SIP"}', '']
    const plain = createHash('sha256')
    for (const part of parts) plain.update(`${Buffer.byteLength(part)}:`).update(part)
    expect(print(parts)).not.toBe(plain.digest('hex'))
    expect(print(parts)).not.toBe(fingerprint(fingerprintKey('another-secret'), parts))
  })

  it('tells apart lists whose parts run together the same', () => {
    const prints = [['ab', 'c'], ['a', 'bc'], ['abc'], ['abc', ''], [], [''], ['1:a'], ['a', '']].map(print)
    expect(new Set(prints).size).toBe(prints.length)
  })

  it('is the same for the same parts', () => {
    expect(print(['PATCH', '/v1/devices/9', '{}', '"v1"'])).toBe(print(['PATCH', '/v1/devices/9', '{}', '"v1"']))
  })
})

describe('the contract\'s pattern for Idempotency-Key', () => {
  // What the OpenAPI document says the header takes is what the parser takes: checked on the
  // characters that matter (quotes, backslashes, commas, spaces, tabs, controls) and plain ones.
  const pattern = new RegExp(IDEMPOTENCY_KEY_PATTERN)
  const alphabet = fc.constantFrom('"', '\\', ',', ' ', '\t', '\u0000', '\u007f', 'é', 'a', 'Z', '0', '-', ';', '=')
  const header = fc.array(alphabet, { maxLength: 12 }).map((chars) => chars.join(''))

  it('accepts exactly the values the parser reads as a key (keys within the length bound)', () => {
    fc.assert(fc.property(header, (value) => {
      const parsed = parseIdempotencyKey(value)
      expect(pattern.test(value), JSON.stringify(value)).toBe(parsed !== undefined && 'key' in parsed)
    }), { numRuns: 2000 })
  })

  it('leaves the length to the parser: a key of MAX_KEY_LENGTH passes both, one more only the pattern', () => {
    const longest = 'k'.repeat(MAX_KEY_LENGTH)
    expect(pattern.test(`"${longest}"`) && 'key' in (parseIdempotencyKey(`"${longest}"`) ?? {})).toBe(true)
    expect(pattern.test(`${longest}k`)).toBe(true)
    expect(parseIdempotencyKey(`${longest}k`)).toStrictEqual({ problem: `Idempotency-Key is longer than ${MAX_KEY_LENGTH} characters.` })
  })
})
