// Fast checks of railsParams and targetId without Ruby: each expectation is what the installed
// Rails 6.1 answered for the same request (params.test.ts replays them against Rails itself).
import { describe, expect, test } from 'vitest'
import { railsParams, targetId, type RailsValue } from '../../src/rails/params.js'
import { rubyFloatText } from '../../src/rails/ruby-float.js'

const FORM = 'application/x-www-form-urlencoded'
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1')

/** An expected hash as railsParams builds it: without a prototype, at every level. */
function hash (v: Record<string, unknown>): Record<string, RailsValue> {
  const out: Record<string, RailsValue> = Object.create(null)
  for (const [key, value] of Object.entries(v)) {
    out[key] = (Array.isArray(value)
      ? value.map((x) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? hash(x as Record<string, unknown>) : x))
      : value !== null && typeof value === 'object' ? hash(value as Record<string, unknown>) : value) as RailsValue
  }
  return out
}
const ok = (params: Record<string, unknown>): unknown => ({ ok: true, params: hash(params) })
const refused = (reason: string): unknown => ({ ok: false, reason })

describe('railsParams on query strings and forms', () => {
  test('reads a urlencoded POST body', () => {
    expect(railsParams('', bytes('device=5&name=x'), FORM, 'POST')).toStrictEqual(ok({ device: '5', name: 'x' }))
  })
  test('lets the query string win over the body on a shared top-level key', () => {
    expect(railsParams('device=1&a[x]=1', bytes('device=2&a[y]=2&b=3'), FORM, 'POST'))
      .toStrictEqual(ok({ device: '1', a: { x: '1' }, b: '3' }))
  })
  test('reads a POST body without Content-Type as a form, but not a PUT body', () => {
    expect(railsParams('', bytes('device=5'), undefined, 'POST')).toStrictEqual(ok({ device: '5' }))
    expect(railsParams('', bytes('device=5'), undefined, 'PUT')).toStrictEqual(ok({}))
  })
  test('splits the query string on ; and the body only on &', () => {
    expect(railsParams('a=1;b=2', bytes('c=3;d=4&e=5'), FORM, 'PUT')).toStrictEqual(ok({ c: '3;d=4', e: '5', a: '1', b: '2' }))
  })
  test('nests arrays and hashes and drops nils from arrays', () => {
    expect(railsParams('a[]=1&a[]&a[]=2&h[x][]=3&l[][k]=4&l[][k]=5&n', null, undefined, 'GET'))
      .toStrictEqual(ok({ a: ['1', '2'], h: { x: ['3'] }, l: [{ k: '4' }, { k: '5' }], n: null }))
  })
  test('decodes +, %20 and %2B as Rack does', () => {
    expect(railsParams('a=1+2&b=%20&c=%2B', null, undefined, 'GET')).toStrictEqual(ok({ a: '1 2', b: ' ', c: '+' }))
  })
  test('keeps __proto__ and constructor as plain keys of prototype-less hashes', () => {
    const result = railsParams('__proto__[x]=1&constructor=2', null, undefined, 'GET')
    expect(result).toStrictEqual(ok({ ['__proto__']: { x: '1' }, constructor: '2' }))
    expect(result.ok && Object.getPrototypeOf(result.params)).toBe(null)
  })
  test('refuses bad %-encoding, text that is not UTF-8 and conflicting types', () => {
    expect(railsParams('a=%zz', null, undefined, 'GET')).toStrictEqual(refused('invalid %-encoding'))
    expect(railsParams('a=%FF', null, undefined, 'GET')).toStrictEqual(refused('a parameter value is not UTF-8'))
    expect(railsParams('%FF=1', null, undefined, 'GET')).toStrictEqual(refused('parameter name is not UTF-8'))
    expect(railsParams('a=1&a[b]=2', null, undefined, 'GET')).toStrictEqual(refused('expected a hash parameter'))
  })
  test('accepts nesting 100 levels deep and refuses 101', () => {
    expect(railsParams(`a${'[b]'.repeat(99)}=1`, null, undefined, 'GET').ok).toBe(true)
    expect(railsParams(`a${'[b]'.repeat(100)}=1`, null, undefined, 'GET')).toStrictEqual(refused('parameters nested too deep'))
  })
  test('refuses 4096 separators and 65537 characters of keys in one hash', () => {
    expect(railsParams('&'.repeat(4096), null, undefined, 'GET')).toStrictEqual(refused('too many parameters'))
    expect(railsParams(`${'k'.repeat(65537)}=1`, null, undefined, 'GET')).toStrictEqual(refused('parameter key space exceeded'))
  })
  test('refuses a Content-Type Rails cannot look up', () => {
    expect(railsParams('', bytes('device=5'), 'form', 'POST')).toStrictEqual(refused('invalid Content-Type'))
  })
})

