import { serializeDevices } from '../../src/devices/device-index.js'
import { describe, expect, it } from 'vitest'
import { decodeEntry, encodeEntry, etagOf, isFresh, isServable, newEntry, type Lifetimes } from '../../src/cache/entry.js'
import { compressedBody } from '../../src/cache/http.js'

const T0 = 1_700_000_000_000
const LIFE: Lifetimes = { ttlSeconds: 60, staleSeconds: 30, negativeTtlSeconds: 10 }
const BODY = Buffer.from('{"userId":1,"devices":[]}')
// sha256 of BODY and of the empty body, base64url, first 27 characters.
const BODY_TAG = '"Xt7qOR-fROPgjy19DsBvt5QrkW1"'
const EMPTY_TAG = '"47DEQpj8HBSa-_TImW-5JCeuQeR"'

/** The metadata line encodeEntry writes, with one field replaced or (undefined) removed. */
function metaLine (field: string, value: unknown): string {
  const meta: Record<string, unknown> = { v: 3, s: 200, e: BODY_TAG, t: T0, f: T0 + 60_000, x: T0 + 90_000 }
  if (value === undefined) delete meta[field]
  else meta[field] = value
  return `${JSON.stringify(meta)}\n`
}

describe('newEntry', () => {
  it('gives a 200 its TTL and then the stale window', () => {
    expect(newEntry(200, BODY, T0, LIFE)).toStrictEqual({
      status: 200, body: BODY, etag: BODY_TAG, storedAt: T0, freshUntil: T0 + 60_000, staleUntil: T0 + 90_000
    })
  })

  it('gives a 404 the negative TTL and no stale window', () => {
    expect(newEntry(404, Buffer.alloc(0), T0, LIFE)).toStrictEqual({
      status: 404, body: Buffer.alloc(0), etag: EMPTY_TAG, storedAt: T0, freshUntil: T0 + 10_000, staleUntil: T0 + 10_000
    })
  })

  it('makes a 200 with TTL 0 stale at once but still servable for the stale window', () => {
    const entry = newEntry(200, BODY, T0, { ...LIFE, ttlSeconds: 0 })
    expect([entry.freshUntil, entry.staleUntil]).toStrictEqual([T0, T0 + 30_000])
    expect([isFresh(entry, T0), isServable(entry, T0)]).toStrictEqual([false, true])
  })

  it('makes a 200 with TTL 0 and stale 0 unservable from the start', () => {
    const entry = newEntry(200, BODY, T0, { ...LIFE, ttlSeconds: 0, staleSeconds: 0 })
    expect([entry.freshUntil, entry.staleUntil]).toStrictEqual([T0, T0])
    expect([isFresh(entry, T0), isServable(entry, T0)]).toStrictEqual([false, false])
  })

  it('makes a 404 with negative TTL 0 unservable from the start, whatever the stale window', () => {
    const entry = newEntry(404, Buffer.alloc(0), T0, { ...LIFE, negativeTtlSeconds: 0, staleSeconds: 300 })
    expect([entry.freshUntil, entry.staleUntil]).toStrictEqual([T0, T0])
    expect([isFresh(entry, T0), isServable(entry, T0)]).toStrictEqual([false, false])
  })

  it('ignores the negative TTL for a 200 and the positive TTL for a 404', () => {
    const life = { ttlSeconds: 5, staleSeconds: 0, negativeTtlSeconds: 500 }
    expect(newEntry(200, BODY, T0, life).freshUntil).toBe(T0 + 5_000)
    expect(newEntry(404, Buffer.alloc(0), T0, { ...life, ttlSeconds: 500, negativeTtlSeconds: 5 }).freshUntil).toBe(T0 + 5_000)
  })
})

describe('isFresh and isServable', () => {
  const entry = newEntry(200, BODY, T0, LIFE)

  it('is fresh and servable from storedAt until one millisecond before freshUntil', () => {
    expect([isFresh(entry, T0), isServable(entry, T0)]).toStrictEqual([true, true])
    expect([isFresh(entry, T0 + 59_999), isServable(entry, T0 + 59_999)]).toStrictEqual([true, true])
  })

  it('is stale but servable from freshUntil until one millisecond before staleUntil', () => {
    expect([isFresh(entry, T0 + 60_000), isServable(entry, T0 + 60_000)]).toStrictEqual([false, true])
    expect([isFresh(entry, T0 + 89_999), isServable(entry, T0 + 89_999)]).toStrictEqual([false, true])
  })

  it('is neither fresh nor servable from staleUntil on', () => {
    expect([isFresh(entry, T0 + 90_000), isServable(entry, T0 + 90_000)]).toStrictEqual([false, false])
    expect([isFresh(entry, T0 + 3_600_000), isServable(entry, T0 + 3_600_000)]).toStrictEqual([false, false])
  })

  it('never serves a 404 stale: it stops being servable when it stops being fresh', () => {
    const negative = newEntry(404, Buffer.alloc(0), T0, LIFE)
    expect([isFresh(negative, T0 + 9_999), isServable(negative, T0 + 9_999)]).toStrictEqual([true, true])
    expect([isFresh(negative, T0 + 10_000), isServable(negative, T0 + 10_000)]).toStrictEqual([false, false])
  })
})

