// The field kinds' readers on MOR's text as fast-xml-parser hands it over: strings, '' for an
// empty element, an array for a repeated one, an object for one with children. Each case says
// what a client sees; the schema side of every value is checked in fields-schema.test.ts.
import { describe, expect, it } from 'vitest'
import { choice, date, decimal, flag, integer, money, nested, object, text } from '../../src/catalogue/fields.js'

const read = (field: { read: (node: Record<string, unknown>) => unknown }, value: unknown) => field.read(value === undefined ? {} : { v: value })

/** The shapes no leaf field takes: absent, empty, repeated, and an element with children. */
const NOT_A_LEAF: Array<[string, unknown]> = [
  ['absent', undefined],
  ['empty', ''],
  ['repeated', ['1', '1']],
  ['nested', { '#text': '1', b: '1' }]
]

describe('every leaf kind', () => {
  const leaves = {
    text: text('v', 10),
    integer: integer('v'),
    flag: flag('v'),
    decimal: decimal('v'),
    money: money('v', null),
    choice: choice('v', { 1: 'one' }),
    date: date('v')
  }
  for (const [kind, field] of Object.entries(leaves)) {
    for (const [shape, value] of NOT_A_LEAF) {
      it(`reads an ${shape} element as null (${kind})`, () => { expect(read(field, value)).toBeNull() })
    }
  }
})

describe('text', () => {
  it('reads text as sent, up to its length', () => {
    expect(read(text('v', 5), 'Zoë ☎')).toBe('Zoë ☎')
    expect(read(text('v', 5), 'a<&>"')).toBe('a<&>"')
  })

  it('reads text one character too long as null rather than cut', () => {
    expect(read(text('v', 5), 'abcdef')).toBeNull()
    expect(read(text('v', 255), 'x'.repeat(256))).toBeNull()
    expect(read(text('v', 255), 'x'.repeat(255))).toBe('x'.repeat(255))
  })
})

describe('integer', () => {
  it('reads MOR ids from 0 to 2147483647, zero-padded ones too', () => {
    expect(['0', '7', '2147483647', '007', '-0', '02147483647'].map((v) => read(integer('v'), v))).toStrictEqual([0, 7, 2147483647, 7, 0, 2147483647])
  })

  it('reads out-of-range, signed and non-decimal numbers as null', () => {
    for (const v of ['2147483648', '-1', '002147483648', '1.0', '1e3', '0x10', ' 1', '+1', 'NaN', 'Infinity', '9'.repeat(17), '0'.repeat(33)]) {
      expect(read(integer('v'), v), v).toBeNull()
    }
  })

  it('takes its own bounds', () => {
    const small = integer('v', { minimum: -5, maximum: 5 })
    expect(['-5', '5', '-6', '6'].map((v) => read(small, v))).toStrictEqual([-5, 5, null, null])
  })

  it('reads a number a double cannot hold exactly as null, not as a neighbour', () => {
    // 2^53 + 1: within a wide field's bounds, but Number() rounds it to 2^53.
    const wide = integer('v', { maximum: 2 ** 60 })
    expect(read(wide, '9007199254740993')).toBeNull()
  })
})

describe('flag', () => {
  it('reads MOR\'s 0/1 and yes/no in any case', () => {
    expect(['1', 'yes', 'true', 'YES', 'True'].map((v) => read(flag('v'), v))).toStrictEqual([true, true, true, true, true])
    expect(['0', 'no', 'false', 'NO'].map((v) => read(flag('v'), v))).toStrictEqual([false, false, false, false])
  })

  it('reads any other word as null', () => {
    expect(['2', 'y', 'n', 'on', '-1', '01'].map((v) => read(flag('v'), v))).toStrictEqual([null, null, null, null, null, null])
  })
})

