// A catalogue list as the cache keeps it (JSON plus item offsets) and what Redis gives back of the
// index; the pages cut from it are in items-cut.test.ts.
import { describe, expect, it } from 'vitest'
import { cutList, loadItems, serializeItems, serializeList, shiftItems, storeItems } from '../../src/paging/items.js'
import { idOf, users } from './lists.js'

/** Each item cut back out of the bytes at its offsets, parsed. */
function cutOut (json: string, starts: Uint32Array): unknown[] {
  const body = Buffer.from(json)
  return Array.from({ length: starts.length - 1 }, (_, i) => JSON.parse(body.subarray(starts[i], (starts[i + 1] as number) - 1).toString('utf8')))
}

describe('serializeList', () => {
  it('writes the answer as JSON, the list under its key and nextCursor null', () => {
    const items = users(12)
    const { json } = serializeList({}, 'users', items, idOf)
    expect(JSON.parse(json)).toStrictEqual({ users: items, nextCursor: null })
  })

  it('puts the head\'s fields before the list', () => {
    const items = users(3)
    const { json, index } = serializeList({ userId: 2, name: 'Zoë' }, 'calls', items, idOf)
    expect(JSON.parse(json)).toStrictEqual({ userId: 2, name: 'Zoë', calls: items, nextCursor: null })
    expect(json.startsWith('{"userId":2,"name":"Zoë","calls":[')).toBe(true)
    expect(cutOut(json, index.starts)).toStrictEqual(items)
  })

  it('gives each item\'s byte offset: every item cuts back out whole', () => {
    const items = users(20)
    const { json, index } = serializeList({}, 'users', items, idOf)
    expect(cutOut(json, index.starts)).toStrictEqual(items)
    expect(Array.from(index.ids)).toStrictEqual(items.map((u) => u.id))
  })

  it('ends the offsets one past the list, as if a comma followed the last item', () => {
    const { json, index } = serializeList({}, 'users', users(4), idOf)
    const body = Buffer.from(json)
    expect(body.subarray((index.starts[4] as number) - 1).toString()).toBe('],"nextCursor":null}')
  })

  it('writes an empty list with one offset, at the closing bracket', () => {
    const { json, index } = serializeList({}, 'users', [], idOf)
    expect(json).toBe('{"users":[],"nextCursor":null}')
    expect(Array.from(index.starts)).toStrictEqual([json.indexOf(']')])
    expect(index.ids.length).toBe(0)
  })

  it('keeps offsets in bytes for multi-byte items one after another', () => {
    const items = ['😀😀', 'ü', '€', 'a'].map((username, i) => ({ id: i + 1, username }))
    const { json, index } = serializeList({}, 'users', items, idOf)
    expect(Buffer.byteLength(json)).toBeGreaterThan(json.length)
    expect(cutOut(json, index.starts)).toStrictEqual(items)
  })
})