describe('etagOf', () => {
  it('is a strong, quoted tag of 27 base64url characters', () => {
    expect(etagOf(BODY)).toMatch(/^"[A-Za-z0-9_-]{27}"$/)
  })

  it('is the first 27 base64url characters of the SHA-256 of the body', () => {
    expect(etagOf(BODY)).toBe(BODY_TAG)
    expect(etagOf(Buffer.alloc(0))).toBe(EMPTY_TAG)
  })

  it('gives the same tag for the same bytes in a different Buffer', () => {
    expect(etagOf(Buffer.from(BODY))).toBe(etagOf(BODY))
  })

  it('gives a different tag when one byte of the body differs', () => {
    expect(etagOf(Buffer.from('{"userId":2,"devices":[]}'))).not.toBe(etagOf(BODY))
  })
})

describe('encodeEntry and decodeEntry', () => {
  it('writes one line of JSON metadata, a newline, then the body bytes', () => {
    expect(encodeEntry(newEntry(200, BODY, T0, LIFE)).toString('utf8')).toBe(
      `{"v":3,"s":200,"e":${JSON.stringify(BODY_TAG)},"t":${T0},"f":${T0 + 60_000},"x":${T0 + 90_000}}\n{"userId":1,"devices":[]}`
    )
  })

  it('round-trips a 200 entry', () => {
    const entry = newEntry(200, BODY, T0, LIFE)
    expect(decodeEntry(encodeEntry(entry))).toStrictEqual(entry)
  })

  it('round-trips a body containing newlines and every byte value', () => {
    const bytes = Buffer.concat([Buffer.from('line one\nline two\r\n\n'), Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('\n')])
    const entry = newEntry(200, bytes, T0, LIFE)
    const decoded = decodeEntry(encodeEntry(entry))
    expect(decoded).toStrictEqual(entry)
    expect(decoded?.body.equals(bytes)).toBe(true)
  })

  it('round-trips a list with its index, and a device with its owner (or none known)', () => {
    const { json, index } = serializeDevices([
      { id: 1, type: 'SIP', ipAddress: null, port: null, username: 'Zoë', callerId: null, deviceGroupId: null, primary: true },
      { id: 2, type: 'IAX2', ipAddress: null, port: null, username: null, callerId: null, deviceGroupId: null, primary: null }
    ])
    const list = newEntry(200, Buffer.from(json), T0, LIFE, { items: index })
    expect(decodeEntry(encodeEntry(list))).toStrictEqual(list)
    for (const owner of [7, null]) {
      const device = newEntry(200, Buffer.from('{"id":1}'), T0, LIFE, { owner })
      expect(decodeEntry(encodeEntry(device))).toStrictEqual(device)
    }
  })

  it('returns undefined for an index that does not fit its body', () => {
    const line = (m: unknown) => Buffer.from(`${metaLine('m', typeof m === 'object' && m !== null ? { d: [7], ...m } : m)}[{"a":1}]`)
    const column = (n: unknown, v: unknown) => ({ type: { n, v } })
    expect(decodeEntry(line({ s: [1, 9], c: column(['sip'], [0]) }))).toBeDefined()
    expect(decodeEntry(line({ s: [1, 9] }))).toBeDefined() // a list without filter columns
    expect(decodeEntry(line({ s: [1, 99], c: column(['sip'], [0]) }))).toBeUndefined() // past the body
    expect(decodeEntry(line({ s: [5, 1], c: column(['sip'], [0]) }))).toBeUndefined() // backwards
    expect(decodeEntry(line({ s: [1, 1] }))).toBeUndefined() // an empty item
    expect(decodeEntry(line({ s: [1, 9], c: column(['sip'], [1]) }))).toBeUndefined() // no such value
    expect(decodeEntry(line({ s: [1, 9], c: column(['sip'], [0, 0]) }))).toBeUndefined() // a value too many
    expect(decodeEntry(line({ s: [1, 9], c: column([7], [0]) }))).toBeUndefined()
    expect(decodeEntry(line({ s: [1, 9], c: [] }))).toBeUndefined()
    expect(decodeEntry(line({ s: [1], c: column([], []) }))).toBeUndefined()
    expect(decodeEntry(line('index'))).toBeUndefined()
  })

  it('round-trips a 404 entry with an empty body', () => {
    const entry = newEntry(404, Buffer.alloc(0), T0, LIFE)
    expect(decodeEntry(encodeEntry(entry))).toStrictEqual(entry)
  })

  it('does not carry compressed variants into the encoding (they are kept beside the entry)', async () => {
    const entry = newEntry(200, BODY, T0, LIFE)
    await compressedBody(entry, 'gzip')
    expect(decodeEntry(encodeEntry(entry))).toStrictEqual(entry)
    expect(Object.keys(entry)).not.toContain('variants')
  })

  it('returns undefined for bytes with no newline', () => {
    expect(decodeEntry(Buffer.from(metaLine('v', 1).trimEnd()))).toBeUndefined()
    expect(decodeEntry(Buffer.alloc(0))).toBeUndefined()
  })

  it('returns undefined when the first line is not JSON', () => {
    expect(decodeEntry(Buffer.from('not json\nbody'))).toBeUndefined()
    expect(decodeEntry(Buffer.from('{"v":1,\n"s":200}'))).toBeUndefined()
    expect(decodeEntry(Buffer.from([0xff, 0xfe, 0x0a, 0x00]))).toBeUndefined()
  })

  it('returns undefined when the first line is JSON but not an object', () => {
    expect(decodeEntry(Buffer.from('[]\nbody'))).toBeUndefined()
    expect(decodeEntry(Buffer.from('42\nbody'))).toBeUndefined()
    expect(decodeEntry(Buffer.from('"v"\nbody'))).toBeUndefined()
  })

  it('returns undefined when the first line is JSON null', () => {
    expect(decodeEntry(Buffer.from('null\nbody'))).toBeUndefined()
  })

  it('returns undefined for another version of the format', () => {
    // Version 1 entries (before lists carried an index and nextCursor) are misses.
    for (const v of [1, 4, '3', '2']) expect(decodeEntry(Buffer.from(`${metaLine('v', v)}body`)), String(v)).toBeUndefined()
  })

  it('reads a version 2 entry, a device list\'s index converted to the filter columns of version 3', () => {
    const { json, index } = serializeDevices([
      { id: 1, type: 'SIP', ipAddress: null, port: null, username: null, callerId: null, deviceGroupId: null, primary: true },
      { id: 2, type: 'IAX2', ipAddress: null, port: null, username: null, callerId: null, deviceGroupId: null, primary: null },
      { id: 3, type: 'sip', ipAddress: null, port: null, username: null, callerId: null, deviceGroupId: null, primary: false }
    ])
    // As version 2 wrote it: type names and positions, primary as 1 / -1 / 0, ids.
    const v2 = { s: Array.from(index.starts), n: ['sip', 'iax2'], t: [0, 1, 0], p: [1, -1, 0], d: [1, 2, 3] }
    const decoded = decodeEntry(Buffer.from(`${metaLine('v', 2).slice(0, -2)},"i":${JSON.stringify(v2)}}\n${json}`))
    expect(decoded?.items?.starts).toStrictEqual(index.starts)
    expect(decoded?.items?.ids).toStrictEqual(index.ids)
    const { type, primary } = decoded?.items?.columns ?? {}
    expect([0, 1, 2].map((i) => type?.names[type.values[i] ?? -1])).toStrictEqual(['sip', 'iax2', 'sip'])
    expect([0, 1, 2].map((i) => primary?.names[primary.values[i] ?? -1])).toStrictEqual(['true', '', 'false'])
    // A version 2 index that does not fit is a miss, as it was.
    expect(decodeEntry(Buffer.from(`${metaLine('v', 2).slice(0, -2)},"i":${JSON.stringify({ ...v2, p: [2, 0, 0] })}}\n${json}`))).toBeUndefined()
    expect(decodeEntry(Buffer.from(`${metaLine('v', 2).slice(0, -2)},"i":${JSON.stringify({ ...v2, t: [0, 5, 0] })}}\n${json}`))).toBeUndefined()
  })

  it('returns undefined for a status other than 200 or 404', () => {
    expect(decodeEntry(Buffer.from(`${metaLine('s', 500)}body`))).toBeUndefined()
    expect(decodeEntry(Buffer.from(`${metaLine('s', '200')}body`))).toBeUndefined()
  })

  it.each(['v', 's', 'e', 't', 'f', 'x'])('returns undefined when the metadata lacks %s', (field) => {
    expect(decodeEntry(Buffer.from(`${metaLine(field, undefined)}body`))).toBeUndefined()
  })

  const wrongTypes: Array<[string, unknown]> = [['e', 42], ['t', String(T0)], ['f', null], ['x', [T0]]]
  it.each(wrongTypes)('returns undefined when %s has the wrong type (%j)', (field, value) => {
    expect(decodeEntry(Buffer.from(`${metaLine(field, value)}body`))).toBeUndefined()
  })

  it('decodes well-formed metadata written by hand, with the rest of the bytes as the body', () => {
    expect(decodeEntry(Buffer.from(`${metaLine('v', 3)}a\nb`))).toStrictEqual({
      status: 200, body: Buffer.from('a\nb'), etag: BODY_TAG, storedAt: T0, freshUntil: T0 + 60_000, staleUntil: T0 + 90_000
    })
  })
})
