import { describe, expect, it } from 'vitest'
import { serializeDevices } from '../../src/devices/device-index.js'
import { listView, type PageOutcome } from '../../src/paging/page.js'
import { parseListQuery, type ListQuery } from '../../src/paging/list-query.js'
import { decodeCursor, encodeCursor } from '../../src/paging/cursor.js'
import { newEntry, type CacheEntry } from '../../src/cache/entry.js'
import { shiftItems } from '../../src/paging/items.js'
import type { Device } from '../../src/schemas/device.js'

const LIFE = { ttlSeconds: 60, staleSeconds: 60, negativeTtlSeconds: 10 }
const TYPES = ['SIP', 'IAX2', 'sip', 'FAX', 'Virtual']

const device = (i: number): Device => ({
  id: i + 1,
  type: TYPES[i % TYPES.length] as string,
  ipAddress: null,
  port: i % 3 === 0 ? null : 5060,
  // Multi-byte text and JSON escapes, so byte offsets and character offsets differ.
  username: i % 4 === 0 ? `Zoë "${i}" ☎` : `u${i}`,
  callerId: null,
  deviceGroupId: null,
  primary: i % 7 === 0 ? null : i % 2 === 0
})

/** A list entry exactly as the cache makes one. */
function listEntry (userId: number, devices: Device[]): CacheEntry {
  const { json, index } = serializeDevices(devices)
  const head = `{"userId":${userId},"devices":`
  return newEntry(200, Buffer.from(`${head}${json},"nextCursor":null}`), 0, LIFE, { items: shiftItems(index, Buffer.byteLength(head)) })
}

const query = (search: string): ListQuery => {
  const parsed = parseListQuery(search)
  if (!parsed.ok) throw new Error(parsed.detail)
  return parsed.query
}

const page = (entry: CacheEntry, userId: number, search: string) => {
  const view: PageOutcome = listView(entry, userId, query(search))
  if (view.kind !== 'page') throw new Error(`not a page: ${view.kind}`)
  return { ...view, json: JSON.parse(view.body.toString()) as { userId: number, devices: Device[], nextCursor: string | null } }
}

/** Walks every page of a query; the devices in order and the number of pages. */
function walk (entry: CacheEntry, userId: number, search: string) {
  const seen: Device[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const p = page(entry, userId, cursor === null ? search : `${search}&cursor=${cursor}`)
    seen.push(...p.json.devices)
    cursor = p.json.nextCursor
    pages++
  } while (cursor !== null && pages < 10_000)
  return { seen, pages }
}

describe('listView', () => {
  const devices = Array.from({ length: 103 }, (_, i) => device(i))
  const entry = listEntry(7, devices)

  it('gives the cached body itself, with its own tag, for the whole list', () => {
    const view = listView(entry, 7, query(''))
    expect(view).toMatchObject({ kind: 'page', etag: entry.etag, variant: '', next: null })
    expect((view as { body: Buffer }).body).toBe(entry.body)
  })

  it('cuts pages that together are the list, in MOR\'s order, with valid JSON each', () => {
    for (const limit of [1, 10, 50, 102, 103, 1000]) {
      const { seen, pages } = walk(entry, 7, `limit=${limit}`)
      expect(seen, `limit=${limit}`).toStrictEqual(devices)
      expect(pages).toBe(Math.max(1, Math.ceil(devices.length / limit)))
    }
  })

  it('applies the filters before paging', () => {
    const wanted = devices.filter((d) => ['sip', 'fax'].includes(d.type.toLowerCase()) && d.primary === true)
    expect(wanted.length).toBeGreaterThan(5)
    expect(walk(entry, 7, 'type=sip,FAX&primary=true&limit=4').seen).toStrictEqual(wanted)
    expect(page(entry, 7, 'type=sip,FAX&primary=true').json.devices).toStrictEqual(wanted)
    expect(page(entry, 7, 'primary=false').json.devices).toStrictEqual(devices.filter((d) => d.primary === false))
    expect(page(entry, 7, 'type=h323').json).toStrictEqual({ userId: 7, devices: [], nextCursor: null })
  })

  it('ends the last page with a null cursor, also when it is exactly full', () => {
    const last = page(entry, 7, 'limit=103')
    expect(last.json.nextCursor).toBeNull()
    expect(last.next).toBeNull()
    expect(page(entry, 7, 'limit=102').json.nextCursor).not.toBeNull()
  })

  it('gives every variant its own tag, the same for the same variant', () => {
    const tags = ['limit=10', 'limit=11', 'type=sip', 'type=sip&limit=10', 'primary=true'].map((s) => page(entry, 7, s).etag)
    expect(new Set([...tags, entry.etag]).size).toBe(tags.length + 1)
    expect(page(entry, 7, 'limit=10&type=SIP').etag).toBe(page(entry, 7, 'type=sip&limit=10').etag)
    const second = page(entry, 7, `limit=10&cursor=${page(entry, 7, 'limit=10').json.nextCursor}`)
    expect(second.etag).not.toBe(page(entry, 7, 'limit=10').etag)
  })

  it('answers stale-cursor when the list has changed, and keeps cursors of an unchanged list', () => {
    const cursor = page(entry, 7, 'limit=10').json.nextCursor as string
    const changed = listEntry(7, devices.slice(1))
    expect(listView(changed, 7, query(`limit=10&cursor=${cursor}`))).toStrictEqual({ kind: 'stale-cursor' })
    const refetched = listEntry(7, devices)
    expect(page(refetched, 7, `limit=10&cursor=${cursor}`).json.devices).toStrictEqual(devices.slice(10, 20))
  })

  it('refuses a cursor of another user, other filters, or a position past the list', () => {
    const cursor = page(entry, 7, 'limit=10&type=sip').json.nextCursor as string
    expect(listView(entry, 8, query(`limit=10&type=sip&cursor=${cursor}`))).toMatchObject({ kind: 'bad-cursor' })
    expect(listView(entry, 7, query(`limit=10&cursor=${cursor}`))).toMatchObject({ kind: 'bad-cursor', detail: expect.stringContaining('other filters') })
    const state = decodeCursor(cursor)
    if (!state) throw new Error('cursor did not decode')
    const far = encodeCursor({ ...state, position: 104 })
    expect(listView(entry, 7, query(`limit=10&type=sip&cursor=${far}`))).toMatchObject({ kind: 'bad-cursor' })
    const end = encodeCursor({ ...state, position: 103 })
    expect(page(entry, 7, `limit=10&type=sip&cursor=${end}`).json.devices).toStrictEqual([])
  })

  it('pages an empty list', () => {
    const empty = listEntry(3, [])
    expect(page(empty, 3, 'limit=5').json).toStrictEqual({ userId: 3, devices: [], nextCursor: null })
  })
})
