import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { newEntry, type CacheEntry } from '../../src/cache/entry.js'
import type { CacheOutcome, CacheResult } from '../../src/cache/devices-cache.js'
import { cacheHeaders, cacheStatus, compressedBody, matchesIfNoneMatch, negotiate, variantsOf } from '../../src/cache/http.js'

const T0 = 1_700_000_000_000
const LIFE = { ttlSeconds: 60, staleSeconds: 30, negativeTtlSeconds: 10 }
const DEVICES = Array.from({ length: 40 }, (_, i) => ({ id: i + 1, type: 'SIP', ipAddress: `10.0.0.${i + 1}`, port: 5060, username: `user${i + 1}` }))
const BODY = Buffer.from(JSON.stringify({ userId: 7, devices: DEVICES }))

/** A 200 entry stored at T0: fresh until T0 + 60 s, servable until T0 + 90 s. */
const okEntry = (): CacheEntry => newEntry(200, BODY, T0, LIFE)
const result = (entry: CacheEntry, outcome: CacheOutcome, collapsed = false): CacheResult => ({ entry, outcome, collapsed })

describe('negotiate', () => {
  it('chooses identity when there is no Accept-Encoding or it is empty', () => {
    expect(negotiate(undefined)).toBeUndefined()
    expect(negotiate('')).toBeUndefined()
  })

  it('chooses gzip when only gzip is accepted', () => {
    expect(negotiate('gzip')).toBe('gzip')
  })

  it('chooses br when only br is accepted', () => {
    expect(negotiate('br')).toBe('br')
  })

  it('prefers br when both are accepted, in either order', () => {
    expect(negotiate('gzip, br')).toBe('br')
    expect(negotiate('br, gzip')).toBe('br')
    expect(negotiate('gzip, deflate, br, zstd')).toBe('br')
  })

  it('falls back to gzip when br is refused with q=0', () => {
    expect(negotiate('br;q=0, gzip')).toBe('gzip')
  })

  it('reads q=0.0 as a refusal', () => {
    expect(negotiate('br;q=0.0')).toBeUndefined()
    expect(negotiate('br;q=0.000, gzip;q=0.0')).toBeUndefined()
  })

  it('accepts a coding with a small but positive q', () => {
    expect(negotiate('br;q=0.001')).toBe('br')
  })

  it('follows the client\'s preference between br and gzip, and picks br on a tie', () => {
    expect(negotiate('gzip;q=1, br;q=0.1')).toBe('gzip')
    expect(negotiate('gzip;q=0.5, br;q=0.8')).toBe('br')
    expect(negotiate('gzip;q=0.5, br;q=0.5')).toBe('br')
  })

  it('takes * as accepting br', () => {
    expect(negotiate('*')).toBe('br')
  })

  it('takes *;q=0 as refusing every coding not listed', () => {
    expect(negotiate('*;q=0')).toBeUndefined()
    expect(negotiate('gzip, *;q=0')).toBe('gzip')
  })

  it('lets an explicit q=0 override *', () => {
    expect(negotiate('br;q=0, *')).toBe('gzip')
    expect(negotiate('*, br;q=0, gzip;q=0')).toBeUndefined()
  })

  it('chooses identity when only identity or unsupported codings are accepted', () => {
    expect(negotiate('identity')).toBeUndefined()
    expect(negotiate('deflate, zstd')).toBeUndefined()
  })

  it('ignores the case of coding names and the q parameter', () => {
    expect(negotiate('GZIP')).toBe('gzip')
    expect(negotiate('Gzip, BR')).toBe('br')
    expect(negotiate('BR;Q=0, GZIP')).toBe('gzip')
  })

  it('ignores whitespace around names, separators and parameters', () => {
    expect(negotiate('  gzip  ,   br  ')).toBe('br')
    expect(negotiate(' br ; q=0 ,  gzip ; q=0.5 ')).toBe('gzip')
    expect(negotiate('br;  q=0  ')).toBeUndefined()
  })
})

