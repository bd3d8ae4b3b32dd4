import { describe, expect, it } from 'vitest'
import { devicesGetHash, signParams } from '../../src/mor/sign.js'

describe('devicesGetHash', () => {
  it('matches the worked example of the MOR wiki: user_id 100 with secret 456789', () => {
    expect(devicesGetHash(100, '456789')).toBe('71516eea4850f7e0300ac86adf9fb64bca845aa7')
  })

  it('signs the admin user, whose id is 0', () => {
    // sha1("0" + "456789")
    expect(devicesGetHash(0, '456789')).toBe('bf833f7bb04608dddb5bae81d1f38867142c33b1')
  })

  it('gives a different hash for a different secret', () => {
    // sha1("2" + "demo-secret-456789")
    expect(devicesGetHash(2, 'demo-secret-456789')).toBe('4d2e9511ac5086a0c1a0b69cf131be314ed667c7')
  })
})

describe('signParams', () => {
  it('hashes the values concatenated without separators, then the secret', () => {
    // sha1("1" + "23" + "ab") = sha1("123ab")
    expect(signParams(['1', '23'], 'ab')).toBe('3ff2b8e69efa4d028602b13918f05bdcd2b5c1b5')
    expect(signParams(['12', '3'], 'ab')).toBe('3ff2b8e69efa4d028602b13918f05bdcd2b5c1b5')
  })

  it('signs a single value as the MOR wiki\'s worked example does (user_id 100, secret 456789)', () => {
    expect(signParams(['100'], '456789')).toBe('71516eea4850f7e0300ac86adf9fb64bca845aa7')
  })

  it('returns 40 lowercase hex digits', () => {
    expect(signParams([], 'x')).toMatch(/^[0-9a-f]{40}$/)
  })
})
