// Each field kind's promise: whatever MOR sends, the reader gives a value its own schema takes
// (so an answer can never fail its documented contract). Checked over a fixed list of odd inputs
// crossed with odd neighbours (a zone, a currency), then over random ones.
import fc from 'fast-check'
import { Compile } from 'typebox/compile'
import { describe, expect, it } from 'vitest'
import { choice, date, decimal, flag, integer, money, nested, object, text, time, type Field } from '../../src/catalogue/fields.js'

/** Every field reads `v`; money's currency is `c`, time's zone is `z`, nested groups sit at `n`. */
const FIELDS: Record<string, Field> = {
  'text(8)': text('v', 8),
  integer: integer('v'),
  'integer(-5..5)': integer('v', { minimum: -5, maximum: 5 }),
  'integer(int64)': integer('v', { minimum: -(2 ** 40), maximum: 2 ** 40 }),
  flag: flag('v'),
  decimal: decimal('v'),
  'money without currency': money('v', null),
  'money with currency': money('v', 'c'),
  choice: choice('v', { prepaid: 'prepaid', postpaid: 'postpaid', user: 'user' }),
  time: time('v', 'z'),
  'time without zone': time('v', undefined),
  date: date('v'),
  object: object({ t: text('v', 8), m: money('v', 'c') }),
  nested: nested(['n'], { t: text('v', 8), d: date('v'), w: time('v', 'z') })
}

const WEIRD_TEXT = [
  '', ' ', '0', '-0', '1', '007', '-1', '2147483647', '2147483648', '9007199254740993', '9'.repeat(16), '9'.repeat(40),
  '1.5', '1.', '.5', '1e3', 'NaN', 'Infinity', '-Infinity', '0x1F', '12.34 USD', `${'9'.repeat(20)}.${'9'.repeat(12)}`,
  'true', 'false', 'YES', 'no', 'Unlimited', 'Prepaid', ' postpaid ', 'USER', '__proto__', 'constructor', 'toString',
  'EUR', 'eur', 'EURO', '€', 'x'.repeat(8), 'x'.repeat(9), '😀'.repeat(5), '😀'.repeat(8), 'e\u0301'.repeat(8), '\u0000', '\u2028', '<a>&amp;</a>',
  '2024-02-29', '2023-02-29', '2026-02-31', '0000-01-01', '0099-12-31', '9999-12-31',
  '2026-06-15 12:00:00', '2026-02-31 10:00:00', '2026-01-01 24:00:00', '2026-01-01 23:59:60', '0000-01-01 00:00:00',
  '0100-01-01 00:00:00', '9999-12-31 23:59:59', '0001-01-01 00:00:00', '2026-06-15T12:00:00',
  'GMT +02:00', 'GMT -05:30', 'UTC', '+0300', 'GMT +14:00', 'GMT -14:00', 'GMT +02:99', 'GMT -99:99', 'Z'
]
/** Shapes besides text: repeated elements and elements with children. */
const WEIRD: unknown[] = [undefined, ...WEIRD_TEXT, ['1', '2'], ['2026-06-15 12:00:00'], { '#text': '1' }, { v: '1' }, []]

const nodeOf = (values: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined))

function failures (field: Field, nodes: Iterable<Record<string, unknown>>): string[] {
  const check = Compile(field.schema)
  const failed: string[] = []
  for (const node of nodes) {
    const value = field.read(node)
    if (!check.Check(value) && failed.length < 5) failed.push(`${JSON.stringify(node)} -> ${JSON.stringify(value)}`)
  }
  return failed
}

/** Each odd value as `v`, beside each odd neighbour, at the top and inside the nested group's element. */
function * crossed (): Generator<Record<string, unknown>> {
  for (const v of WEIRD) {
    for (const other of WEIRD) {
      yield nodeOf({ v, c: other, z: other })
      yield { n: nodeOf({ v, z: other }) }
    }
  }
}

const VALUE: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...WEIRD),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.stringMatching(/^-?[0-9]{1,22}(\.[0-9]{0,14})?$/),
  fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 19).replace('T', ' ')),
  fc.tuple(fc.constantFrom('GMT ', 'UTC', '', 'GMT'), fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }))
    .map(([prefix, sign, h, m]) => `${prefix}${sign}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`),
  fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 })
)
const NODE = fc.record({ v: VALUE, c: VALUE, z: VALUE, n: fc.oneof(VALUE, fc.record({ v: VALUE, z: VALUE }, { requiredKeys: [] })) }, { requiredKeys: [] })

describe('every value a field reads is one its schema takes', () => {
  for (const [kind, field] of Object.entries(FIELDS)) {
    it(`${kind}: over odd inputs and their neighbours`, () => {
      expect(failures(field, crossed())).toStrictEqual([])
    })

    it(`${kind}: over random inputs`, () => {
      const check = Compile(field.schema)
      fc.assert(fc.property(NODE, (node) => check.Check(field.read(node as Record<string, unknown>))), { seed: 26, numRuns: 500 })
    })
  }
})

describe('nothing at all', () => {
  it('reads every field of an empty element as null (an object as every key null)', () => {
    for (const [kind, field] of Object.entries(FIELDS)) {
      const value = field.read({})
      if (kind === 'object' || kind === 'nested') expect(Object.values(value as object).every((v) => v === null), kind).toBe(true)
      else expect(value, kind).toBeNull()
    }
  })

  it('has null among the values every leaf schema takes', () => {
    for (const [kind, field] of Object.entries(FIELDS)) {
      if (kind !== 'object' && kind !== 'nested') expect(Compile(field.schema).Check(null), kind).toBe(true)
    }
  })
})