describe('compressedBody', () => {
  it('brotli-compresses the body for br', async () => {
    const compressed = await compressedBody(okEntry(), 'br')
    expect(compressed.length).toBeLessThan(BODY.length)
    expect(brotliDecompressSync(compressed)).toStrictEqual(BODY)
  })

  it('gzips the body for gzip', async () => {
    const compressed = await compressedBody(okEntry(), 'gzip')
    expect(compressed.subarray(0, 2)).toStrictEqual(Buffer.from([0x1f, 0x8b]))
    expect(gunzipSync(compressed)).toStrictEqual(BODY)
  })

  it('compresses an empty body to something that decompresses to empty', async () => {
    const entry = newEntry(404, Buffer.alloc(0), T0, LIFE)
    expect(brotliDecompressSync(await compressedBody(entry, 'br'))).toStrictEqual(Buffer.alloc(0))
    expect(gunzipSync(await compressedBody(entry, 'gzip'))).toStrictEqual(Buffer.alloc(0))
  })

  it('returns the same Promise on the second call for the same coding', async () => {
    const entry = okEntry()
    const first = compressedBody(entry, 'br')
    const second = compressedBody(entry, 'br')
    expect(second).toBe(first)
    await first
    expect(compressedBody(entry, 'br')).toBe(first)
  })

  it('keeps a separate variant per coding on the entry', async () => {
    const entry = okEntry()
    const br = compressedBody(entry, 'br')
    const gzip = compressedBody(entry, 'gzip')
    expect(gzip).not.toBe(br)
    expect(variantsOf(entry)).toStrictEqual({ br, gzip })
    expect(brotliDecompressSync(await br)).toStrictEqual(BODY)
    expect(gunzipSync(await gzip)).toStrictEqual(BODY)
  })

  it('keeps variants per entry, not per body', () => {
    const one = okEntry()
    const other = okEntry()
    expect(compressedBody(other, 'gzip')).not.toBe(compressedBody(one, 'gzip'))
  })

  it('forgets a failed compression so the next call tries again', async () => {
    // Not a Buffer: zlib rejects it, which stands in for any compression failure.
    const entry = { ...okEntry(), body: 42 as unknown as Buffer }
    const failed = compressedBody(entry, 'gzip')
    await expect(failed).rejects.toThrow(TypeError)
    expect(variantsOf(entry)).toStrictEqual({})
    const retried = compressedBody(entry, 'gzip')
    expect(retried).not.toBe(failed)
    await expect(retried).rejects.toThrow(TypeError)
  })
})

describe('cacheStatus', () => {
  it('reports a hit with the whole seconds of freshness left', () => {
    expect(cacheStatus(result(okEntry(), 'hit'), T0 + 15_000)).toBe('mor-gateway; hit; ttl=45')
    expect(cacheStatus(result(okEntry(), 'hit'), T0 + 15_999)).toBe('mor-gateway; hit; ttl=44')
  })

  it('reports a collapsed hit', () => {
    expect(cacheStatus(result(okEntry(), 'hit', true), T0)).toBe('mor-gateway; hit; ttl=60; collapsed')
  })

  it('reports a stale-while-revalidate answer with a negative ttl', () => {
    expect(cacheStatus(result(okEntry(), 'stale'), T0 + 75_000)).toBe('mor-gateway; fwd=stale; ttl=-15; detail=stale-while-revalidate')
    expect(cacheStatus(result(okEntry(), 'stale', true), T0 + 75_000)).toBe('mor-gateway; fwd=stale; ttl=-15; detail=stale-while-revalidate; collapsed')
  })

  it('reports a stale-if-error answer with a negative ttl', () => {
    expect(cacheStatus(result(okEntry(), 'stale-if-error'), T0 + 62_000)).toBe('mor-gateway; fwd=stale; ttl=-2; detail=stale-if-error')
    expect(cacheStatus(result(okEntry(), 'stale-if-error', true), T0 + 62_000)).toBe('mor-gateway; fwd=stale; ttl=-2; detail=stale-if-error; collapsed')
  })

  it('reports a miss as forwarded and stored, without a ttl', () => {
    expect(cacheStatus(result(okEntry(), 'miss'), T0)).toBe('mor-gateway; fwd=miss; stored')
    expect(cacheStatus(result(okEntry(), 'miss', true), T0)).toBe('mor-gateway; fwd=miss; stored; collapsed')
  })

  it('reports a revalidation as a forwarded request, stored, without a ttl', () => {
    expect(cacheStatus(result(okEntry(), 'revalidated'), T0)).toBe('mor-gateway; fwd=request; stored')
    expect(cacheStatus(result(okEntry(), 'revalidated', true), T0)).toBe('mor-gateway; fwd=request; stored; collapsed')
  })
})

