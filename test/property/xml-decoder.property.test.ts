// Property-based tests of the pure translator (bytes in, devices or MOR's error out): generated
// MOR answers in every shape and transfer encoding MOR is known to use, then the same answers
// mutated, truncated and replaced by junk. No network: this is the CPU side alone.
import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { translateDevicesAnswer, type DevicesAnswer } from '../helpers/device-answers.js'
import { translateResource, type TranslatedResource } from '../../src/catalogue/translate.js'
import { deviceList } from '../../src/catalogue/devices.js'
import { badResponseDetail, UpstreamBadResponseError } from '../../src/mor/errors.js'
import { DeviceSchema, type Device } from '../../src/schemas/device.js'
import { caseArb, deviceArb, layoutArb, render, SECRET_MARK, transport, TRANSPORTS, wrappedBareErrorArb } from './mor-answers.js'
import { INSERTS, mutate, mutationArb } from './mutations.js'

const MAX = 4 * 1024 * 1024

const ajv = new Ajv2020({ strict: false, allErrors: true })
const validDevice = ajv.compile(DeviceSchema)

/** The Device contract, plus what the mapper promises beyond it: ids and numbers are safe, non-negative integers. */
function checkDevice (device: unknown): void {
  if (!validDevice(device)) throw new Error(`not a Device: ${ajv.errorsText(validDevice.errors)} in ${JSON.stringify(device)}`)
  const d = device as Device
  for (const n of [d.id, d.port, d.deviceGroupId]) {
    if (n !== null && !(Number.isSafeInteger(n) && n >= 0)) throw new Error(`not a safe non-negative integer: ${n}`)
  }
}

type Outcome = DevicesAnswer | { kind: 'bad-response', detail: string }

/** The device list entry's translation, as the gateway runs it for user 7. */
const translateToJson = (body: Buffer, encoding: string | undefined, maxBytes: number): Promise<TranslatedResource> =>
  translateResource(deviceList, body, encoding, maxBytes, { id: 7, query: {} })

/**
 * Runs both entry points on the same bytes and checks what holds for any input: nothing but
 * UpstreamBadResponseError escapes, translateToJson never rejects, the two agree, devices satisfy
 * the schema, and no secret reaches the JSON.
 */
async function translateBoth (body: Buffer, encoding: string | undefined): Promise<Outcome> {
  let direct: Outcome
  try {
    direct = await translateDevicesAnswer(body, encoding, MAX)
  } catch (err) {
    if (!(err instanceof UpstreamBadResponseError)) throw new Error(`translateDevicesAnswer threw ${String(err)}`, { cause: err })
    direct = { kind: 'bad-response', detail: badResponseDetail(err) }
  }
  const json = await translateToJson(body, encoding, MAX)
  if (json.kind === 'answer') {
    expect(direct.kind).toBe('devices')
    const { json: text, items: index } = json
    if (index === undefined) throw new Error('the device list has no index')
    const { userId, devices, nextCursor } = JSON.parse(text) as { userId: unknown, devices: unknown, nextCursor: unknown }
    expect([userId, nextCursor]).toStrictEqual([7, null])
    if (!Array.isArray(devices)) throw new Error('the translated devices are not an array')
    devices.forEach(checkDevice)
    expect(devices).toStrictEqual((direct as { devices: Device[] }).devices)
    expect(text).not.toContain(SECRET_MARK)
    // The index finds every device's bytes, and its type and primary flag.
    const bytes = Buffer.from(text)
    expect(index.starts.length).toBe(devices.length + 1)
    devices.forEach((device: Device, i) => {
      expect(JSON.parse(bytes.toString('utf8', index.starts[i], (index.starts[i + 1] ?? 0) - 1))).toStrictEqual(device)
      const { type, primary } = index.columns ?? {}
      expect(type?.names[type.values[i] ?? -1]).toBe(device.type.toLowerCase())
      expect(primary?.names[primary.values[i] ?? -1]).toBe(device.primary === null ? '' : String(device.primary))
      expect(index.ids[i]).toBe(device.id)
    })
  } else {
    expect(json).toStrictEqual(direct)
  }
  if (direct.kind === 'error') expect(typeof direct.message).toBe('string')
  if (direct.kind === 'bad-response') expect(direct.detail).not.toContain(SECRET_MARK)
  expect(JSON.stringify(direct)).not.toContain(SECRET_MARK)
  return direct
}

const transportArb = fc.constantFrom(...TRANSPORTS)

