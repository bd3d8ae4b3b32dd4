import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { brotliCompressSync, createDeflate, createGzip, deflateSync, gzipSync, type Gzip } from 'node:zlib'
import { beforeAll, describe, expect, it } from 'vitest'
import { decompressBody, xmlText } from '../../src/mor/decode.js'
import { UpstreamBadResponseError } from '../../src/mor/errors.js'

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url))

const XML = fixture('devices-one.xml')
const MAX = 32 * 1024 * 1024
const MIB = 1024 * 1024

/** Compresses `total` zero bytes through a stream, so the test never holds them in memory. */
async function zerosCompressed (compressor: Gzip | ReturnType<typeof createDeflate>, total: number): Promise<Buffer> {
  const chunk = Buffer.alloc(MIB)
  async function * zeros () {
    for (let sent = 0; sent < total; sent += MIB) yield chunk
  }
  const out: Buffer[] = []
  await pipeline(Readable.from(zeros()), compressor, async (compressed: AsyncIterable<Buffer>) => {
    for await (const part of compressed) out.push(part)
  })
  return Buffer.concat(out)
}

const BAD = 'MOR sent a response the gateway cannot use: '

describe('decompressBody', () => {
  it('returns a plain XML body unchanged when there is no Content-Encoding', async () => {
    expect(await decompressBody(XML, undefined, MAX)).toStrictEqual(XML)
  })

  it('returns a plain XML body unchanged with Content-Encoding identity', async () => {
    expect(await decompressBody(XML, 'identity', MAX)).toStrictEqual(XML)
  })

  it('gunzips a body sent with Content-Encoding gzip', async () => {
    expect(await decompressBody(gzipSync(XML), 'gzip', MAX)).toStrictEqual(XML)
  })

  it('reads the Content-Encoding case-insensitively and accepts x-gzip', async () => {
    expect(await decompressBody(gzipSync(XML), ' GZIP ', MAX)).toStrictEqual(XML)
    expect(await decompressBody(gzipSync(XML), 'x-gzip', MAX)).toStrictEqual(XML)
  })

  it('gunzips a gzipped file sent without Content-Encoding, recognised by its magic bytes', async () => {
    expect(await decompressBody(gzipSync(XML), undefined, MAX)).toStrictEqual(XML)
  })

  it('accepts a plain body labelled gzip, as when a proxy already decoded it', async () => {
    expect(await decompressBody(XML, 'gzip', MAX)).toStrictEqual(XML)
  })

  it('undoes a gzipped file that was gzipped again for transfer', async () => {
    expect(await decompressBody(gzipSync(gzipSync(XML)), 'gzip', MAX)).toStrictEqual(XML)
  })

  it('refuses a third gzip layer', async () => {
    const result = decompressBody(gzipSync(gzipSync(gzipSync(XML))), 'gzip', MAX)
    await expect(result).rejects.toBeInstanceOf(UpstreamBadResponseError)
    await expect(result).rejects.toHaveProperty('message', `${BAD}too many gzip layers`)
  })

  it('inflates a body sent with Content-Encoding deflate', async () => {
    expect(await decompressBody(deflateSync(XML), 'deflate', MAX)).toStrictEqual(XML)
  })

  it('decompresses a body sent with Content-Encoding br', async () => {
    expect(await decompressBody(brotliCompressSync(XML), 'br', MAX)).toStrictEqual(XML)
  })

  it('gunzips the gzipped file inside a deflate transfer encoding', async () => {
    expect(await decompressBody(deflateSync(gzipSync(XML)), 'deflate', MAX)).toStrictEqual(XML)
  })

  it('rejects an unsupported Content-Encoding, naming it', async () => {
    const result = decompressBody(XML, 'compress', MAX)
    await expect(result).rejects.toBeInstanceOf(UpstreamBadResponseError)
    await expect(result).rejects.toHaveProperty('message', `${BAD}unsupported Content-Encoding "compress"`)
  })

  it('rejects a list of encodings and quotes at most 32 characters of it', async () => {
    const result = decompressBody(gzipSync(XML), 'gzip, gzip, gzip, gzip, gzip, gzip, gzip', MAX)
    await expect(result).rejects.toBeInstanceOf(UpstreamBadResponseError)
    await expect(result).rejects.toHaveProperty('message', `${BAD}unsupported Content-Encoding "gzip, gzip, gzip, gzip, gzip, gz"`)
  })

  it('rejects a body with gzip magic bytes followed by garbage as a broken gzip body', async () => {
    const result = decompressBody(Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('not really gzip')]), undefined, MAX)
    await expect(result).rejects.toBeInstanceOf(UpstreamBadResponseError)
    await expect(result).rejects.toHaveProperty('message', `${BAD}broken gzip body`)
  })

  it('rejects a truncated gzip body rather than returning part of the document', async () => {
    const gz = gzipSync(fixture('devices-many.xml'))
    const result = decompressBody(gz.subarray(0, gz.length - 20), 'gzip', MAX)
    await expect(result).rejects.toBeInstanceOf(UpstreamBadResponseError)
    await expect(result).rejects.toHaveProperty('message', `${BAD}broken gzip body`)
  })

  it('rejects a broken deflate body', async () => {
    const result = decompressBody(XML, 'deflate', MAX)
    await expect(result).rejects.toBeInstanceOf(UpstreamBadResponseError)
    await expect(result).rejects.toHaveProperty('message', `${BAD}broken deflate body`)
  })

  it('rejects a broken brotli body', async () => {
    const result = decompressBody(Buffer.from([0xff, 0xff, 0xff, 0xff]), 'br', MAX)
    await expect(result).rejects.toBeInstanceOf(UpstreamBadResponseError)
    await expect(result).rejects.toHaveProperty('message', `${BAD}broken brotli body`)
  })

  it('accepts a body that decompresses to exactly maxBytes', async () => {
    const exact = Buffer.alloc(MIB, 0x20)
    const out = await decompressBody(gzipSync(exact), 'gzip', MIB)
    // Buffer#equals, not toStrictEqual: a deep comparison of a mebibyte takes seconds.
    expect(out.equals(exact)).toBe(true)
  })

  it('rejects a body that decompresses to one byte more than maxBytes', async () => {
    const result = decompressBody(gzipSync(Buffer.alloc(MIB + 1, 0x20)), 'gzip', MIB)
    await expect(result).rejects.toBeInstanceOf(UpstreamBadResponseError)
    await expect(result).rejects.toHaveProperty('message', `${BAD}decompressed body exceeds 1048576 bytes`)
  })

  describe('with a 200 MiB bomb of zeros and a 1 MiB cap', () => {
    let gzipBomb: Buffer
    let deflateBomb: Buffer
    beforeAll(async () => {
      gzipBomb = await zerosCompressed(createGzip(), 200 * MIB)
      deflateBomb = await zerosCompressed(createDeflate(), 200 * MIB)
    })

    it('is a small upstream body', () => {
      expect(gzipBomb.length).toBeLessThan(MIB)
      expect(deflateBomb.length).toBeLessThan(MIB)
    })

    it('stops gunzipping at the cap and says so', async () => {
      const result = decompressBody(gzipBomb, 'gzip', MIB)
      await expect(result).rejects.toBeInstanceOf(UpstreamBadResponseError)
      await expect(result).rejects.toHaveProperty('message', `${BAD}decompressed body exceeds 1048576 bytes`)
    })

    it('stops at the cap for a gzip bomb sent without Content-Encoding', async () => {
      const result = decompressBody(gzipBomb, undefined, MIB)
      await expect(result).rejects.toBeInstanceOf(UpstreamBadResponseError)
      await expect(result).rejects.toHaveProperty('message', `${BAD}decompressed body exceeds 1048576 bytes`)
    })

    it('stops inflating a deflate bomb at the cap', async () => {
      const result = decompressBody(deflateBomb, 'deflate', MIB)
      await expect(result).rejects.toBeInstanceOf(UpstreamBadResponseError)
      await expect(result).rejects.toHaveProperty('message', `${BAD}decompressed body exceeds 1048576 bytes`)
    })
  })
})