describe('cacheHeaders', () => {
  it('gives a hit its age, the freshness left as max-age, and the ETag', () => {
    const entry = okEntry()
    expect(cacheHeaders(result(entry, 'hit'), T0 + 15_400)).toStrictEqual({
      'cache-status': 'mor-gateway; hit; ttl=44',
      age: '15',
      'cache-control': 'private, max-age=44',
      etag: entry.etag
    })
  })

  it('gives a hit at the moment of storing age 0 and the full TTL', () => {
    const entry = okEntry()
    expect(cacheHeaders(result(entry, 'hit'), T0)).toStrictEqual({
      'cache-status': 'mor-gateway; hit; ttl=60',
      age: '0',
      'cache-control': 'private, max-age=60',
      etag: entry.etag
    })
  })

  it('never gives a stale answer a negative max-age', () => {
    const entry = okEntry()
    expect(cacheHeaders(result(entry, 'stale'), T0 + 75_000)).toStrictEqual({
      'cache-status': 'mor-gateway; fwd=stale; ttl=-15; detail=stale-while-revalidate',
      age: '75',
      'cache-control': 'private, max-age=0',
      etag: entry.etag
    })
    expect(cacheHeaders(result(entry, 'stale-if-error', true), T0 + 89_999)).toStrictEqual({
      'cache-status': 'mor-gateway; fwd=stale; ttl=-30; detail=stale-if-error; collapsed',
      age: '89',
      'cache-control': 'private, max-age=0',
      etag: entry.etag
    })
  })

  it('dates a miss from the entry storedAt, not the clock: age 0 and the full TTL', () => {
    const entry = okEntry()
    expect(cacheHeaders(result(entry, 'miss'), T0 + 4_321)).toStrictEqual({
      'cache-status': 'mor-gateway; fwd=miss; stored',
      age: '0',
      'cache-control': 'private, max-age=60',
      etag: entry.etag
    })
  })

  it('dates a collapsed revalidation from the entry storedAt, not the clock', () => {
    const entry = okEntry()
    expect(cacheHeaders(result(entry, 'revalidated', true), T0 + 70_000)).toStrictEqual({
      'cache-status': 'mor-gateway; fwd=request; stored; collapsed',
      age: '0',
      'cache-control': 'private, max-age=60',
      etag: entry.etag
    })
  })

  it('sends no ETag for a cached User not found, with the negative TTL as max-age', () => {
    const entry = newEntry(404, Buffer.alloc(0), T0, LIFE)
    expect(cacheHeaders(result(entry, 'hit'), T0 + 2_500)).toStrictEqual({
      'cache-status': 'mor-gateway; hit; ttl=7',
      age: '2',
      'cache-control': 'private, max-age=7'
    })
    expect(cacheHeaders(result(entry, 'miss'), T0 + 2_500)).toStrictEqual({
      'cache-status': 'mor-gateway; fwd=miss; stored',
      age: '0',
      'cache-control': 'private, max-age=10'
    })
  })

  it('never reports a negative age when the entry was stored by a clock ahead of this one', () => {
    const entry = okEntry()
    expect(cacheHeaders(result(entry, 'hit'), T0 - 2_000)).toStrictEqual({
      'cache-status': 'mor-gateway; hit; ttl=62',
      age: '0',
      'cache-control': 'private, max-age=62',
      etag: entry.etag
    })
  })
})

describe('matchesIfNoneMatch', () => {
  const ETAG = '"Xt7qOR-fROPgjy19DsBvt5QrkW1"'

  it('does not match without an If-None-Match header, or with an empty one', () => {
    expect(matchesIfNoneMatch(undefined, ETAG)).toBe(false)
    expect(matchesIfNoneMatch('', ETAG)).toBe(false)
  })

  it('matches * whatever the ETag, with or without surrounding spaces', () => {
    expect(matchesIfNoneMatch('*', ETAG)).toBe(true)
    expect(matchesIfNoneMatch(' * ', ETAG)).toBe(true)
  })

  it('matches the exact tag', () => {
    expect(matchesIfNoneMatch(ETAG, ETAG)).toBe(true)
  })

  it('matches weakly: a W/ prefix on the header tag, on ours, or on both', () => {
    expect(matchesIfNoneMatch(`W/${ETAG}`, ETAG)).toBe(true)
    expect(matchesIfNoneMatch(ETAG, `W/${ETAG}`)).toBe(true)
    expect(matchesIfNoneMatch(`W/${ETAG}`, `W/${ETAG}`)).toBe(true)
  })

  it('matches a tag anywhere in a list, with spaces around the commas', () => {
    expect(matchesIfNoneMatch(`"other" , W/"another",   ${ETAG}  `, ETAG)).toBe(true)
    expect(matchesIfNoneMatch(`${ETAG},"other"`, ETAG)).toBe(true)
  })

  it('does not match other tags, the tag unquoted, or a tag differing only in case', () => {
    expect(matchesIfNoneMatch('"other", W/"another"', ETAG)).toBe(false)
    expect(matchesIfNoneMatch(ETAG.slice(1, -1), ETAG)).toBe(false)
    expect(matchesIfNoneMatch(ETAG.toLowerCase(), ETAG)).toBe(false)
  })
})
