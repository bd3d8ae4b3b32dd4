import { describe, expect, it } from 'vitest'
import { filterKey, isWholeList, nextPageSearch, parseListQuery, type ListQuery } from '../../src/paging/list-query.js'
import { decodeCursor, encodeCursor } from '../../src/paging/cursor.js'

const ok = (search: string): ListQuery => {
  const parsed = parseListQuery(search)
  if (!parsed.ok) throw new Error(parsed.detail)
  return parsed.query
}
const refused = (search: string): string => {
  const parsed = parseListQuery(search)
  if (parsed.ok) throw new Error(`${search} was accepted`)
  return parsed.detail
}

describe('parseListQuery', () => {
  it('reads no query as the whole list', () => {
    expect(isWholeList(ok(''))).toBe(true)
    expect(isWholeList(ok('limit=5'))).toBe(false)
  })

  it('reads types case-insensitively, once each, in one order', () => {
    expect(ok('type=SIP,iax2,Sip').types).toStrictEqual(['iax2', 'sip'])
    expect(filterKey(ok('type=IAX2,sip&primary=true'))).toBe(filterKey(ok('primary=true&type=sip,Iax2')))
  })

  it('reads primary, limit and cursor', () => {
    expect(ok('primary=false&limit=1000&cursor=abc_-')).toStrictEqual({ types: undefined, primary: false, limit: 1000, cursor: 'abc_-' })
    expect(ok('limit=1').limit).toBe(1)
  })

  it('refuses unknown parameters by name, without echoing values', () => {
    expect(refused('fields=all')).toBe('Unknown query parameter "fields": this operation takes type, primary, limit, cursor')
    const detail = refused('hash=s3cr3t-value')
    expect(detail).toContain('"hash"')
    expect(detail).not.toContain('s3cr3t')
    expect(refused(`${'x'.repeat(500)}=1`).length).toBeLessThan(150)
  })

  it('refuses bad values, naming the parameter', () => {
    for (const bad of ['limit=0', 'limit=1001', 'limit=01', 'limit=-1', 'limit=1.5', 'limit=', 'limit=99999']) expect(refused(bad), bad).toMatch(/"limit"/)
    for (const bad of ['primary=yes', 'primary=', 'primary=TRUE']) expect(refused(bad), bad).toMatch(/"primary"/)
    for (const bad of ['type=', 'type=sip,', 'type=s%20ip', `type=${'a'.repeat(33)}`, `type=${Array.from({ length: 21 }, (_, i) => `t${i}`).join(',')}`]) expect(refused(bad), bad).toMatch(/"type"/)
    for (const bad of ['cursor=', `cursor=${'a'.repeat(513)}`]) expect(refused(bad), bad).toMatch(/"cursor"/)
  })

  it('refuses a parameter given twice', () => {
    expect(refused('limit=5&limit=5')).toBe('Query parameter "limit" is given more than once')
  })

  it('writes the next page\'s query with the same filters and limit', () => {
    expect(nextPageSearch(ok('type=SIP&primary=true&limit=2'), 'CUR')).toBe('type=sip&primary=true&limit=2&cursor=CUR')
    expect(nextPageSearch(ok('limit=2&cursor=OLD'), 'NEW')).toBe('limit=2&cursor=NEW')
  })
})

describe('cursors', () => {
  const state = { kind: 'devices' as const, userId: 2147483647, version: 'Xt7qOR-fROPgjy19DsBvt5QrkW1', position: 4999, filter: 'iax2,sip|true' }

  it('round-trip', () => {
    expect(decodeCursor(encodeCursor(state))).toStrictEqual(state)
    expect(decodeCursor(encodeCursor({ ...state, filter: '|' }))).toStrictEqual({ ...state, filter: '|' })
    expect(decodeCursor(encodeCursor({ ...state, kind: 'list', filter: 'users-0a1b2c3d4e5f|' }))).toStrictEqual({ ...state, kind: 'list', filter: 'users-0a1b2c3d4e5f|' })
  })

  it('refuse anything this gateway did not write', () => {
    const text = encodeCursor(state)
    for (const bad of ['', 'not base64!', text.slice(0, -3), Buffer.from('3.1.v.0.|').toString('base64url'), Buffer.from('1.01.v.0.|').toString('base64url'), Buffer.from('1.1.v.0.SIP|').toString('base64url')]) {
      expect(decodeCursor(bad), bad).toBeUndefined()
    }
  })
})
