// Generated MOR devices_get answers for the translator's property tests: device lists and MOR's
// error shapes, written the ways MOR writes them (declarations, charsets, entity and numeric
// references, the HTML wrapper, gzip and friends), each with the answer the gateway owes for it.
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib'
import fc from 'fast-check'
import type { DevicesAnswer } from '../helpers/device-answers.js'
import { DeviceSchema, MAX_USER_ID, type Device } from '../../src/schemas/device.js'

/** Every generated device secret starts with this, so a leak is found whatever the rest is. */
export const SECRET_MARK = 'ZqSeCrEtQz'

const XML_WS = [' ', '\t', '\n']
/** Code points that are valid XML characters and not whitespace to String.prototype.trim (which the parser uses). */
const plainChar = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x21, max: 0x7e }) },
  { weight: 1, arbitrary: fc.integer({ min: 0xa1, max: 0xff }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0x9f }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x100, max: 0xd7ff }) },
  { weight: 1, arbitrary: fc.integer({ min: 0xe000, max: 0xfffd }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }) }
).map((cp) => String.fromCodePoint(cp)).filter((c) => !/\s/.test(c))
const char = fc.oneof(
  { weight: 8, arbitrary: plainChar },
  { weight: 3, arbitrary: fc.constantFrom('<', '>', '&', '"', "'", '&amp;', '&lt;', ';', '#', ']]>', '<!--', '<![CDATA[') },
  { weight: 2, arbitrary: fc.constantFrom(...XML_WS) },
  { weight: 1, arbitrary: fc.constantFrom('é', 'Ö', '中', '😀', '€', 'ß', 'ñ', 'Ω') }
)
const xmlValue = fc.array(char, { maxLength: 24 }).map((cs) => cs.join(''))
const blank = fc.array(fc.constantFrom(...XML_WS), { maxLength: 3 }).map((cs) => cs.join(''))

/** A raw field value and what the mapper must make of it. */
interface Field<T> { raw: string | undefined, expected: T }

const textField: fc.Arbitrary<Field<string | null>> = fc.oneof(
  fc.constant({ raw: undefined, expected: null }),
  blank.map((raw) => ({ raw, expected: null })),
  xmlValue.map((raw) => ({ raw, expected: raw.trim() === '' ? null : raw.trim() }))
)

const digitsOf = (n: number | bigint, zeros: number) => '0'.repeat(zeros) + String(n)
const safeInt = fc.oneof(fc.nat({ max: 70000 }), fc.maxSafeNat())
/** A padded decimal; past the contract's maximum for the field it must become null. */
const paddedInt = (max: number) => fc.tuple(safeInt, fc.nat({ max: 3 }), blank, blank)
  .map(([n, zeros, before, after]) => ({ raw: before + digitsOf(n, zeros) + after, expected: n <= max ? n : null }))

const intField = (max: number): fc.Arbitrary<Field<number | null>> => fc.oneof(
  { weight: 4, arbitrary: paddedInt(max) },
  { weight: 1, arbitrary: fc.constant({ raw: undefined, expected: null }) },
  { weight: 1, arbitrary: blank.map((raw) => ({ raw, expected: null })) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.constantFrom('-1', '+5', '1.5', '1e3', '0x10', '５０６０', '١٢', '5060a', 'NaN', 'Infinity', '1 2'),
      fc.bigInt({ min: 2n ** 53n, max: 10n ** 30n }).map(String),
      xmlValue.filter((s) => !/^[0-9]+$/.test(s.trim()))
    ).map((raw) => ({ raw, expected: null }))
  }
)

// Ids past MOR's INT range make the whole answer a bad response: generated within it.
const idField = fc.tuple(fc.oneof(fc.nat({ max: 70000 }), fc.nat({ max: MAX_USER_ID }), fc.constant(MAX_USER_ID)), fc.nat({ max: 2 }), blank, blank)
  .map(([n, zeros, before, after]) => ({ raw: before + digitsOf(n, zeros) + after, expected: n }))

const primaryField: fc.Arbitrary<Field<boolean | null>> = fc.oneof(
  fc.tuple(fc.constantFrom('yes', 'no'), blank, blank).map(([v, b, a]) => ({ raw: b + v + a, expected: v === 'yes' })),
  // One rule for MOR's flags in every answer (catalogue/fields.ts): 1/0, yes/no, true/false, any case.
  fc.constantFrom({ raw: 'YES', expected: true }, { raw: 'No', expected: false }, { raw: 'true', expected: true }, { raw: '1', expected: true }, { raw: '0', expected: false }),
  fc.constantFrom('y', '2', '').map((raw) => ({ raw, expected: null })),
  fc.constant({ raw: undefined, expected: null })
)

/** The contract's bound on a type: a longer one is cut. */
const DEVICE_TYPE_MAX = (DeviceSchema.properties.type as unknown as { maxLength: number }).maxLength

