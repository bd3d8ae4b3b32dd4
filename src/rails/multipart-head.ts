// What Rack 2.2's multipart parser reads from a part's head (its header lines, as bytes held in a
// latin1 string): the name, the Content-Type and the upload file name, with Rack's own regexps.
// Ruby's `^`, `$`, `.` and `\s` differ from JavaScript's, so each is spelled out.
import { fail } from './failure.js'
import { rubyStrip } from './text.js'

const S = '[ \\t\\n\\v\\f\\r]'
const BOL = '(?:^|(?<=\\n))'
const EOL = '(?=\\n|$)'
const TOKEN = '[^ \\t\\n\\v\\f\\r()<>,;:\\\\"/\\[\\]?=]+'
const VALUE = `"(?:\\\\"|[^"])*"|${TOKEN}`
const CONDISP = `Content-Disposition:${S}*(?:${TOKEN})${S}*`
const ATTRIBUTE_CHAR = '[^ \\x00-\\x1f\\x7f)(><@,;:\\\\"/\\[\\]?=\'*%]'
const ATTRIBUTE = `${ATTRIBUTE_CHAR}+`
const REGULAR_PARAMETER = `(${ATTRIBUTE}(?:\\*[0-9]+)?)=(${VALUE})`
const EXTENDED_OTHER_VALUE = `%[0-9a-fA-F]{2}|${ATTRIBUTE_CHAR}`
const EXTENDED_INITIAL = `(${ATTRIBUTE}(?:\\*0)?\\*)=([a-zA-Z0-9\\-]*'[a-zA-Z0-9\\-]*'(?:${EXTENDED_OTHER_VALUE})*)`
const EXTENDED_OTHER = `(${ATTRIBUTE}\\*[1-9][0-9]*\\*)=((?:${EXTENDED_OTHER_VALUE})*)`
const DISPPARM = `;${S}*(?:${REGULAR_PARAMETER}|${EXTENDED_INITIAL}|${EXTENDED_OTHER})${S}*`

const CONTENT_TYPE = /Content-Type: ([^\n]*)\r\n/i
const CONTENT_DISPOSITION_NAME = new RegExp(`Content-Disposition:[^:]*;${S}*name=(${VALUE})`, 'i')
const CONTENT_ID = new RegExp(`Content-ID:${S}*([^\\r\\n]*)`, 'i')
const RFC2183 = new RegExp(`${BOL}${CONDISP}(?:${DISPPARM})+${EOL}`, 'i')
const DISPPARM_ALL = new RegExp(DISPPARM, 'g')
const BROKEN = new RegExp(`${BOL}${CONDISP}[^\\n]*;${S}*filename=(${VALUE})`, 'i')
const QUOTED_LINE = new RegExp(`${BOL}"([^\\n]*)"${EOL}`)

/** Ruby encodings a charset may name that this port can decode (Encoding.find is case-blind). */
const ENCODINGS: Record<string, Charset> = {
  'utf-8': 'utf8',
  cp65001: 'utf8',
  'iso-8859-1': 'latin1',
  'iso8859-1': 'latin1',
  'us-ascii': 'ascii',
  ascii: 'ascii',
  'ascii-8bit': 'binary',
  binary: 'binary'
}
export type Charset = 'utf8' | 'latin1' | 'ascii' | 'binary'

/** Ruby's Encoding.find; a name this port does not know fails (Rails answers 500 only for unknown ones). */
export const findEncoding = (name: string): Charset =>
  ENCODINGS[name.toLowerCase()] ?? fail('fatal', 'unsupported charset in a multipart part')

export const contentTypeOf = (head: string): string | null => CONTENT_TYPE.exec(head)?.[1] ?? null