describe('railsParams on JSON and multipart bodies', () => {
  const json = (body: string, q = ''): unknown => railsParams(q, bytes(body), 'application/json', 'POST')
  test('keeps JSON integers, keeps floats as Ruby prints them and drops nils from arrays', () => {
    expect(json('{"device":5,"user_id":5.0,"a":[1,null,1e400],"b":null,"c":true}'))
      .toStrictEqual(ok({ device: 5, user_id: '5.0', a: [1, 'Infinity'], b: null, c: true }))
  })
  test('wraps a JSON array or scalar as _json, under the query string', () => {
    expect(json('[1,{"device":2}]')).toStrictEqual(ok({ _json: [1, { device: 2 }] }))
    expect(json('"x"', '_json=q')).toStrictEqual(ok({ _json: 'q' }))
  })
  test('accepts comments and refuses what Ruby\'s JSON refuses', () => {
    expect(json('/* a */ {"device": 5} // b\n')).toStrictEqual(ok({ device: 5 }))
    expect(json('{"device": NaN}')).toStrictEqual(refused('invalid JSON body'))
    expect(json(`${'['.repeat(101)}${']'.repeat(101)}`)).toStrictEqual(refused('JSON nested too deep'))
  })
  test('reads multipart fields and uploads, and keeps only the query when the body ends early', () => {
    const type = 'multipart/form-data; boundary=B'
    const body = '--B\r\nContent-Disposition: form-data; name="device"\r\n\r\n5\r\n' +
      '--B\r\nContent-Disposition: form-data; name="f"; filename="C:\\x\\a.txt"\r\nContent-Type: text/plain\r\n\r\nhi\r\n--B--\r\n'
    expect(railsParams('', bytes(body), type, 'POST')).toStrictEqual(ok({ device: '5', f: { filename: 'a.txt', type: 'text/plain' } }))
    expect(railsParams('user_id=1', bytes(body.slice(0, 40)), type, 'POST')).toStrictEqual(ok({ user_id: '1' }))
  })
})

describe('targetId', () => {
  test.each<[RailsValue | undefined, number | undefined]>([
    [5, 5], [0, 0], [2147483647, 2147483647], ['5', 5], ['0005', 5], [`${'0'.repeat(20)}7`, 7], ['2147483647', 2147483647],
    [2147483648, undefined], ['2147483648', undefined], [-1, undefined], ['-1', undefined], ['+1', undefined],
    [' 5', undefined], ['5 ', undefined], ['5\n', undefined], ['', undefined], ['５', undefined], ['٥', undefined],
    ['5.0', undefined], [5.5, undefined], [true, undefined], [null, undefined], [undefined, undefined],
    [['5'], undefined], [hash({ id: '5' }), undefined]
  ])('reads %j as %j', (value, id) => {
    expect(targetId(value)).toBe(id)
  })
})

describe('rubyFloatText', () => {
  test('prints floats as Ruby 3.1 does', () => {
    expect([5, 1e15, 1e14, 1000156680915738.1, 9999999999999998, 0.0001, 0.00001, -0, 1 / 3, 5e-324, Infinity].map(rubyFloatText))
      .toStrictEqual(['5.0', '1.0e+15', '100000000000000.0', '1000156680915738.1', '9.999999999999998e+15', '0.0001', '1.0e-05', '-0.0', '0.3333333333333333', '5.0e-324', 'Infinity'])
  })
})