describe('decimal', () => {
  it('keeps MOR\'s digits exactly', () => {
    expect(['12.5000', '-3.2', '0', '1234567.8912', `${'9'.repeat(20)}.${'1'.repeat(12)}`].map((v) => read(decimal('v'), v)))
      .toStrictEqual(['12.5000', '-3.2', '0', '1234567.8912', `${'9'.repeat(20)}.${'1'.repeat(12)}`])
  })

  it('reads what is not a plain decimal, or has too many digits, as null', () => {
    for (const v of ['1.', '.5', '+1', '1e5', '1,5', '12.34 USD', 'Unlimited', '9'.repeat(21), `1.${'1'.repeat(13)}`]) {
      expect(read(decimal('v'), v), v).toBeNull()
    }
  })
})

describe('money', () => {
  it('reads an amount without a currency when the answer names none', () => {
    expect(read(money('v', null), '-3.2000')).toStrictEqual({ amount: '-3.2000', currency: null })
  })

  it('reads the amount with the currency beside it', () => {
    expect(money('v', 'c').read({ v: '12.5000', c: 'EUR' })).toStrictEqual({ amount: '12.5000', currency: 'EUR' })
  })

  it('keeps the amount when the currency is absent or not an ISO code', () => {
    for (const c of [undefined, '', 'eur', 'EURO', '€', ['EUR', 'EUR']]) {
      expect(money('v', 'c').read(c === undefined ? { v: '1' } : { v: '1', c }), String(c)).toStrictEqual({ amount: '1', currency: null })
    }
  })

  it('is null when the amount is not a decimal, whatever the currency', () => {
    expect(money('v', 'c').read({ v: '12.34 USD', c: 'USD' })).toBeNull()
  })
})

describe('choice', () => {
  const account = choice('v', { prepaid: 'prepaid', postpaid: 'postpaid', 'pre-paid': 'prepaid' })

  it('maps MOR\'s spellings, in any case and padding, to the API\'s', () => {
    expect(['Prepaid', ' POSTPAID ', 'pre-paid'].map((v) => read(account, v))).toStrictEqual(['prepaid', 'postpaid', 'prepaid'])
  })

  it('reads a word it does not know, inherited names included, as null', () => {
    expect(['credit', 'constructor', '__proto__', 'toString', 'hasOwnProperty'].map((v) => read(account, v))).toStrictEqual([null, null, null, null, null])
  })
})

describe('date', () => {
  it('reads a calendar date', () => {
    expect(['2024-03-01', '2024-02-29'].map((v) => read(date('v'), v))).toStrictEqual(['2024-03-01', '2024-02-29'])
  })

  it('reads a day that does not exist, or another shape, as null', () => {
    for (const v of ['2023-02-29', '2026-02-31', '2024-13-01', '2024-00-10', '2024-1-01', '2024-03-01 00:00:00', '01/03/2024']) {
      expect(read(date('v'), v), v).toBeNull()
    }
  })
})

describe('object and nested', () => {
  const fields = { city: text('reg_city', 20), id: integer('id') }

  it('gives every key, null for what MOR did not send', () => {
    expect(object(fields).read({ reg_city: 'Vilnius' })).toStrictEqual({ city: 'Vilnius', id: null })
  })

  it('reads a nested group from the element at its path', () => {
    const group = nested(['details', 'registration'], fields)
    expect(group.read({ details: { registration: { reg_city: 'Leeds', id: '3' } } })).toStrictEqual({ city: 'Leeds', id: 3 })
  })

  it('gives every field null when the group is absent, empty, repeated or text', () => {
    const group = nested(['details', 'registration'], fields)
    const empty = { city: null, id: null }
    for (const details of [undefined, '', { registration: '' }, { registration: 'x' }, { registration: [{ reg_city: 'A' }, { reg_city: 'B' }] }, [{ registration: { reg_city: 'A' } }]]) {
      expect(group.read(details === undefined ? {} : { details }), JSON.stringify(details)).toStrictEqual(empty)
    }
  })
})