const typeField = fc.oneof(
  fc.constantFrom('SIP', 'IAX2', 'FAX', 'Virtual', 'H323', 'ZAP', 'Skype', ''),
  xmlValue
).map((raw) => ({ raw, expected: [...raw.trim()].slice(0, DEVICE_TYPE_MAX).join('') }))

// ---------------------------------------------------------------- devices and documents

const FIELD_NAMES = ['device_id', 'device_type', 'devicegroup_id', 'primary_device', 'username', 'secret', 'ipaddr', 'port', 'callerid', 'extra'] as const
type FieldName = typeof FIELD_NAMES[number]

export interface GenDevice { fields: Partial<Record<FieldName, string>>, order: FieldName[], selfClose: boolean, expected: Device }

export const deviceArb: fc.Arbitrary<GenDevice> = fc.record({
  id: idField,
  type: typeField,
  group: intField(MAX_USER_ID),
  primary: primaryField,
  username: textField,
  secret: fc.option(xmlValue.map((s) => SECRET_MARK + s), { nil: undefined }),
  ipaddr: fc.oneof(textField, fc.constantFrom('0.0.0.0', '192.0.2.10', '::1').map((raw) => ({ raw, expected: raw }))),
  port: intField(65535),
  callerid: fc.oneof(textField, fc.constantFrom('"101" <101>', '"Bob & Sons" <101>', '<303>').map((raw) => ({ raw, expected: raw }))),
  extra: fc.option(xmlValue, { nil: undefined }),
  order: fc.shuffledSubarray([...FIELD_NAMES], { minLength: FIELD_NAMES.length }),
  selfClose: fc.boolean()
}).map((g) => ({
  fields: {
    device_id: g.id.raw,
    device_type: g.type.raw,
    devicegroup_id: g.group.raw,
    primary_device: g.primary.raw,
    username: g.username.raw,
    secret: g.secret,
    ipaddr: g.ipaddr.raw,
    port: g.port.raw,
    callerid: g.callerid.raw,
    extra: g.extra
  },
  order: g.order,
  selfClose: g.selfClose,
  expected: {
    id: g.id.expected,
    type: g.type.expected,
    ipAddress: g.ipaddr.expected,
    port: g.port.expected,
    username: g.username.expected,
    callerId: g.callerid.expected,
    deviceGroupId: g.group.expected,
    primary: g.primary.expected
  }
}))

/** How a document declares itself and which bytes it is written in. */
const CHARSETS = ['none', 'utf8', 'utf8-bare', 'utf8-bom', 'latin1', 'cp1252'] as const
type Charset = typeof CHARSETS[number]
const WRAPPERS = ['none', 'head-body', 'html'] as const
type Wrapper = typeof WRAPPERS[number]
export const TRANSPORTS = ['plain', 'identity', 'gzip', 'gzip-file', 'gzip-twice', 'deflate', 'br'] as const
export type Transport = typeof TRANSPORTS[number]

export interface Layout { charset: Charset, wrapper: Wrapper, ws: string, ncr: boolean }
export const layoutArb: fc.Arbitrary<Layout> = fc.record({
  charset: fc.constantFrom(...CHARSETS),
  wrapper: fc.constantFrom(...WRAPPERS),
  ws: fc.constantFrom('', '\n', '\n  ', ' \t'),
  ncr: fc.boolean()
})

/** Escapes text for XML; with `ncr`, or when the charset cannot hold a character, writes a numeric reference. */
function escape (value: string, charset: Charset, ncr: boolean, salt: number): string {
  let out = ''
  let i = salt
  for (const c of value) {
    const cp = c.codePointAt(0) ?? 0
    i++
    if (c === '&') out += '&amp;'
    else if (c === '<') out += '&lt;'
    else if (c === '>') out += i % 2 === 0 || out.endsWith(']]') ? '&gt;' : '>' // "]]>" may not appear in text
    else if (c === '"') out += i % 3 === 0 ? '&quot;' : '"'
    else if (c === "'") out += i % 3 === 0 ? '&apos;' : "'"
    else if (/\s/.test(c)) out += c // trimmed before references are decoded: a reference would change the value
    else if ((charset === 'latin1' && cp > 0xff) || (charset === 'cp1252' && cp > 0x7f) || (ncr && i % 4 === 0)) {
      out += i % 8 === 0 ? `&#x${cp.toString(16)};` : `&#${cp};`
    } else out += c
  }
  return out
}

function deviceXml (d: GenDevice, layout: Layout, salt: number): string {
  const { ws, charset, ncr } = layout
  let xml = `<device>${ws}`
  for (const name of d.order) {
    const value = d.fields[name]
    if (value === undefined) continue
    xml += value === '' && d.selfClose ? `<${name}/>${ws}` : `<${name}>${escape(value, charset, ncr, salt)}</${name}>${ws}`
  }
  return `${xml}</device>${ws}`
}

