// A catalogue operation's query, read against its own schema: what the contract documents is
// what is accepted, and a refusal names the parameter without echoing the value (a mistyped
// parameter may carry a credential, and refusals reach logs and clients).
import fc from 'fast-check'
import { Type } from 'typebox'
import { describe, expect, it } from 'vitest'
import { PAGING_QUERY, queryReader } from '../../src/catalogue/query.js'

const paging = queryReader(Type.Object(PAGING_QUERY, { additionalProperties: false }))
const calls = queryReader(Type.Object({
  period: Type.String({ pattern: '^[a-z]{3,10}$', description: 'a period name' }),
  answered: Type.Optional(Type.Boolean({ description: 'only answered calls (true) or only the others (false)' })),
  ...PAGING_QUERY
}, { additionalProperties: false }))

const refused = (detail: string) => ({ ok: false, detail })
const LIMIT_REFUSED = refused('Query parameter "limit" has a value it does not take: page size, 1 to 1000 in decimal (no sign or leading zeros); without it the whole list comes in one answer')

describe('queryReader over the paging query', () => {
  it('reads no query, and a lone ?, as no parameters', () => {
    expect(paging.read('')).toStrictEqual({ ok: true, values: {} })
    expect(paging.read('?')).toStrictEqual({ ok: true, values: {} })
  })

  it('reads limit and cursor as the text sent, percent-decoded', () => {
    expect(paging.read('limit=%31%30&cursor=MS4yLmFi')).toStrictEqual({ ok: true, values: { limit: '10', cursor: 'MS4yLmFi' } })
    expect(paging.read('?limit=1000')).toStrictEqual({ ok: true, values: { limit: '1000' } })
  })

  it('refuses a limit outside 1 to 1000, signed, padded or not decimal, naming limit', () => {
    for (const limit of ['0', '1001', '0100', '-5', '+5', '1e2', '5.0', ' 5', '', 'ten']) {
      expect(paging.read(`limit=${encodeURIComponent(limit)}`), limit).toStrictEqual(LIMIT_REFUSED)
    }
  })

  it('refuses a cursor that is empty, too long or not base64url', () => {
    for (const cursor of ['', 'a'.repeat(513), 'ab+cd', 'ab/cd', 'ab=', 'ab cd']) {
      const outcome = paging.read(`cursor=${encodeURIComponent(cursor)}`)
      expect(outcome.ok, cursor).toBe(false)
      expect(outcome.ok ? '' : outcome.detail).toMatch(/^Query parameter "cursor" has a value it does not take/)
    }
    expect(paging.read(`cursor=${'a'.repeat(512)}`).ok).toBe(true)
  })

  it('refuses a parameter it does not take, naming what it takes', () => {
    expect(paging.read('limit=5&offset=10')).toStrictEqual(refused('Unknown query parameter "offset": this operation takes limit, cursor'))
    expect(paging.read('Limit=5')).toStrictEqual(refused('Unknown query parameter "Limit": this operation takes limit, cursor'))
  })

  it('cuts a long unknown name to 40 characters', () => {
    expect(paging.read(`${'n'.repeat(50)}=1`)).toStrictEqual(refused(`Unknown query parameter "${'n'.repeat(40)}...": this operation takes limit, cursor`))
  })

  it('refuses a parameter given twice, even with the same value', () => {
    expect(paging.read('limit=5&limit=5')).toStrictEqual(refused('Query parameter "limit" is given more than once'))
    expect(paging.read('cursor=abc&limit=5&cursor=abc')).toStrictEqual(refused('Query parameter "cursor" is given more than once'))
  })

  it('says it takes none when the schema has no parameters', () => {
    expect(queryReader(Type.Object({})).read('limit=5')).toStrictEqual(refused('Unknown query parameter "limit": this operation takes none'))
  })

  it('refuses a query that names no parameter when the schema has none, and takes it when it has some', () => {
    for (const search of ['&', '&&']) {
      expect(queryReader(Type.Object({})).read(search), search).toStrictEqual(refused('This operation takes no query parameters'))
    }
    expect(queryReader(Type.Object({ limit: Type.Optional(Type.String()) })).read('&')).toStrictEqual({ ok: true, values: {} })
  })
})

describe('queryReader with a required parameter and a boolean', () => {
  it('reads the required parameter, and the boolean as true or false', () => {
    expect(calls.read('period=today&answered=true')).toStrictEqual({ ok: true, values: { period: 'today', answered: true } })
    expect(calls.read('answered=false&period=month&limit=2')).toStrictEqual({ ok: true, values: { period: 'month', answered: false, limit: '2' } })
  })

  it('refuses a query without the required parameter, an empty one included', () => {
    const missing = refused('Query parameter "period" is required')
    expect(calls.read('')).toStrictEqual(missing)
    expect(calls.read('answered=true')).toStrictEqual(missing)
    expect(calls.read('limit=5')).toStrictEqual(missing)
  })

  it('takes only true and false for a boolean, as OpenAPI validators do', () => {
    const bad = refused('Query parameter "answered" has a value it does not take: only answered calls (true) or only the others (false)')
    for (const answered of ['1', '0', 'TRUE', 'yes', '', 'true ']) {
      expect(calls.read(`period=today&answered=${encodeURIComponent(answered)}`), answered).toStrictEqual(bad)
    }
  })

  it('refuses a bad value of the required parameter by name', () => {
    expect(calls.read('period=Today')).toStrictEqual(refused('Query parameter "period" has a value it does not take: a period name'))
  })
})

describe('a refusal never holds the value refused', () => {
  // A marker no description or parameter name contains, so finding it means the value was echoed.
  const SECRET = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map((s) => `Zq7${s}`)
  const shapes = [
    (v: string) => `limit=${encodeURIComponent(v)}`,
    (v: string) => `cursor=${encodeURIComponent(v)}`,
    (v: string) => `period=${encodeURIComponent(v)}`,
    (v: string) => `period=today&answered=${encodeURIComponent(v)}`,
    (v: string) => `period=today&period=${encodeURIComponent(v)}`,
    (v: string) => `unknown=${encodeURIComponent(v)}`,
    (v: string) => `period=today&limit=5&limit=${encodeURIComponent(v)}`
  ]

  it('for any bad value of any parameter, in any position', () => {
    fc.assert(fc.property(SECRET, fc.constantFrom(...shapes), (secret, shape) => {
      const outcome = calls.read(shape(secret))
      return !outcome.ok && !outcome.detail.includes(secret) && !outcome.detail.includes('Zq7')
    }), { seed: 26, numRuns: 1000 })
  })
})
