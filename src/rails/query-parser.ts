// Rack 2.2's QueryParser (what Rails 6.1 builds query-string and form parameters with), ported
// line for line: `a[b][]=1` nesting, its odd corners (`a[[]]=1` is `{"a"=>nil}`) and its limits,
// so a request parses here exactly as it does inside MOR.
import { fail } from './failure.js'
import { bytesText, charCount, hasInvalidBytes } from './text.js'

/** Rack::Utils.key_space_limit: characters of distinct keys per hash. */
export const KEY_SPACE_LIMIT = 65536
/** Rack::Utils.param_depth_limit: nesting levels of `a[b][c]...`. */
export const PARAM_DEPTH_LIMIT = 100
/** Rack::QueryParser's bytesize limit (RACK_QUERY_PARSER_BYTESIZE_LIMIT default). */
export const BYTESIZE_LIMIT = 4194304
/** Rack::QueryParser's params limit: separators counted before parsing (RACK_QUERY_PARSER_PARAMS_LIMIT default). */
export const PARAMS_LIMIT = 4096

/** An uploaded file (a multipart part with a filename), as Rails' UploadedFile shows it. */
export interface Upload { readonly upload: true, readonly filename: string | null, readonly type: string | null }
/** Rack::QueryParser::Params: a hash that counts the characters of its keys. */
export interface Params { readonly map: Map<string, Node>, size: number }
export type Node = string | number | boolean | null | Upload | Params | Node[]

export const newParams = (): Params => ({ map: new Map(), size: 0 })
export const isParams = (n: Node | undefined): n is Params =>
  typeof n === 'object' && n !== null && !Array.isArray(n) && 'map' in n

function set (params: Params, key: string, value: Node): void {
  if (!params.map.has(key)) {
    params.size += charCount(key)
    if (params.size > KEY_SPACE_LIMIT) fail('limit', 'parameter key space exceeded')
  }
  params.map.set(key, value)
}

// Ruby's `^`, `$` and `.` are line-based; these are the two patterns of normalize_params with that meaning.
const ARRAY_OF_HASH_KEY = /(?:^|(?<=\n))\[\]\[([^[\]]+)\](?=\n|$)/
const ARRAY_OF_ANY = /(?:^|(?<=\n))\[\]([^\n]+)(?=\n|$)/

/** Rack's normalize_params: stores `v` under the nested `name` in `params`. */
export function normalize (params: Params, name: string, v: Node, depth: number): Node {
  if (depth <= 0) fail('limit', 'parameters nested too deep')
  let i = 0
  while (i < name.length && (name[i] === '[' || name[i] === ']')) i++
  let j = i
  while (j < name.length && name[j] !== '[' && name[j] !== ']') j++
  if (j === i) return v !== null && name === '[]' ? [v] : null
  const k = name.slice(i, j)
  while (j < name.length && name[j] === ']') j++
  const after = name.slice(j)

  if (after === '') {
    set(params, k, v)
  } else if (after === '[') {
    set(params, name, v)
  } else if (after === '[]') {
    arrayAt(params, k).push(v)
  } else {
    const child = ARRAY_OF_HASH_KEY.exec(after) ?? ARRAY_OF_ANY.exec(after)
    if (child !== null) {
      const list = arrayAt(params, k)
      const last = list.at(-1)
      if (isParams(last) && !hasKey(last, child[1])) {
        normalize(last, child[1], v, depth - 1)
      } else {
        list.push(normalize(newParams(), child[1], v, depth - 1))
      }
    } else {
      let hash = params.map.get(k)
      if (hash === undefined || hash === null) { hash = newParams(); set(params, k, hash) }
      if (!isParams(hash)) return fail('type', 'expected a hash parameter')
      set(params, k, normalize(hash, after, v, depth - 1))
    }
  }
  return params
}

function arrayAt (params: Params, k: string): Node[] {
  let list = params.map.get(k)
  if (list === undefined || list === null) { list = []; set(params, k, list) }
  if (!Array.isArray(list)) return fail('type', 'expected an array parameter')
  return list
}

/** Rack's params_hash_has_key?. */
function hasKey (hash: Params, key: string): boolean {
  if (key.includes('[]')) return false
  let h: Node | undefined = hash
  for (const part of key.split(/[[\]]+/)) {
    if (part === '') continue
    if (!isParams(h) || !h.map.has(part)) return false
    h = h.map.get(part)
  }
  return true
}

const isHex = (b: number): boolean => (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66)
const hexValue = (b: number): number => (b <= 0x39 ? b - 0x30 : (b | 0x20) - 0x57)

/** URI.decode_www_form_component on bytes `[start, end)`: `+` is a space, `%` needs two hex digits. */
function unescape (buf: Buffer, start: number, end: number): string {
  let plain = true
  for (let i = start; i < end; i++) {
    const b = buf[i]
    if (b === 0x25 || b === 0x2B || b >= 0x80) { plain = false; break }
  }
  if (plain) return buf.toString('latin1', start, end)
  const out = new Uint8Array(end - start)
  let n = 0
  for (let i = start; i < end; i++) {
    const b = buf[i]
    if (b === 0x2B) {
      out[n++] = 0x20
    } else if (b === 0x25) {
      if (i + 2 >= end || !isHex(buf[i + 1]) || !isHex(buf[i + 2])) fail('invalid', 'invalid %-encoding')
      out[n++] = hexValue(buf[i + 1]) * 16 + hexValue(buf[i + 2])
      i += 2
    } else {
      out[n++] = b
    }
  }
  return bytesText(out.subarray(0, n))
}

/** Rack's parse_nested_query: `separators` is `'&;'` for a query string, `'&'` for a form body. */
export function parseNestedQuery (qs: Buffer, separators: '&;' | '&'): Params {
  const semicolon = separators === '&;'
  if (qs.length > BYTESIZE_LIMIT) fail('limit', 'parameters exceed the size limit')
  let count = 0
  for (let i = 0; i < qs.length; i++) {
    if (qs[i] === 0x26 || (semicolon && qs[i] === 0x3B)) count++
  }
  if (count >= PARAMS_LIMIT) fail('limit', 'too many parameters')
  const params = newParams()
  let start = 0
  for (let i = 0; i <= qs.length; i++) {
    if (i < qs.length && qs[i] !== 0x26 && !(semicolon && qs[i] === 0x3B)) continue
    if (i > start) pair(params, qs, start, i)
    start = i + 1
    while (start < qs.length && qs[start] === 0x20) start++ // the separator is `[&;] *`
    i = start - 1
  }
  return params
}

function pair (params: Params, qs: Buffer, start: number, end: number): void {
  const eq = qs.indexOf(0x3D, start)
  const keyEnd = eq === -1 || eq >= end ? end : eq
  const name = unescape(qs, start, keyEnd)
  const value = keyEnd === end ? null : unescape(qs, keyEnd + 1, end)
  // Rack matches a regexp on the name, which Ruby refuses on bytes that are not UTF-8.
  if (hasInvalidBytes(name)) fail('invalid', 'parameter name is not UTF-8')
  normalize(params, name, value, PARAM_DEPTH_LIMIT)
}
