// What each multipart part becomes once Rack 2.2's parser has split the body: a field's text in its
// charset, or an upload, stored under the part's name by Rack's normalize_params (so `a[]` and
// `a[b]` nest as in a form).
import { fail } from './failure.js'
import { fieldCharset, splitAll, type Charset, type FileName } from './multipart-head.js'
import { newParams, normalize, PARAM_DEPTH_LIMIT, type Node, type Params } from './query-parser.js'
import { bytesText, hasInvalidBytes, latin1Text } from './text.js'

/** A part as the parser collected it: its head fields and its body pieces. */
export interface Part { readonly name: string, readonly head: string, readonly filename: FileName | null, readonly contentType: string | null, readonly chunks: Buffer[] }

const decode = (bytes: Uint8Array, charset: Charset): string => {
  if (charset === 'latin1' || charset === 'binary') return latin1Text(bytes)
  const text = bytesText(bytes)
  // US-ASCII text with a high byte is invalid in Ruby even where the bytes would be UTF-8.
  if (charset === 'ascii' && bytes.some((b) => b >= 0x80)) return Array.from(bytes, (b) => String.fromCharCode(b >= 0x80 ? 0xDC00 + b : b)).join('')
  return text
}

/** Parser#result: each part stored under its name, as Rack's normalize_params does. */
export function result (parts: Part[]): Params {
  const params = newParams()
  for (const part of parts) {
    let data: Node
    let charset: Charset = 'utf8'
    if (part.filename !== null) {
      if (part.filename.bytes === '') continue // no file chosen
      data = upload(part, part.filename)
    } else {
      charset = fieldCharset(part.contentType)
      data = decode(Buffer.concat(part.chunks), charset)
    }
    const name = decode(Buffer.from(part.name, 'latin1'), charset)
    // Rack matches a regexp on the name: Ruby raises ArgumentError (500) on invalid bytes.
    if (hasInvalidBytes(name)) fail('fatal', 'multipart part name is not valid text')
    normalize(params, name, data, PARAM_DEPTH_LIMIT)
  }
  return params
}

function upload (part: Part, filename: FileName): Node {
  const bytes = Buffer.from(filename.bytes, 'latin1')
  if (filename.charset === 'utf8' && hasInvalidBytes(bytesText(bytes))) fail('fatal', 'upload file name is not valid text')
  const base = splitAll(filename.bytes, /[/\\]/).at(-1)
  const text = base === undefined
    ? null
    : filename.charset === 'latin1' ? base : bytesText(Buffer.from(base, 'latin1'))
  return { upload: true, filename: text, type: part.contentType }
}
