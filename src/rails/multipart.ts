// Rack 2.2's multipart/form-data parser, ported state for state (including how it reads the body
// in 1 MiB pieces and skips two bytes after each part), because its quirks decide what MOR sees:
// a body that ends early is an EOFError, after which Rails keeps only the query string.
import { fail } from './failure.js'
import { contentTypeOf, filenameOf, nameOf } from './multipart-head.js'
import { result, type Part } from './multipart-parts.js'
import type { Params } from './query-parser.js'
import { rubyStrip } from './text.js'

const BUFSIZE = 1_048_576
const BOUNDARY_START_LIMIT = 16 * 1024
const MIME_HEADER_BYTESIZE_LIMIT = 64 * 1024
const BUFFERED_UPLOAD_BYTESIZE_LIMIT = 16 * 1024 * 1024
/** Rack::Utils.multipart_file_limit and multipart_total_part_limit. */
const FILE_LIMIT = 128
const TOTAL_PART_LIMIT = 4096

const MULTIPART = /^multipart\/[^\n]*?boundary([ \t\n\v\f\r]*)="?([^";,]+)"?/i

/** Rack's parse_boundary: the boundary, or undefined when the type names none. */
export function boundaryOf (contentType: string): string | undefined {
  const m = MULTIPART.exec(contentType)
  if (m === null) return undefined
  if (m[1] !== '') fail('eof', 'whitespace before the multipart boundary')
  if (/boundary[ \t\n\v\f\r]*=/i.test(contentType.slice(m.index + m[0].length))) fail('eof', 'two multipart boundaries')
  return m[2]
}

/**
 * Rack::Multipart::Parser.parse: null when Rack falls back to reading the body as a form
 * (no length, or no boundary), else the parameters. `length` is CONTENT_LENGTH as Rack sees it.
 */
export function parseMultipart (body: Buffer, length: number | null, contentType: string): Params | null {
  if (length === 0) return null
  const boundary = boundaryOf(contentType)
  if (boundary === undefined) return null
  const full = Buffer.from(`--${boundary}`, 'latin1')
  const fullText = `--${boundary}`
  const endText = `${fullText}--`
  const rxMax = 2 + full.length + 2
  const parts: Part[] = []
  let buf = Buffer.alloc(0)
  let pos = 0
  let state: 'fast' | 'token' | 'head' | 'body' | 'done' = 'fast'
  let retained = 0
  let files = 0
  let retainBody = false
  let ascii = true // Ruby's buffer is UTF-8 until a non-ASCII byte arrives, then binary

  const retain = (n: number): void => {
    retained += n
    if (retained > BUFFERED_UPLOAD_BYTESIZE_LIMIT) fail('eof', 'multipart data over the retained size limit')
  }
  /** consume_boundary: reads lines until one is the boundary or the end boundary. */
  const consumeBoundary = (): 'boundary' | 'end' | null => {
    for (;;) {
      const nl = buf.indexOf(0x0A, pos)
      const end = nl === -1 ? buf.length : nl + 1
      const line = rubyStrip(buf.toString('latin1', pos, end))
      pos = end
      if (line === fullText) return 'boundary'
      if (line === endText) return 'end'
      if (pos >= buf.length) return null
    }
  }
  /** One step of run_parser; false when it wants more input. */
  const step = (): boolean => {
    if (state === 'fast') {
      const token = consumeBoundary()
      if (token === 'end' && pos === boundary.length + 6 && pos >= buf.length) state = 'done'
      else if (token !== null) state = 'head'
      else {
        if (buf.length - pos >= BUFSIZE) fail('eof', 'bad multipart body')
        if (buf.length > BOUNDARY_START_LIMIT) fail('eof', 'multipart boundary not found')
        return false
      }
    } else if (state === 'token') {
      const token = consumeBoundary()
      state = token === 'end' || (pos >= buf.length && token !== 'boundary') ? 'done' : 'head'
    } else if (state === 'head') {
      const at = buf.indexOf('\r\n\r\n', pos, 'latin1')
      if (at === -1) {
        if (buf.length - pos > MIME_HEADER_BYTESIZE_LIMIT) fail('eof', 'multipart part head too large')
        return false
      }
      const head = buf.toString('latin1', pos, at + 2)
      pos = at + 4
      const contentType = contentTypeOf(head)
      const filename = filenameOf(head, ascii)
      let name = nameOf(head)
      if (name === null || name === '') name = filename?.bytes ?? `${contentType ?? 'text/plain'}[]`
      retain(head.length)
      retainBody = filename === null
      parts.push({ name, head, filename, contentType, chunks: [] })
      if (filename !== null) files++
      if (files >= FILE_LIMIT) fail('fatal', 'too many files in a multipart body')
      if (parts.length >= TOTAL_PART_LIMIT) fail('fatal', 'too many parts in a multipart body')
      state = 'body'
    } else if (state === 'body') {
      const at = bodyEnd(buf, pos, full)
      const part = parts[parts.length - 1]
      if (at !== -1) {
        const chunk = buf.subarray(pos, at)
        if (retainBody) retain(chunk.length)
        part.chunks.push(chunk)
        pos += chunk.length + 2 // Rack skips two bytes, CRLF or not
        state = 'token'
      } else {
        if (rxMax < buf.length - pos) {
          const chunk = buf.subarray(pos, buf.length - rxMax)
          if (retainBody) retain(chunk.length)
          part.chunks.push(chunk)
          buf = buf.subarray(pos + chunk.length)
          pos = 0
        }
        return false
      }
    }
    return state !== 'done'
  }
  const onRead = (chunk: Buffer): void => {
    if (chunk.length === 0) fail('eof', 'multipart body ends early')
    ascii &&= chunk.every((b) => b < 0x80)
    buf = Buffer.concat([buf, chunk])
    while (step());
  }

  const limit = length ?? body.length
  let cursor = 0
  const read = (): Buffer => {
    const chunk = body.subarray(cursor, Math.min(limit, cursor + BUFSIZE))
    cursor += chunk.length
    return chunk
  }
  const done = (): boolean => state === 'done'
  onRead(read())
  while (!done()) onRead(read())
  return result(parts)
}

/** Where the part's body ends: the start of `(\r\n)?--boundary(\r\n|--)` at or after `pos`, or -1. */
function bodyEnd (buf: Buffer, pos: number, full: Buffer): number {
  for (let j = buf.indexOf(full, pos); j !== -1; j = buf.indexOf(full, j + 1)) {
    const a = buf[j + full.length]
    const b = buf[j + full.length + 1]
    if ((a === 0x0D && b === 0x0A) || (a === 0x2D && b === 0x2D)) {
      return j - 2 >= pos && buf[j - 2] === 0x0D && buf[j - 1] === 0x0A ? j - 2 : j
    }
  }
  return -1
}
