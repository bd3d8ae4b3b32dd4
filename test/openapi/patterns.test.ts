// The contract's patterns for ids and the list's query are built from the constants the code checks
// them with; these check that the built patterns accept exactly what the code accepts, value by
// value, so the contract cannot drift from the parser by a digit or a character.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decimalPattern } from '../../src/schemas/decimal.js'
import { idOf, MAX_USER_ID, USER_ID_PATTERN } from '../../src/schemas/device.js'
import { CURSOR_PATTERN, LIMIT_PATTERN, TYPE_LIST_PATTERN } from '../../src/schemas/device-list.js'
import { parseListQuery } from '../../src/paging/list-query.js'
import { LIMITISH, TYPEISH } from '../contract/queries.js'

/** What the parser says of one parameter's value: accepted or refused. */
const parserAccepts = (name: string, value: string) => parseListQuery(new URLSearchParams({ [name]: value }).toString()).ok
const patternAccepts = (pattern: string, value: string) => new RegExp(pattern, 'u').test(value)

describe('the contract\'s patterns', () => {
  it('spell the user id rule as it always was: 0 to 2147483647 without sign or leading zeros', () => {
    expect(USER_ID_PATTERN).toBe('^(0|[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|' +
      '2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]|214748364[0-7])$')
    for (const id of ['0', '7', '10', '2147483647']) expect(idOf(id), id).toBe(Number(id))
    for (const id of ['00', '07', '-1', '+1', '2147483648', '1e3', ' 1', '']) expect(idOf(id), id).toBeUndefined()
  })

  it('match exactly the decimal integers of their range, for ranges of every length', () => {
    for (const [max, min] of [[1, 1], [9, 0], [10, 1], [20, 1], [99, 0], [100, 1], [1000, 1], [3600, 1], [65535, 0]] as const) {
      const pattern = new RegExp(decimalPattern(max, min))
      const wrong: number[] = []
      for (let n = -2; n <= 10 * max + 10; n++) if (pattern.test(String(n)) !== (n >= min && n <= max)) wrong.push(n)
      expect(wrong, `${min}..${max}`).toStrictEqual([])
      expect(pattern.test(`0${max}`), `0${max}`).toBe(false)
    }
    fc.assert(fc.property(fc.integer({ min: -10, max: MAX_USER_ID + 10 }), (n) => new RegExp(USER_ID_PATTERN).test(String(n)) === (n >= 0 && n <= MAX_USER_ID)), { seed: 26 })
  })

  it('refuse a `limit` exactly when the list\'s parser does', () => {
    fc.assert(fc.property(LIMITISH, (value) => patternAccepts(LIMIT_PATTERN, value) === parserAccepts('limit', value)), { seed: 26, numRuns: 2000 })
  })

  it('refuse a `type` exactly when the list\'s parser does', () => {
    fc.assert(fc.property(TYPEISH, (value) => patternAccepts(TYPE_LIST_PATTERN, value) === parserAccepts('type', value)), { seed: 26, numRuns: 2000 })
    const twenty = Array.from({ length: 20 }, (_, i) => `t${i}`)
    expect([patternAccepts(TYPE_LIST_PATTERN, twenty.join(',')), parserAccepts('type', twenty.join(','))]).toStrictEqual([true, true])
    expect([patternAccepts(TYPE_LIST_PATTERN, [...twenty, 'x'].join(',')), parserAccepts('type', [...twenty, 'x'].join(','))]).toStrictEqual([false, false])
  })

  it('refuse a `cursor` the parser refuses (the route refuses more: a well-formed cursor it did not issue)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 600 }), (value) => !parserAccepts('cursor', value) ? !(patternAccepts(CURSOR_PATTERN, value) && value.length <= 512) : true), { seed: 26 })
  })
})
