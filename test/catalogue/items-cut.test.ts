// The pages and scoped views cut out of a cached catalogue list: walking the cursors gives every
// item once, in order; a cursor only works for the resource, the subject and the version of the
// list it was issued for; every variant has its own ETag.
import { describe, expect, it } from 'vitest'
import { cutList, serializeList, type CutOutcome, type ItemIndex } from '../../src/paging/items.js'
import { encodeCursor } from '../../src/paging/cursor.js'
import { CATALOGUE } from '../../src/catalogue/catalogue.js'
import { idOf, users } from './lists.js'

interface Cached { body: Buffer, etag: string, index: ItemIndex }
const cached = (n: number, etag = '"v1abc"'): Cached => {
  const { json, index } = serializeList({}, 'users', users(n), idOf)
  return { body: Buffer.from(json), etag, index }
}

const BIND = { kind: 'list' as const, subject: 0, filter: 'users|' }
type Options = Partial<Parameters<typeof cutList>[3]>
const cut = (list: Cached, options: Options = {}): CutOutcome =>
  cutList(list.body, list.etag, list.index, { keep: undefined, scope: '*', limit: undefined, cursor: undefined, bind: BIND, ...options })

function page (list: Cached, options: Options = {}) {
  const outcome = cut(list, options)
  if ('refused' in outcome) throw new Error(`refused: ${outcome.refused}`)
  return { ...outcome, json: JSON.parse(outcome.body.toString('utf8')) as { users: Array<{ id: number }>, nextCursor: string | null } }
}