describe('translating generated MOR answers', () => {
  it('yields exactly the generated devices, in order, or MOR\'s error text, in every shape and transfer encoding', async () => {
    await fc.assert(fc.asyncProperty(caseArb, transportArb, async (c, how) => {
      const { body, encoding } = transport(c.bytes, how)
      expect(await translateBoth(body, encoding)).toStrictEqual(c.expected)
    }), { numRuns: 2000 })
  })

  // With MOR's "XML API Extension" on, a bare error comes as `<head></head><body><error>...`.
  it('reads MOR\'s error text from a bare <error> inside the HTML wrapper of the XML API Extension', async () => {
    await fc.assert(fc.asyncProperty(wrappedBareErrorArb, transportArb, async (c, how) => {
      const { body, encoding } = transport(c.bytes, how)
      expect(await translateBoth(body, encoding)).toStrictEqual(c.expected)
    }), { numRuns: 200 })
  })

  it('never puts a device secret into the translated answer', async () => {
    const withSecrets = fc.array(deviceArb.filter((d) => d.fields.secret !== undefined), { minLength: 1, maxLength: 6 })
    await fc.assert(fc.asyncProperty(withSecrets, layoutArb, transportArb, async (devices, layout, how) => {
      const { body, encoding } = transport(render({ kind: 'devices', devices }, layout, 0), how)
      const result = await translateDevicesAnswer(body, encoding, MAX)
      const json = JSON.stringify(result)
      expect(result.kind).toBe('devices')
      expect(json).not.toContain(SECRET_MARK)
      expect(json).not.toContain('secret')
    }), { numRuns: 500 })
  })

  it('refuses an answer exactly when one of its decompressed layers exceeds the byte limit', async () => {
    const compressed = fc.constantFrom('gzip' as const, 'gzip-file' as const, 'gzip-twice' as const, 'deflate' as const, 'br' as const)
    await fc.assert(fc.asyncProperty(caseArb, compressed, fc.double({ min: 0.5, max: 1.5, noNaN: true }), async (c, how, ratio) => {
      const { body, encoding } = transport(c.bytes, how)
      const layers = how === 'gzip-twice' ? [gzipSync(c.bytes).length, c.bytes.length] : [c.bytes.length]
      const limit = Math.max(1, Math.round(c.bytes.length * ratio))
      const fits = layers.every((size) => size <= limit)
      const outcome = await translateToJson(body, encoding, limit)
      expect(outcome.kind === 'bad-response' ? outcome.detail : 'translated').toBe(fits ? 'translated' : `decompressed body exceeds ${limit} bytes`)
    }), { numRuns: 500 })
  })

  it('refuses every truncation of a well-formed answer rather than passing it as a shorter one', async () => {
    await fc.assert(fc.asyncProperty(caseArb, fc.nat(), fc.boolean(), async (c, at, gzipped) => {
      const text = c.bytes
      if (gzipped) {
        const full = gzipSync(text)
        const cut = full.subarray(0, at % full.length)
        expect((await translateBoth(cut, 'gzip')).kind).toBe('bad-response')
      } else {
        // Up to the document's last '>': cutting only the final newline leaves it whole.
        const cut = text.subarray(0, at % (text.lastIndexOf('>'.charCodeAt(0)) + 1))
        expect((await translateBoth(cut, undefined)).kind).toBe('bad-response')
      }
    }), { numRuns: 1000 })
  })
})

// ---------------------------------------------------------------- mutations and junk

const DOCTYPE = /<!DOCTYPE/i
const SOUP_TAGS = ['<page>', '</page>', '<devices>', '</devices>', '<devices/>', '<device>', '</device>', '<device/>',
  '<device_id>', '</device_id>', '<device_type>', '</device_type>', '<port>', '</port>', '<primary_device>', '</primary_device>',
  '<status>', '</status>', '<error>', '</error>', '<head></head>', '<body>', '</body>', '<html>', '</html>', '<secret>', '</secret>',
  '<__proto__>', '</__proto__>', '<constructor>', '</constructor>', '<device_id a="1">', '<!-- c -->', '<![CDATA[x]]>']
const encodingArb = fc.constantFrom(undefined, 'gzip', 'x-gzip', 'identity', 'deflate', 'br', ' GZIP ', 'compress', '')

describe('translating damaged and hostile answers', () => {
  it('answers mutated documents with devices that satisfy the schema, MOR\'s error, or a bad-response error, and nothing else', async () => {
    await fc.assert(fc.asyncProperty(caseArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), async (c, mutations) => {
      const damaged = mutations.reduce(mutate, c.bytes)
      const outcome = await translateBoth(damaged, undefined)
      if (DOCTYPE.test(damaged.toString('latin1'))) expect(outcome.kind).toBe('bad-response')
    }), { numRuns: 1500 })
  })

  it('survives gzip bodies with flipped, cut or inserted bytes', async () => {
    await fc.assert(fc.asyncProperty(caseArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), fc.constantFrom('gzip', undefined), async (c, mutations, encoding) => {
      await translateBoth(mutations.reduce(mutate, gzipSync(c.bytes)), encoding)
    }), { numRuns: 1000 })
  })

  it('survives fully random bytes under any Content-Encoding', async () => {
    const junk = fc.oneof(
      fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.concat([Buffer.from([0x1f, 0x8b]), a])),
      fc.uint8Array({ maxLength: 200 }).map((a) => gzipSync(a))
    )
    await fc.assert(fc.asyncProperty(junk, encodingArb, async (body, encoding) => {
      await translateBoth(body, encoding)
    }), { numRuns: 1500 })
  })

  it('survives tag soup made of MOR\'s own element names', async () => {
    const token = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...SOUP_TAGS) },
      { weight: 2, arbitrary: fc.constantFrom('5', '0', 'SIP', 'yes', 'pw', '&amp;', '&#233;', '&bogus;', ' ', '\n') },
      { weight: 1, arbitrary: fc.constantFrom(...INSERTS) }
    )
    const soup = fc.tuple(fc.constantFrom('', '<?xml version="1.0"?>'), fc.array(token, { maxLength: 40 }))
      .map(([decl, tokens]) => Buffer.from(decl + tokens.join('')))
    await fc.assert(fc.asyncProperty(soup, fc.boolean(), async (body, gzipped) => {
      const outcome = await translateBoth(gzipped ? gzipSync(body) : body, gzipped ? 'gzip' : undefined)
      if (DOCTYPE.test(body.toString('latin1'))) expect(outcome.kind).toBe('bad-response')
    }), { numRuns: 1500 })
  })
})