const DECLARATIONS: Record<Charset, string> = {
  none: '',
  utf8: '<?xml version="1.0" encoding="UTF-8"?>\n',
  'utf8-bare': '<?xml version="1.0"?>\n',
  'utf8-bom': '<?xml version="1.0" encoding="utf-8"?>\n',
  latin1: '<?xml version="1.0" encoding="ISO-8859-1"?>\n',
  cp1252: '<?xml version="1.0" encoding="windows-1252"?>'
}

function document (inner: string, layout: Layout): Buffer {
  let body = inner
  if (layout.wrapper === 'head-body') body = `<head></head><body>${inner}</body>`
  if (layout.wrapper === 'html') body = `<html><head></head><body>${inner}</body></html>`
  const text = DECLARATIONS[layout.charset] + body + '\n'
  if (layout.charset === 'latin1' || layout.charset === 'cp1252') return Buffer.from(text, 'latin1')
  const bytes = Buffer.from(text, 'utf8')
  return layout.charset === 'utf8-bom' ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]) : bytes
}

export type Answer = { kind: 'devices', devices: GenDevice[] } | { kind: 'error', message: string, shape: 'bare' | 'page-status' | 'page' }

const answerArb: fc.Arbitrary<Answer> = fc.oneof(
  { weight: 5, arbitrary: fc.array(deviceArb, { maxLength: 12 }).map((devices) => ({ kind: 'devices' as const, devices })) },
  {
    weight: 2,
    arbitrary: fc.record({
      message: fc.oneof(fc.constantFrom('User not found', 'Access Denied', 'Bad login', 'Incorrect hash', 'GET Requests are disabled', ''), xmlValue),
      shape: fc.constantFrom('bare' as const, 'page-status' as const, 'page' as const)
    }).map((e) => ({ kind: 'error' as const, ...e }))
  }
)

export interface Case { answer: Answer, layout: Layout, emptyForm: number, bytes: Buffer, expected: DevicesAnswer }

export function render (answer: Answer, layout: Layout, emptyForm: number): Buffer {
  const { ws, charset, ncr } = layout
  if (answer.kind === 'error') {
    const error = answer.message === '' && emptyForm === 1 ? '<error/>' : `<error>${escape(answer.message, charset, ncr, 0)}</error>`
    if (answer.shape === 'bare') return document(error, layout)
    if (answer.shape === 'page') return document(`<page>${ws}${error}${ws}</page>`, layout)
    return document(`<page>${ws}<status>${ws}${error}${ws}</status>${ws}</page>`, layout)
  }
  const list = answer.devices.length > 0
    ? `<devices>${ws}${answer.devices.map((d, i) => deviceXml(d, layout, i)).join('')}</devices>`
    : ['<devices/>', '<devices></devices>', `<devices>${ws} </devices>`][emptyForm % 3]
  return document(`<page>${ws}${list}${ws}</page>`, layout)
}

function toCase (answer: Answer, layout: Layout, emptyForm: number): Case {
  const bytes = render(answer, layout, emptyForm)
  const expected: DevicesAnswer = answer.kind === 'error'
    ? { kind: 'error', message: answer.message.trim() }
    : { kind: 'devices', devices: answer.devices.map((d) => d.expected) }
  // A counterexample reads as the document and the answer owed for it, not as a byte array.
  const show = () => `{ xml: ${JSON.stringify(bytes.toString('latin1'))}, layout: ${JSON.stringify(layout)}, expected: ${JSON.stringify(expected)} }`
  return Object.assign({ answer, layout, emptyForm, bytes, expected }, { [fc.toStringMethod]: show })
}

/** Every shape MOR sends, in every layout (a bare <error> in the HTML wrapper included). */
export const caseArb: fc.Arbitrary<Case> = fc.tuple(answerArb, layoutArb, fc.nat({ max: 2 })).map(([answer, layout, emptyForm]) =>
  toCase(answer, layout, emptyForm))

export const wrappedBareErrorArb: fc.Arbitrary<Case> = fc.tuple(
  fc.oneof(fc.constantFrom('User not found', 'Access Denied', 'Incorrect hash'), xmlValue),
  layoutArb.filter((l) => l.wrapper !== 'none'),
  fc.nat({ max: 2 })
).map(([message, layout, emptyForm]) => toCase({ kind: 'error', message, shape: 'bare' }, layout, emptyForm))

export function transport (bytes: Buffer, how: Transport): { body: Buffer, encoding: string | undefined } {
  switch (how) {
    case 'plain': return { body: bytes, encoding: undefined }
    case 'identity': return { body: bytes, encoding: 'identity' }
    case 'gzip': return { body: gzipSync(bytes), encoding: 'gzip' }
    case 'gzip-file': return { body: gzipSync(bytes), encoding: undefined }
    case 'gzip-twice': return { body: gzipSync(gzipSync(bytes)), encoding: 'gzip' }
    case 'deflate': return { body: deflateSync(bytes), encoding: 'deflate' }
    case 'br': return { body: brotliCompressSync(bytes), encoding: 'br' }
  }
}
