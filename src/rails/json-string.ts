// JSON strings as Ruby's json 2.6 reads them: any escaped character stands for itself, control
// bytes are refused, a `\uD8xx` high surrogate swallows whatever `\u` escape follows it (or turns
// into "?" and eats one character), and the bytes are kept even when they are not UTF-8.
import { fail } from './failure.js'
import { bytesText } from './text.js'

interface Cursor { readonly b: Buffer, i: number }

const bad = (): never => fail('json', 'invalid JSON body')
const isHex = (x: number | undefined): boolean =>
  x !== undefined && ((x >= 0x30 && x <= 0x39) || ((x | 0x20) >= 0x61 && (x | 0x20) <= 0x66))

/** Reads the string starting at the `"` under the cursor. */
export function string (c: Cursor): string {
  const b = c.b
  const start = c.i + 1
  let i = start
  for (;;) {
    const x = b[i]
    if (x === undefined || x < 0x20) bad()
    if (x === 0x22) break
    if (x === 0x5C) {
      const y = b[i + 1]
      if (y === undefined || y < 0x20) bad()
      if (y === 0x75) {
        if (!isHex(b[i + 2]) || !isHex(b[i + 3]) || !isHex(b[i + 4]) || !isHex(b[i + 5])) bad()
        i += 6
      } else {
        i += 2
      }
    } else {
      i++
    }
  }
  c.i = i + 1
  return bytesText(unescape(b, start, i))
}

const SIMPLE: Record<number, number> = { 0x6E: 0x0A, 0x72: 0x0D, 0x74: 0x09, 0x22: 0x22, 0x5C: 0x5C, 0x62: 0x08, 0x66: 0x0C }

function hex4 (b: Buffer, i: number): number {
  let v = 0
  for (let k = 0; k < 4; k++) {
    const x = b[i + k]
    if (!isHex(x)) return 0xFFFD
    v = v * 16 + (x <= 0x39 ? x - 0x30 : (x | 0x20) - 0x57)
  }
  return v
}

function utf8 (ch: number): number[] {
  if (ch <= 0x7F) return [ch]
  if (ch <= 0x7FF) return [(ch >> 6) | 0xC0, (ch & 0x3F) | 0x80]
  if (ch <= 0xFFFF) return [(ch >> 12) | 0xE0, ((ch >> 6) & 0x3F) | 0x80, (ch & 0x3F) | 0x80]
  return [(ch >> 18) | 0xF0, ((ch >> 12) & 0x3F) | 0x80, ((ch >> 6) & 0x3F) | 0x80, (ch & 0x3F) | 0x80]
}

/** json_string_unescape of json 2.6, on the bytes between the quotes. */
function unescape (b: Buffer, start: number, end: number): Uint8Array {
  const first = b.indexOf(0x5C, start)
  if (first === -1 || first >= end) return b.subarray(start, end)
  const out: number[] = []
  let p = start
  let pe = start
  const copy = (from: number, to: number): void => { for (let k = from; k < to; k++) out.push(b[k]) }
  while (pe < end) {
    if (b[pe] !== 0x5C) { pe++; continue }
    copy(p, pe)
    const x = b[++pe]
    let bytes: number[]
    if (x in SIMPLE) {
      bytes = [SIMPLE[x]]
    } else if (x === 0x75) {
      let ch = hex4(b, pe + 1)
      pe += 4
      bytes = []
      if ((ch & 0xFC00) === 0xD800) {
        pe++
        if (pe > end - 6) fail('json', 'incomplete surrogate pair in JSON body')
        if (b[pe] === 0x5C && b[pe + 1] === 0x75) {
          const low = hex4(b, pe + 2)
          ch = ((ch & 0x3F) << 10) | ((((ch >> 6) & 0xF) + 1) << 16) | (low & 0x3FF)
          pe += 5
        } else {
          bytes = [0x3F] // "?", and the character at pe is skipped
        }
      }
      if (bytes.length === 0) bytes = utf8(ch)
    } else {
      p = pe // any other escaped character stands for itself
      continue
    }
    out.push(...bytes)
    p = ++pe
  }
  copy(p, pe)
  return Uint8Array.from(out)
}