describe('xmlText', () => {
  it('decodes UTF-8 when there is no XML declaration', () => {
    expect(xmlText(Buffer.from('<page><callerid>"Dávid Ö" &lt;302&gt;</callerid></page>', 'utf8')))
      .toBe('<page><callerid>"Dávid Ö" &lt;302&gt;</callerid></page>')
  })

  it('decodes UTF-8 when the declaration says UTF-8', () => {
    expect(xmlText(Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<page>é</page>', 'utf8')))
      .toBe('<?xml version="1.0" encoding="UTF-8"?>\n<page>é</page>')
  })

  it('strips a UTF-8 byte order mark', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<?xml version="1.0"?><page>é</page>', 'utf8')])
    expect(xmlText(bytes)).toBe('<?xml version="1.0"?><page>é</page>')
  })

  it('decodes a document declared ISO-8859-1 as Latin-1', () => {
    const text = xmlText(fixture('devices-latin1.xml'))
    expect(text).toContain('<callerid>&quot;René Côté&quot; &lt;401&gt;</callerid>')
    expect(text).not.toContain('\ufffd')
  })

  it('reads a single-quoted, lower-case Latin-1 encoding name', () => {
    const bytes = Buffer.concat([Buffer.from("<?xml version='1.0' encoding='iso-8859-1'?><page>"), Buffer.from([0xe9]), Buffer.from('</page>')])
    expect(xmlText(bytes)).toBe("<?xml version='1.0' encoding='iso-8859-1'?><page>é</page>")
  })

  it('decodes a document declared windows-1252, including its 0x80-0x9F characters', () => {
    const bytes = Buffer.concat([Buffer.from('<?xml version="1.0" encoding="windows-1252"?><page>'), Buffer.from([0xe9, 0x80, 0x92, 0x9f]), Buffer.from('</page>')])
    expect(xmlText(bytes)).toBe('<?xml version="1.0" encoding="windows-1252"?><page>é€’Ÿ</page>')
  })

  it('decodes a document declared ISO-8859-1 byte for byte', () => {
    const bytes = Buffer.concat([Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><p>'), Buffer.from([0xe9, 0x80]), Buffer.from('</p>')])
    expect(xmlText(bytes)).toBe('<?xml version="1.0" encoding="ISO-8859-1"?><p>é\u0080</p>')
  })
})
