// Turns the raw bytes of a MOR answer into XML text. MOR "puts the XML in a file, gzips it and
// returns it", with or without Content-Encoding, and some installs send plain XML: so gzip is
// detected by its magic bytes, not by headers. Every step is bounded by maxBytes, and
// decompression runs on libuv's thread pool with a hard output cap, so a gzip bomb stops at the
// cap instead of filling memory.
import { promisify } from 'node:util'
import { gunzip as gunzipCb, inflate as inflateCb, brotliDecompress as brotliCb, type ZlibOptions } from 'node:zlib'
import { UpstreamBadResponseError } from './errors.js'

const gunzip = promisify<Buffer, ZlibOptions, Buffer>(gunzipCb)
const inflate = promisify<Buffer, ZlibOptions, Buffer>(inflateCb)
const brotli = promisify<Buffer, ZlibOptions, Buffer>(brotliCb)

// A gzipped file served with Content-Encoding: gzip by a web server that gzips again is two
// layers deep; more than that is not a MOR answer.
const MAX_GZIP_LAYERS = 2

function isGzip (bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b
}

async function decompress (codec: typeof gunzip, bytes: Buffer, maxBytes: number, name: string): Promise<Buffer> {
  try {
    return await codec(bytes, { maxOutputLength: maxBytes })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new UpstreamBadResponseError(`decompressed body exceeds ${maxBytes} bytes`, { cause: err })
    }
    throw new UpstreamBadResponseError(`broken ${name} body`, { cause: err })
  }
}

/** Undoes transfer and file compression; returns the XML document's bytes. */
export async function decompressBody (body: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<Buffer> {
  let bytes = body
  const encoding = (contentEncoding ?? '').trim().toLowerCase()
  if (encoding === 'deflate') bytes = await decompress(inflate, bytes, maxBytes, 'deflate')
  else if (encoding === 'br') bytes = await decompress(brotli, bytes, maxBytes, 'brotli')
  else if (encoding !== '' && encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new UpstreamBadResponseError(`unsupported Content-Encoding ${JSON.stringify(encoding.slice(0, 32))}`)
  }
  for (let layer = 0; isGzip(bytes); layer++) {
    if (layer === MAX_GZIP_LAYERS) throw new UpstreamBadResponseError('too many gzip layers')
    bytes = await decompress(gunzip, bytes, maxBytes, 'gzip')
  }
  return bytes
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf])
const LATIN1_NAMES = new Set(['iso-8859-1', 'latin1', 'us-ascii'])
const CP1252_NAMES = new Set(['windows-1252', 'cp1252'])
// windows-1252 differs from Latin-1 only in 0x80-0x9F; Node 20's small ICU lacks the table.
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ'

/** Decodes the document as its XML declaration says (UTF-8 unless it names a Latin-1 family). */
export function xmlText (bytes: Buffer): string {
  if (bytes.subarray(0, 3).equals(UTF8_BOM)) return bytes.toString('utf8', 3)
  const head = bytes.toString('latin1', 0, Math.min(bytes.length, 200))
  const declared = /^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1]?.toLowerCase()
  if (declared && LATIN1_NAMES.has(declared)) return bytes.toString('latin1')
  if (declared && CP1252_NAMES.has(declared)) {
    return bytes.toString('latin1').replace(/[\u0080-\u009f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80] ?? c)
  }
  return bytes.toString('utf8')
}