describe('storeItems and loadItems', () => {
  const { json, index } = serializeList({}, 'users', users(5), idOf)
  const length = Buffer.byteLength(json)

  it('round-trips an index through its stored form, as JSON as Redis keeps it', () => {
    const stored = JSON.parse(JSON.stringify(storeItems(index))) as unknown
    expect(loadItems(stored, length)).toStrictEqual(index)
  })

  it('round-trips the index of an empty list', () => {
    const empty = serializeList({}, 'users', [], idOf)
    expect(loadItems(storeItems(empty.index), empty.json.length)).toStrictEqual(empty.index)
  })

  const good = storeItems(index)
  const malformed: Array<[string, unknown]> = [
    ['nothing', undefined],
    ['null', null],
    ['text', 's'],
    ['an array', [good.s, good.d]],
    ['no ids', { s: good.s }],
    ['no starts', { d: good.d }],
    ['starts as text', { s: good.s.join(','), d: good.d }],
    ['one start too few', { s: good.s.slice(1), d: good.d }],
    ['one id too many', { s: good.s, d: [...good.d, 9] }],
    ['a decreasing start', { s: [...good.s.slice(0, 2), 1, ...good.s.slice(3)], d: good.d }],
    ['a start past the body', { s: [...good.s.slice(0, -1), length + 1], d: good.d }],
    ['a fractional start', { s: [good.s[0], 20.5, ...good.s.slice(2)], d: good.d }],
    ['a start as text', { s: [String(good.s[0]), ...good.s.slice(1)], d: good.d }],
    ['a NaN start', { s: [Number.NaN, ...good.s.slice(1)], d: good.d }],
    ['a negative id', { s: good.s, d: [-1, ...good.d.slice(1)] }],
    ['an id past 32 bits', { s: good.s, d: [2 ** 32, ...good.d.slice(1)] }],
    ['a fractional id', { s: good.s, d: [1.5, ...good.d.slice(1)] }],
    ['an id as text', { s: good.s, d: ['1', ...good.d.slice(1)] }],
    ['a null id', { s: good.s, d: [null, ...good.d.slice(1)] }]
  ]
  for (const [what, stored] of malformed) {
    it(`rejects a stored index with ${what}`, () => { expect(loadItems(stored, length)).toBeUndefined() })
  }

  it('rejects a stored index that fits a longer body than the one it is stored with', () => {
    expect(loadItems(good, (good.s[5] as number) - 1)).toBeUndefined()
  })

  it('rejects starts that do not increase: no item is empty', () => {
    // Two equal starts would cut an empty slice, and the page around it would not be JSON.
    expect(loadItems({ s: [good.s[0], good.s[0], ...good.s.slice(2)], d: good.d }, length)).toBeUndefined()
  })
})

describe('filter columns', () => {
  const items = [{ id: 4, kind: 'SIP' }, { id: 5, kind: 'fax' }, { id: 6, kind: 'SIP' }, { id: 9, kind: 'iax2' }]
  const indexed = serializeItems(items, (item) => item.id, { kind: (item) => item.kind.toLowerCase() })

  it('name each item\'s value once, in order of first appearance', () => {
    expect(indexed.index.columns).toStrictEqual({ kind: { names: ['sip', 'fax', 'iax2'], values: Uint8Array.from([0, 1, 0, 2]) } })
  })

  it('take four bytes an item only past 256 names', () => {
    const many = Array.from({ length: 300 }, (_, i) => ({ id: i, kind: `k${i}` }))
    const { json, index } = serializeItems(many, (item) => item.id, { kind: (item) => item.kind })
    expect(index.columns?.kind?.values).toBeInstanceOf(Uint32Array)
    expect(index.columns?.kind?.values[299]).toBe(299)
    expect(loadItems(JSON.parse(JSON.stringify(storeItems(index))), Buffer.byteLength(json))).toStrictEqual(index)
  })

  it('round-trip through the stored form, as JSON as Redis keeps it', () => {
    const stored = JSON.parse(JSON.stringify(storeItems(indexed.index))) as unknown
    expect(loadItems(stored, Buffer.byteLength(indexed.json))).toStrictEqual(indexed.index)
  })

  it('keep the items whose value a filter accepts, and none for a column the list does not have', () => {
    const body = Buffer.from(`{"items":${indexed.json.slice(0, -1)}],"nextCursor":null}`)
    const index = shiftItems(indexed.index, Buffer.byteLength('{"items":'))
    const bind = { kind: 'list' as const, subject: 0, filter: 'x|' }
    const ids = (filters: Record<string, Set<string>>) => {
      const cut = cutList(body, '"v"', index, { keep: undefined, filters, scope: '*', limit: undefined, cursor: undefined, bind })
      if ('refused' in cut) throw new Error(cut.refused)
      return (JSON.parse(cut.body.toString()) as { items: Array<{ id: number }> }).items.map((item) => item.id)
    }
    expect(ids({ kind: new Set(['sip']) })).toStrictEqual([4, 6])
    expect(ids({ kind: new Set(['fax', 'iax2']) })).toStrictEqual([5, 9])
    expect(ids({ kind: new Set(['h323']) })).toStrictEqual([])
    expect(ids({ color: new Set(['sip']) })).toStrictEqual([])
  })
})
