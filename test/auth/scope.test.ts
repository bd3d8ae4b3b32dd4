// A token's user claim read as a scope: only canonical ids are ids, so no spelling of a number
// (a sign, -0, leading zeros, spaces, an exponent in text) can name user 0, MOR's admin, or any
// user the claim did not name exactly.
import { describe, expect, it } from 'vitest'
import { scopeFromClaim } from '../../src/auth/scope.js'

describe('scopeFromClaim', () => {
  it.each([
    ['an integer', 2, '2'],
    ['its decimal text', '2', '2'],
    ['user 0 as an integer', 0, '0'],
    ['user 0 as text', '0', '0'],
    ['the largest id', 2147483647, '2147483647'],
    ['the largest id as text', '2147483647', '2147483647'],
    ['an array of ids in any order', [5, '1', 3], '1,3,5'],
    ['every user', '*', '*'],
    // JSON numbers have no spelling once parsed: 0.0 and 1e2 are the values 0 and 100.
    ['a number written 0.0 (the value 0)', 0.0, '0'],
    ['a number written 1e2 (the value 100)', 1e2, '100']
  ])('reads %s as the users %s', (_what, claim, text) => {
    expect(scopeFromClaim(claim)?.text).toBe(text)
  })

  it.each([
    ['minus zero', -0],
    ['minus zero in an array', [2, -0]],
    ['"-0"', '-0'],
    ['a negative id', -1],
    ['"+1"', '+1'],
    ['"01"', '01'],
    ['"00"', '00'],
    ['" 1"', ' 1'],
    ['"1 "', '1 '],
    ['"1" and a newline', '1\n'],
    ['"1e2"', '1e2'],
    ['"1.0"', '1.0'],
    ['"0x10"', '0x10'],
    ['"" (empty text)', ''],
    ['a fraction', 1.5],
    ['an id past MOR\'s range', 2147483648],
    ['its text', '2147483648'],
    ['an unsafe integer', 2 ** 53],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['non-ASCII digits', '\u0661'],
    ['"*" inside an array', ['*']],
    ['an empty array', []],
    ['true', true],
    ['null', null],
    ['an object', { id: 2 }]
  ])('refuses %s', (_what, claim) => {
    expect(scopeFromClaim(claim)).toBeUndefined()
  })
})
