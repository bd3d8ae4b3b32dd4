// Ways to damage a MOR answer for the translator's property tests: bit flips, cuts, insertions of
// markup and junk bytes, deletions and duplicated elements, applied to plain or compressed bytes.
import fc from 'fast-check'

export const INSERTS = ['<', '&', '>', '<!DOCTYPE page [<!ENTITY x "y">]>', '<!doctype html>', '&x;', '&#0;', '&#xD800;', '&#1114112;',
  '<![CDATA[', ']]>', '<!--', '-->', '<?xml version="1.0"?>', '</device>', '<device>', '<device_id>', '</page>', '<page>',
  '<error>', '<devices/>', '\u0000', '\uFFFD', '\r\n', '"', "'", '=', '/>']

export type Mutation =
  | { op: 'flip', at: number, bit: number }
  | { op: 'truncate', at: number }
  | { op: 'insert', at: number, bytes: Uint8Array }
  | { op: 'delete', at: number, length: number }
  | { op: 'duplicate-tag', at: number }

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.oneof(fc.constantFrom(...INSERTS).map((s) => Buffer.from(s)), fc.uint8Array({ minLength: 1, maxLength: 8 }))
  }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant('duplicate-tag' as const), at: fc.nat() })
)

export function mutate (input: Buffer, m: Mutation): Buffer {
  if (input.length === 0) return m.op === 'insert' ? Buffer.from(m.bytes) : input
  const at = m.at % input.length
  switch (m.op) {
    case 'flip': {
      const out = Buffer.from(input)
      out[at] = (out[at] ?? 0) ^ (1 << m.bit)
      return out
    }
    case 'truncate': return input.subarray(0, at)
    case 'insert': return Buffer.concat([input.subarray(0, at), m.bytes, input.subarray(at)])
    case 'delete': return Buffer.concat([input.subarray(0, at), input.subarray(at + m.length)])
    case 'duplicate-tag': {
      // Repeats one element (or, failing that, one tag) right after itself.
      const text = input.toString('latin1')
      const open = text.indexOf('<', at)
      if (open < 0) return input
      const name = /^<([A-Za-z_]+)>/.exec(text.slice(open))?.[1]
      const close = name === undefined ? -1 : text.indexOf(`</${name}>`, open)
      const end = close >= 0 ? close + `</${name}>`.length : text.indexOf('>', open) + 1
      const piece = input.subarray(open, end)
      return Buffer.concat([input.subarray(0, end), piece, input.subarray(end)])
    }
  }
}