/** The part's name (Content-Disposition's name, else Content-ID), or null. */
export function nameOf (head: string): string | null {
  const quoted = CONTENT_DISPOSITION_NAME.exec(head)?.[1]
  if (quoted === undefined) return CONTENT_ID.exec(head)?.[1] ?? null
  // Rack::Auth::Digest::Params.dequote
  const inner = /^"([^\n]*)"(?=\n?$)/.exec(quoted)
  return (inner === null ? quoted : inner[1]).replace(/\\([^\n])/g, '$1')
}

export interface FileName { readonly bytes: string, readonly charset: Charset }

/**
 * Rack's get_filename: the file name's bytes (latin1 text) and encoding, or null for a plain field.
 * `scrub`: whether Ruby holds the head as UTF-8 (Rack's buffer stays UTF-8 while every byte read so
 * far is ASCII), so that its `scrub!` replaces the invalid bytes %-escapes made.
 */
export function filenameOf (head: string, scrub: boolean): FileName | null {
  let filename: string | undefined
  let charset: Charset = 'binary'
  if (RFC2183.test(head)) {
    const params = new Map<string, string>()
    for (const m of head.matchAll(DISPPARM_ALL)) {
      const k = m[1] ?? m[3] ?? m[5]
      params.set(k, m[2] ?? m[4] ?? m[6])
    }
    filename = params.get('filename')
    if (filename !== undefined) {
      filename = QUOTED_LINE.exec(filename)?.[1] ?? filename
    } else if (params.has('filename*')) {
      const [encoding, , rest] = splitLimit(params.get('filename*') ?? '', "'", 3)
      filename = rest
      if (filename !== undefined) charset = findEncoding(encoding)
    }
  } else {
    filename = BROKEN.exec(head)?.[1]
    if (filename !== undefined) filename = QUOTED_LINE.exec(filename)?.[1] ?? filename
  }
  if (filename === undefined) return null
  if ((filename.match(/%[^\n]?[^\n]?/g) ?? []).every((s) => /%[0-9a-fA-F]{2}/.test(s))) {
    filename = filename.replace(/%[0-9a-fA-F]{2}/g, (s) => String.fromCharCode(parseInt(s.slice(1), 16)))
  }
  if (scrub) filename = Buffer.from(Buffer.from(filename, 'latin1').toString('utf8'), 'utf8').toString('latin1')
  if (!/\\[^\\"]/.test(filename)) filename = filename.replace(/\\([^\n])/g, '$1')
  return { bytes: filename, charset }
}

/** Ruby's `split(sep, limit)` with a string separator. */
export function splitLimit (s: string, sep: string, limit: number): string[] {
  if (s === '') return []
  const out: string[] = []
  let from = 0
  while (out.length < limit - 1) {
    const at = s.indexOf(sep, from)
    if (at === -1) break
    out.push(s.slice(from, at))
    from = at + sep.length
  }
  out.push(s.slice(from))
  return out
}

/** Ruby's `split(sep)` without a limit: trailing empty fields are dropped. */
export function splitAll (s: string, sep: string | RegExp): string[] {
  const out = s.split(sep)
  while (out.length > 0 && out[out.length - 1] === '') out.pop()
  return out
}

/**
 * Rack's tag_multipart_encoding for a field (not a file): a `text/plain` part may name a charset.
 * Ruby raises (500) on `text/plain; x` or an empty Content-Type, and so does this.
 */
export function fieldCharset (contentType: string | null): Charset {
  if (contentType === null) return 'utf8'
  const list = splitAll(contentType, ';')
  if (list.length === 0) fail('fatal', 'empty Content-Type in a multipart part')
  let charset: Charset = 'utf8'
  if (rubyStrip(list[0]) !== 'text/plain') return charset
  for (const param of list.slice(1)) {
    const [k, v] = splitLimit(param, '=', 2)
    if (k === undefined || v === undefined) fail('fatal', 'malformed Content-Type in a multipart part')
    let value = rubyStrip(v)
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    if (rubyStrip(k) === 'charset') charset = findEncoding(value)
  }
  return charset
}
