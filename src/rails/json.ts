// The JSON parser of Ruby's json 2.6 (what ActiveSupport::JSON.decode calls in Rails 6.1), ported
// for the corners where it differs from JSON.parse: `/* */` and `//` comments, escapes of any
// character, its own handling of lone surrogates, bytes that are not UTF-8, nesting past 100,
// integers kept apart from floats. Objects become Params so one finishing step serves every body.
import { fail } from './failure.js'
import { newParams, type Node } from './query-parser.js'
import { string } from './json-string.js'
import { rubyFloatText } from './ruby-float.js'

/** JSON.parse's default max_nesting. */
export const JSON_MAX_NESTING = 100

interface Cursor { readonly b: Buffer, i: number, depth: number }

const bad = (): never => fail('json', 'invalid JSON body')

/** Ruby's `JSON.parse(text)`. */
export function parseJson (b: Buffer): Node {
  const c: Cursor = { b, i: 0, depth: 0 }
  skipIgnored(c)
  const v = value(c)
  skipIgnored(c)
  if (c.i !== b.length) bad()
  return v
}

function skipIgnored (c: Cursor): void {
  const b = c.b
  while (c.i < b.length) {
    const x = b[c.i]
    if (x === 0x20 || x === 0x09 || x === 0x0D || x === 0x0A) {
      c.i++
    } else if (x === 0x2F && b[c.i + 1] === 0x2A) { // /* ... */
      const end = b.indexOf('*/', c.i + 2, 'latin1')
      if (end === -1) bad()
      c.i = end + 2
    } else if (x === 0x2F && b[c.i + 1] === 0x2F) { // // ... up to a newline, which it needs
      const end = b.indexOf(0x0A, c.i + 2)
      if (end === -1) bad()
      c.i = end + 1
    } else {
      return
    }
  }
}

function literal (c: Cursor, word: string, v: Node): Node {
  if (c.b.toString('latin1', c.i, c.i + word.length) !== word) bad()
  c.i += word.length
  return v
}

function value (c: Cursor): Node {
  const x = c.b[c.i]
  if (x === 0x22) return string(c)
  if (x === 0x7B || x === 0x5B) {
    if (++c.depth > JSON_MAX_NESTING) fail('json', 'JSON nested too deep')
    const v = x === 0x7B ? object(c) : array(c)
    c.depth--
    return v
  }
  if (x === 0x2D || (x >= 0x30 && x <= 0x39)) return number(c)
  if (x === 0x6E) return literal(c, 'null', null)
  if (x === 0x74) return literal(c, 'true', true)
  if (x === 0x66) return literal(c, 'false', false)
  return bad() // NaN and Infinity too: Rails does not allow them
}

function object (c: Cursor): Node {
  const hash = newParams()
  c.i++
  skipIgnored(c)
  if (c.b[c.i] === 0x7D) { c.i++; return hash }
  for (;;) {
    if (c.b[c.i] !== 0x22) bad()
    const key = string(c)
    skipIgnored(c)
    if (c.b[c.i] !== 0x3A) bad()
    c.i++
    skipIgnored(c)
    hash.map.set(key, value(c))
    skipIgnored(c)
    const x = c.b[c.i++]
    if (x === 0x7D) return hash
    if (x !== 0x2C) bad()
    skipIgnored(c)
  }
}

function array (c: Cursor): Node {
  const list: Node[] = []
  c.i++
  skipIgnored(c)
  if (c.b[c.i] === 0x5D) { c.i++; return list }
  for (;;) {
    list.push(value(c))
    skipIgnored(c)
    const x = c.b[c.i++]
    if (x === 0x5D) return list
    if (x !== 0x2C) bad()
    skipIgnored(c)
  }
}

const isDigit = (x: number | undefined): boolean => x !== undefined && x >= 0x30 && x <= 0x39

function number (c: Cursor): Node {
  const b = c.b
  const start = c.i
  if (b[c.i] === 0x2D) c.i++
  if (b[c.i] === 0x30) c.i++
  else if (isDigit(b[c.i])) while (isDigit(b[c.i])) c.i++
  else bad()
  let float = false
  if (b[c.i] === 0x2E) {
    c.i++
    if (!isDigit(b[c.i])) bad()
    while (isDigit(b[c.i])) c.i++
    float = true
  }
  if (b[c.i] === 0x45 || b[c.i] === 0x65) {
    c.i++
    if (b[c.i] === 0x2B || b[c.i] === 0x2D) c.i++
    if (!isDigit(b[c.i])) bad()
    while (isDigit(b[c.i])) c.i++
    float = true
  }
  const n = Number(b.toString('latin1', start, c.i))
  return float ? rubyFloatText(n) : n + 0 // `-0` is the Integer 0
}