/** Every page of a list from the first, following nextCursor; the ids in order and each page's size. */
function walk (list: Cached, options: Options = {}) {
  const ids: number[] = []
  const sizes: number[] = []
  let cursor: string | undefined
  do {
    const p = page(list, { ...options, cursor })
    expect(p.json.nextCursor).toBe(p.next)
    ids.push(...p.json.users.map((u) => u.id))
    sizes.push(p.json.users.length)
    cursor = p.next ?? undefined
  } while (cursor !== undefined)
  return { ids, sizes }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('cutList paging', () => {
  it('walks a list to the end with a limit: every item once, in order, full pages then the rest', () => {
    expect(walk(cached(23), { limit: 5 })).toStrictEqual({ ids: range(1, 23), sizes: [5, 5, 5, 5, 3] })
  })

  it('ends on a full page when the list is a multiple of the limit', () => {
    expect(walk(cached(10), { limit: 5 })).toStrictEqual({ ids: range(1, 10), sizes: [5, 5] })
  })

  it('gives each page\'s items exactly as serialized, multi-byte text included', () => {
    const list = cached(9)
    const all = (JSON.parse(list.body.toString()) as { users: unknown[] }).users
    expect(page(list, { limit: 4 }).json.users).toStrictEqual(all.slice(0, 4))
  })

  it('with keep, walks only the kept items, in order, with no empty page', () => {
    const keep = (id: number) => id % 3 === 0 || id === 1
    const { ids, sizes } = walk(cached(30), { keep, scope: 'u:1,3,6', limit: 4 })
    expect(ids).toStrictEqual(range(1, 30).filter(keep))
    expect(sizes).toStrictEqual([4, 4, 3])
  })

  it('with keep and no limit, gives every kept item in one page', () => {
    const keep = (id: number) => id > 20
    expect(walk(cached(25), { keep, scope: 's' })).toStrictEqual({ ids: range(21, 25), sizes: [5] })
  })

  it('gives an empty list when keep keeps nothing, and for an empty list', () => {
    expect(page(cached(5), { keep: () => false, scope: 'none', limit: 2 }).json).toStrictEqual({ users: [], nextCursor: null })
    expect(page(cached(0), { limit: 2 }).json).toStrictEqual({ users: [], nextCursor: null })
  })

  it('gives the whole list as serialized without a limit', () => {
    const list = cached(7)
    expect(page(list).body.equals(list.body)).toBe(true)
  })
})

describe('cutList cursors', () => {
  const list = cached(12)
  const second = page(list, { limit: 5 }).next as string
  const version = 'v1abc'

  it('refuses a cursor it did not issue', () => {
    // `${second}=`: base64 padding; the last, '1.0.v1abc.5.' without its filter.
    for (const cursor of ['garbage', 'a.b', '!!', `${second}=`, Buffer.from('1.0.v1abc.5.').toString('base64url')]) {
      expect(cut(list, { cursor, limit: 5 }), cursor).toStrictEqual({ refused: 'bad-cursor' })
    }
  })

  it('refuses a cursor issued for another resource, or a device list', () => {
    expect(cut(list, { cursor: second, bind: { kind: 'list', subject: 0, filter: 'user|' } })).toStrictEqual({ refused: 'other-filters' })
    // Issued for another list of this kind: named apart, so a route can say so (catalogue/view.ts reads it as bad-cursor).
    expect(cut(list, { cursor: encodeCursor({ kind: 'list', userId: 0, version, position: 5, filter: 'user|' }) })).toStrictEqual({ refused: 'other-filters' })
    expect(cut(list, { cursor: encodeCursor({ kind: 'list', userId: 0, version, position: 5, filter: '|' }) })).toStrictEqual({ refused: 'other-filters' })
    // A device list's cursor, even one whose filter reads like this list's (a device type "users").
    expect(cut(list, { cursor: encodeCursor({ kind: 'devices', userId: 0, version, position: 5, filter: 'users|' }) })).toStrictEqual({ refused: 'bad-cursor' })
  })

  it('refuses a cursor issued for another subject', () => {
    expect(cut(list, { cursor: second, bind: { kind: 'list', subject: 2, filter: 'users|' } })).toStrictEqual({ refused: 'bad-cursor' })
  })

  it('refuses a cursor past the end of the list', () => {
    expect(cut(list, { cursor: encodeCursor({ kind: 'list', userId: 0, version, position: 13, filter: 'users|' }) })).toStrictEqual({ refused: 'bad-cursor' })
  })

  it('says a cursor of another version of the list is stale', () => {
    const changed = cached(12, '"v2def"')
    expect(cut(changed, { cursor: second, limit: 5 })).toStrictEqual({ refused: 'stale-cursor' })
  })

  it('says a cursor of a longer, earlier version of the list is stale, not bad', () => {
    // Issued at position 20 of a 25-item list; the list now has 12 items under a new ETag.
    const earlier = page(cached(25), { limit: 20 }).next as string
    expect(cut(cached(12, '"v2def"'), { cursor: earlier, limit: 5 })).toStrictEqual({ refused: 'stale-cursor' })
  })

  it('takes a cursor of this resource back for each catalogue list (its name fits in a cursor)', () => {
    for (const resource of CATALOGUE.filter((r) => r.list !== undefined)) {
      const bind = { kind: 'list' as const, subject: 7, filter: `${resource.name}|` }
      const next = page(list, { limit: 5, bind }).next as string
      expect(page(list, { limit: 5, bind, cursor: next }).json.users.map((u) => u.id), resource.name).toStrictEqual(range(6, 10))
    }
  })
})

describe('cutList ETags', () => {
  const list = cached(12)
  const etagOf = (options: Options) => page(list, options).etag

  it('gives each variant its own strong ETag of this version', () => {
    const second = page(list, { limit: 5 }).next as string
    const etags = [
      etagOf({ limit: 5 }),
      etagOf({ limit: 6 }),
      etagOf({ limit: 5, cursor: second }),
      etagOf({ keep: (id) => id < 4, scope: 'a' }),
      etagOf({ keep: (id) => id < 4, scope: 'b' }),
      etagOf({ keep: (id) => id < 4, scope: 'a', limit: 5 })
    ]
    expect(new Set([...etags, list.etag]).size).toBe(etags.length + 1)
    for (const etag of etags) expect(etag).toMatch(/^"v1abc-[A-Za-z0-9_-]{12}"$/)
  })

  it('gives the same variant the same ETag, and a new version of the list a new one', () => {
    expect(etagOf({ limit: 5 })).toBe(etagOf({ limit: 5 }))
    expect(page(cached(12, '"v2def"'), { limit: 5 }).etag).not.toBe(etagOf({ limit: 5 }))
  })
})
