// Ruby's strings are bytes tagged with an encoding, and Rails keeps bytes that are not UTF-8 in a
// few places (JSON keys, upload file names). A JavaScript string cannot hold such bytes, so each
// byte of an invalid sequence becomes the lone surrogate U+DC80+byte (Python's "surrogateescape"):
// distinct byte strings stay distinct keys, and Rails' encoding check can be replayed on the text.

const FATAL_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const ESCAPED_BYTE = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/

/** Bytes as text: UTF-8, with each byte of an invalid sequence escaped as U+DC80+byte. */
export function bytesText (bytes: Uint8Array): string {
  let ascii = true
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] >= 0x80) { ascii = false; break }
  }
  if (ascii) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1')
  try {
    return FATAL_UTF8.decode(bytes)
  } catch {
    return escapedUtf8(bytes)
  }
}

/** Bytes as ISO-8859-1 text (every byte is a character). */
export const latin1Text = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1')

/** Whether text made by `bytesText` came from bytes that are not valid UTF-8 (Ruby's `!valid_encoding?`). */
export const hasInvalidBytes = (text: string): boolean => text.length > 0 && ESCAPED_BYTE.test(text)

/** Ruby's `String#size` on valid text: characters, not UTF-16 units. */
export function charCount (text: string): number {
  let n = text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1)
      if (d >= 0xDC00 && d <= 0xDFFF) { n--; i++ }
    }
  }
  return n
}

/** The length of the valid UTF-8 character starting at `i`, or 0 (Unicode's well-formed table). */
function sequenceLength (b: Uint8Array, i: number): number {
  const c = b[i]
  if (c < 0x80) return 1
  const cont = (k: number, lo = 0x80, hi = 0xBF): boolean => i + k < b.length && b[i + k] >= lo && b[i + k] <= hi
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0
  if (c >= 0xE0 && c <= 0xEF) {
    const lo = c === 0xE0 ? 0xA0 : 0x80
    const hi = c === 0xED ? 0x9F : 0xBF
    return cont(1, lo, hi) && cont(2) ? 3 : 0
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const lo = c === 0xF0 ? 0x90 : 0x80
    const hi = c === 0xF4 ? 0x8F : 0xBF
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0
  }
  return 0
}

function escapedUtf8 (bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length;) {
    const n = sequenceLength(bytes, i)
    if (n === 0) {
      out += String.fromCharCode(0xDC00 + bytes[i])
      i++
    } else {
      out += Buffer.from(bytes.buffer, bytes.byteOffset + i, n).toString('utf8')
      i += n
    }
  }
  return out
}

const RUBY_SPACE = '\0\t\n\v\f\r '
/** Ruby's `String#strip` (ASCII whitespace and NUL, both ends). */
export function rubyStrip (s: string): string {
  let a = 0
  let b = s.length
  while (a < b && RUBY_SPACE.includes(s[a])) a++
  while (b > a && RUBY_SPACE.includes(s[b - 1])) b--
  return s.slice(a, b)
}

/** Ruby's `String#rstrip`. */
export function rubyRstrip (s: string): string {
  let b = s.length
  while (b > 0 && RUBY_SPACE.includes(s[b - 1])) b--
  return s.slice(0, b)
}

/** ASCII-only lowercasing, as Ruby's `downcase` does on the byte strings servers hand Rack. */
export const asciiLower = (s: string): string => s.replace(/[A-Z]+/g, (m) => m.toLowerCase())
