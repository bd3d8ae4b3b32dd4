import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import type { RawDevice } from '../../src/mor/parse.js'
import { parseDeviceDetailsXml, parseMorXml, translateDeviceDetails } from '../helpers/device-answers.js'
import { toDeviceDetails } from '../../src/mor/map-details.js'
import { translateResource } from '../../src/catalogue/translate.js'
import { deviceDetails } from '../../src/catalogue/devices.js'
import { UpstreamBadResponseError } from '../../src/mor/errors.js'
import { DeviceDetailsSchema, type DeviceDetails } from '../../src/schemas/device-details.js'
import { deviceDetailsXml, errorXml, withHtmlWrapper } from '../../src/demo/xml.js'
import { findDevice } from '../../src/demo/data.js'

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')
const BAD = 'MOR sent a response the gateway cannot use: '
const MAX = 1024 * 1024

// Strict: an unknown keyword or format in the schema fails the compile instead of passing unchecked.
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true })
ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 })
ajv.addFormat('date-time', (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(s) && !Number.isNaN(Date.parse(s)))
const validate = ajv.compile(DeviceDetailsSchema)
function expectValid (details: DeviceDetails): void {
  expect(validate(details) ? [] : validate.errors).toStrictEqual([])
}

function raw (xml: string): RawDevice {
  const answer = parseDeviceDetailsXml(xml)
  if (answer.kind !== 'device') throw new Error(`not a device: ${answer.message}`)
  return answer.device
}
const details = (xml: string, requestedId = 5) => toDeviceDetails(raw(xml), requestedId)
const page = (elements: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<page>${elements}</page>`

function thrown (fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('did not throw')
}

const FULL: DeviceDetails = {
  id: 5,
  userId: 2,
  type: 'SIP',
  name: '201',
  username: '201',
  extension: '201',
  callerId: '"Alice" <201>',
  description: 'Reception desk phone',
  host: 'dynamic',
  ipAddress: '192.0.2.10',
  port: 5060,
  registrationExpires: '2025-01-15T10:30:00.000Z',
  fullContact: 'sip:201@192.0.2.10:5060',
  context: 'mor_local',
  deviceGroupId: 2,
  primaryDidId: 0,
  transport: 'udp',
  nat: 'yes',
  qualify: '1000',
  dtmfMode: 'rfc2833',
  callGroup: '1',
  pickupGroup: '1',
  voicemailActive: true,
  record: false,
  trunk: false,
  videoSupport: false,
  codecs: { audio: ['alaw', 'ulaw', 'g729'], video: [] }
}

/** Every field null but the id: what a <page> with one known but empty element gives. */
const EMPTY: DeviceDetails = {
  id: 5,
  userId: null,
  type: null,
  name: null,
  username: null,
  extension: null,
  callerId: null,
  description: null,
  host: null,
  ipAddress: null,
  port: null,
  registrationExpires: null,
  fullContact: null,
  context: null,
  deviceGroupId: null,
  primaryDidId: null,
  transport: null,
  nat: null,
  qualify: null,
  dtmfMode: null,
  callGroup: null,
  pickupGroup: null,
  voicemailActive: null,
  record: null,
  trunk: null,
  videoSupport: null,
  codecs: null
}

describe('parseDeviceDetailsXml', () => {
  it('reads the <page>\'s flat elements as sent, entities resolved, with the codecs nested', () => {
    expect(raw(page('<id>5</id><callerid>&quot;Alice&quot; &lt;201&gt;</callerid><port>05060</port><pin>4821</pin>' +
      '<codecs><audio_codecs><codec>alaw</codec><codec>ulaw</codec></audio_codecs><video_codecs></video_codecs></codecs>'))).toStrictEqual({
      id: '5', callerid: '"Alice" <201>', port: '05060', pin: '4821', codecs: { audio_codecs: { codec: ['alaw', 'ulaw'] }, video_codecs: '' }
    })
  })

  it('reads a single <codec> as a list of one', () => {
    expect(raw(page('<codecs><audio_codecs><codec>alaw</codec></audio_codecs></codecs>'))).toStrictEqual({ codecs: { audio_codecs: { codec: ['alaw'] } } })
  })

  it('drops the trailing spaces old MOR revisions pad values with', () => {
    expect(raw(fixture('device-details-old-version.xml'))).toStrictEqual({
      name: '101',
      host: '198.51.100.7',
      secret: 'iax-Trunk-77',
      context: 'mor_local',
      ipaddr: '198.51.100.7',
      port: '4569',
      regseconds: '0',
      callerid: '"Bob & Sons" <101>',
      extension: '101',
      voicemail_active: 'no',
      username: '101',
      device_type: 'IAX2',
      record: 'no',
      nat: 'no',
      qualify: 'no',
      devicegroup_id: '3',
      dtmfmode: 'auto',
      description: 'Bob & Sons trunk',
      istrunk: '2',
      pin: '0055',
      codecs: { audio_codecs: 'g729,gsm', video_codecs: '' }
    })
  })

  it('leaves the device list parser as it was: one <device> is still a list, <codec> is not', () => {
    expect(parseMorXml('<page><devices><device><device_id>5</device_id><codec>alaw</codec></device></devices></page>'))
      .toStrictEqual({ kind: 'devices', devices: [{ device_id: '5', codec: 'alaw' }] })
  })

  it('finds the <page> inside the HTML wrapper of the XML API Extension', () => {
    expect(raw(fixture('device-details-html-wrapper.xml'))).toMatchObject({ id: '83', device_type: 'H323', user_id: '5' })
  })

  it('finds the <page> inside a full <html><head></head><body> wrapper', () => {
    expect(raw('<html><head></head><body><page><id>5</id></page></body></html>')).toStrictEqual({ id: '5' })
  })

  it('reads a bare <error> as MOR\'s error text', () => {
    expect(parseDeviceDetailsXml(errorXml('Device was not found', 'bare'))).toStrictEqual({ kind: 'error', message: 'Device was not found' })
  })

  it('reads <page><status><error> as MOR\'s error text', () => {
    expect(parseDeviceDetailsXml(fixture('device-details-not-found.xml'))).toStrictEqual({ kind: 'error', message: 'Device was not found' })
  })

  it('reads <page><error> as MOR\'s error text, even beside device elements', () => {
    expect(parseDeviceDetailsXml('<page><id>5</id><error>Incorrect hash</error></page>')).toStrictEqual({ kind: 'error', message: 'Incorrect hash' })
  })

  it('reads an HTML-wrapped error', () => {
    expect(parseDeviceDetailsXml(withHtmlWrapper(errorXml('Bad login', 'page')))).toStrictEqual({ kind: 'error', message: 'Bad login' })
  })

  it.each([
    ['a DOCTYPE with nested entities', fixture('doctype-billion-laughs.xml'), 'XML with a DOCTYPE declaration is refused'],
    ['a lower-case doctype', '<!doctype page><page><id>5</id></page>', 'XML with a DOCTYPE declaration is refused'],
    ['a mismatched closing tag', '<page><id>5</id><secret>Xk9#pL2q</secrt></page>', 'malformed XML'],
    ['a document cut off inside <page>', '<?xml version="1.0"?>\n<page>\n  <id>5</id>\n  <name>201</name>\n', 'malformed XML'],
    ['an empty body', '', 'malformed XML'],
    ['a text-only body', 'Service Temporarily Unavailable', 'malformed XML'],
    ['nesting deeper than the parser allows', page(`<description>${'<b>'.repeat(200)}${'</b>'.repeat(200)}</description>`), 'malformed XML'],
    ['an HTML error page', '<html><head><title>502</title></head><body><h1>502 Bad Gateway</h1></body></html>', 'neither <page> nor <error> in the XML'],
    ['an empty <page>', '<page></page>', 'neither <page> nor <error> in the XML']
  ])('refuses %s as a bad response', (_name, xml, message) => {
    const err = thrown(() => parseDeviceDetailsXml(xml))
    expect(err).toBeInstanceOf(UpstreamBadResponseError)
    expect(err).toHaveProperty('message', `${BAD}${message}`)
  })

  it('does not quote upstream values in a malformed XML error or its cause', () => {
    const err = thrown(() => parseDeviceDetailsXml('<page><secret>Xk9#pL2q</secrt><pin>4821</pin></page>')) as Error
    expect(JSON.stringify([err.message, (err.cause as Error).message])).not.toMatch(/Xk9#pL2q|4821/)
  })
})

describe('toDeviceDetails', () => {
  it('maps every field of a newer MOR revision\'s answer', () => {
    expect(details(fixture('device-details.xml'))).toStrictEqual(FULL)
  })

  it('maps an old revision\'s answer: padded values trimmed, the asked id, absent fields null', () => {
    expect(details(fixture('device-details-old-version.xml'), 55)).toStrictEqual({
      ...EMPTY,
      id: 55,
      type: 'IAX2',
      name: '101',
      username: '101',
      extension: '101',
      callerId: '"Bob & Sons" <101>',
      description: 'Bob & Sons trunk',
      host: '198.51.100.7',
      ipAddress: '198.51.100.7',
      port: 4569,
      context: 'mor_local',
      deviceGroupId: 3,
      nat: 'no',
      qualify: 'no',
      dtmfMode: 'auto',
      voicemailActive: false,
      record: false,
      trunk: true,
      codecs: { audio: ['g729', 'gsm'], video: [] }
    })
  })

  it('maps the HTML-wrapped answer with codecs as switches', () => {
    expect(details(fixture('device-details-html-wrapper.xml'), 83)).toStrictEqual({
      ...EMPTY, id: 83, userId: 5, type: 'H323', name: '304', codecs: { audio: ['alaw', 'g722'], video: ['h264'] }
    })
  })

  it('maps empty elements to null', () => {
    const empty = Object.keys(raw(fixture('device-details.xml'))).filter((name) => name !== 'id' && name !== 'codecs')
    expect(details(page(`<id>5</id>${empty.map((name) => `<${name}></${name}>`).join('')}<codecs/>`)))
      .toStrictEqual({ ...EMPTY, codecs: { audio: [], video: [] } })
  })

  it.each(Object.keys(FULL).filter((key) => key !== 'id'))('maps a missing element to null: %s', (key) => {
    // Every element the field reads is taken out of the full answer; the other fields stay.
    const full = raw(fixture('device-details.xml'))
    const reads: Record<string, string> = {
      userId: 'user_id',
      type: 'device_type',
      callerId: 'callerid',
      ipAddress: 'ipaddr',
      registrationExpires: 'regseconds',
      fullContact: 'fullcontact',
      deviceGroupId: 'devicegroup_id',
      primaryDidId: 'primary_did_id',
      dtmfMode: 'dtmfmode',
      callGroup: 'callgroup',
      pickupGroup: 'pickupgroup',
      voicemailActive: 'voicemail_active',
      trunk: 'istrunk',
      videoSupport: 'videosupport'
    }
    const element = reads[key] ?? key
    expect(element in full).toBe(true)
    const { [element]: _dropped, ...rest } = full
    expect(toDeviceDetails(rest, 5)).toStrictEqual({ ...FULL, [key]: null })
  })

  it('ignores unknown elements, nested or repeated ones included', () => {
    const extra = '<cid_from_dids>1</cid_from_dids><location_id>3</location_id><future><a>1</a><a>2</a></future><tag>x</tag><tag>y</tag>'
    expect(details(fixture('device-details.xml').replace('</page>', `${extra}</page>`))).toStrictEqual(FULL)
  })

  it('maps a repeated known element to null instead of picking one', () => {
    expect(details(page('<id>5</id><name>201</name><name>202</name>'))).toStrictEqual(EMPTY)
  })

  it.each([
    'secret', 'SECRET', 'Secret', 'md5secret', 'secret_key', 'sip_secret', 'pin', 'PIN', 'Pin', 'password', 'Password', 'PASSWORD',
    'passwd', 'pass', 'voicemail_password', 'vm_password', 'voicemail_pass', 'web_password', 'passphrase', 'sippass', 'api_secret'
  ])('never copies a credential element: <%s>', (name) => {
    const json = JSON.stringify(details(page(`<id>5</id><name>201</name><${name}>leak-${name}-value</${name}>`)))
    expect(json).not.toContain('leak-')
    expect(json).not.toMatch(/secret|pass|"pin"/i)
  })

  it('has no output field that could hold a credential', () => {
    expect(Object.keys(DeviceDetailsSchema.properties).filter((key) => /secret|pass|pin/i.test(key))).toStrictEqual([])
  })

  it('leaves the fixture\'s secret and PIN values out of the output', () => {
    const json = JSON.stringify(details(fixture('device-details.xml')))
    for (const value of ['Xk9#pL2q', '4821']) expect(json).not.toContain(value)
  })

  it('takes the asked id when <id> is empty', () => {
    expect(details(page('<id></id><name>201</name>'), 7)).toStrictEqual({ ...EMPTY, id: 7, name: '201' })
  })

  it('refuses an answer about another device', () => {
    const err = thrown(() => details(fixture('device-details.xml'), 6))
    expect(err).toBeInstanceOf(UpstreamBadResponseError)
    expect(err).toHaveProperty('message', `${BAD}details of device 5 instead of device 6`)
  })

  it.each(['abc', '-5', '5.0', '2147483648', '99999999999999999999'])('refuses an answer whose <id> is %s', (id) => {
    const err = thrown(() => details(page(`<id>${id}</id><name>201</name>`)))
    expect(err).toBeInstanceOf(UpstreamBadResponseError)
    expect(err).toHaveProperty('message', `${BAD}device details have no valid id`)
  })

  it('refuses a <page> with none of a device\'s elements (e.g. a device list)', () => {
    const err = thrown(() => details(page('<devices><device><device_id>5</device_id></device></devices><foo>1</foo>')))
    expect(err).toBeInstanceOf(UpstreamBadResponseError)
    expect(err).toHaveProperty('message', `${BAD}no device details in <page>`)
  })

  it.each([
    // MOR's flags, read by one rule for every answer (catalogue/fields.ts): 1/0, yes/no, true/false, any case.
    ['yes', true], ['no', false], ['1', true], ['0', false], ['', null], ['2', null], ['Yes', true], ['true', true], ['FALSE', false], ['y', null]
  ])('reads the flag %j as %j', (value, expected) => {
    expect(details(page(`<id>5</id><voicemail_active>${value}</voicemail_active><record>${value}</record><videosupport>${value}</videosupport>`)))
      .toStrictEqual({ ...EMPTY, voicemailActive: expected, record: expected, videoSupport: expected })
  })

  it.each([['0', false], ['1', true], ['2', true], ['no', false], ['yes', true], ['3', null]])('reads istrunk %j as trunk %j', (value, expected) => {
    expect(details(page(`<id>5</id><istrunk>${value}</istrunk>`)).trunk).toBe(expected)
  })

  it.each([
    ['port', '65535', 65535], ['port', '65536', null], ['port', '-1', null], ['port', '50 60', null], ['port', '0', 0],
    ['user_id', '0', 0], ['user_id', '2147483647', 2147483647], ['user_id', '2147483648', null], ['user_id', '1e3', null],
    ['devicegroup_id', '+3', null], ['primary_did_id', '12', 12]
  ])('bounds the integer <%s>%s</%s> to the schema: %j', (element, value, expected) => {
    const mapped = details(page(`<id>5</id><${element}>${value}</${element}>`))
    expect(Object.values(mapped).filter((v) => v !== null && v !== 5)).toStrictEqual(expected === null ? [] : [expected])
    expectValid(mapped)
  })

  it.each([
    ['1736937000', '2025-01-15T10:30:00.000Z'], ['1', '1970-01-01T00:00:01.000Z'], ['253402300799', '9999-12-31T23:59:59.000Z'],
    ['0', null], ['253402300800', null], ['-5', null], ['soon', null]
  ])('reads regseconds %j as registrationExpires %j', (value, expected) => {
    expect(details(page(`<id>5</id><regseconds>${value}</regseconds>`)).registrationExpires).toBe(expected)
  })

  it('drops a string longer than the schema allows', () => {
    const mapped = details(page(`<id>5</id><name>${'x'.repeat(81)}</name><username>${'y'.repeat(80)}</username><ipaddr>${'1'.repeat(46)}</ipaddr>`))
    expect(mapped).toStrictEqual({ ...EMPTY, username: 'y'.repeat(80) })
    expectValid(mapped)
  })

  it('counts a string\'s length in characters, not UTF-16 units', () => {
    // 80 emoji are 160 UTF-16 units, and within name's maxLength of 80.
    expect(details(page(`<id>5</id><name>${'😀'.repeat(80)}</name>`)).name).toBe('😀'.repeat(80))
  })

  it('cuts a description longer than 1024 characters at 1024, never inside a character', () => {
    const mapped = details(page(`<id>5</id><description>${'é😀'.repeat(600)}</description>`))
    expect(mapped.description).toBe('é😀'.repeat(512))
    expectValid(mapped)
  })
})

describe('toDeviceDetails reading codecs', () => {
  const codecs = (inner: string) => details(page(`<id>5</id><codecs>${inner}</codecs>`)).codecs

  it.each([
    ['<codec> lists', '<audio_codecs><codec>alaw</codec><codec>ulaw</codec></audio_codecs><video_codecs><codec>h264</codec></video_codecs>', ['alaw', 'ulaw'], ['h264']],
    ['one <codec>', '<audio_codecs><codec>g729</codec></audio_codecs>', ['g729'], []],
    ['switches set to 1, yes or true', '<audio_codecs><alaw>1</alaw><ulaw>0</ulaw><g729>yes</g729><gsm>no</gsm><opus>TRUE</opus><speex></speex></audio_codecs>', ['alaw', 'g729', 'opus'], []],
    ['comma-separated text', '<audio_codecs>alaw, ulaw,g729</audio_codecs><video_codecs>h263,h264</video_codecs>', ['alaw', 'ulaw', 'g729'], ['h263', 'h264']],
    ['Asterisk\'s & and ; lists', '<audio_codecs>alaw&amp;ulaw;gsm</audio_codecs>', ['alaw', 'ulaw', 'gsm'], []],
    ['empty lists', '<audio_codecs></audio_codecs><video_codecs/>', [], []],
    ['no lists inside', '', [], []],
    ['<codec> elements with children', '<audio_codecs><codec><name>alaw</name></codec><codec>ulaw</codec></audio_codecs>', ['ulaw'], []],
    ['names that are not codecs', '<audio_codecs><codec>al"aw</codec><codec>alaw</codec><codec>x/y</codec><codec>' + 'a'.repeat(33) + '</codec></audio_codecs>', ['alaw'], []],
    ['repeated names', '<audio_codecs><codec>alaw</codec><codec>alaw</codec></audio_codecs>', ['alaw'], []],
    ['lists nested too deep', '<audio_codecs><list><codec>alaw</codec></list></audio_codecs>', [], []],
    ['repeated list elements', '<audio_codecs>alaw</audio_codecs><audio_codecs>ulaw</audio_codecs>', [], []]
  ])('reads %s', (_name, inner, audio, video) => {
    expect(codecs(inner)).toStrictEqual({ audio, video })
  })

  it('reads <codecs/> as no codecs', () => {
    expect(details(page('<id>5</id><codecs/>')).codecs).toStrictEqual({ audio: [], video: [] })
  })

  it('maps absent <codecs> to null', () => {
    expect(details(page('<id>5</id><name>201</name>')).codecs).toBeNull()
  })

  it('maps <codecs> holding only text to null', () => {
    expect(details(page('<id>5</id><codecs>alaw,ulaw</codecs>')).codecs).toBeNull()
  })

  it('cuts a list at 64 codecs', () => {
    const names = Array.from({ length: 70 }, (_, i) => `c${i}`)
    const mapped = details(page(`<id>5</id><codecs><audio_codecs>${names.join(',')}</audio_codecs></codecs>`))
    expect(mapped.codecs).toStrictEqual({ audio: names.slice(0, 64), video: [] })
    expectValid(mapped)
  })
})

describe('DeviceDetailsSchema', () => {
  it('accepts its own example', () => {
    const [example] = (DeviceDetailsSchema as unknown as { examples: DeviceDetails[] }).examples
    expect(example).toStrictEqual(FULL)
    expectValid(FULL)
  })

  it('requires every field', () => {
    const { codecs: _codecs, ...partial } = FULL
    expect(validate(partial)).toBe(false)
  })

  it('allows no other field', () => {
    expect(validate({ ...FULL, secret: 'x' })).toBe(false)
  })

  it.each([
    ['device-details.xml', 5], ['device-details-old-version.xml', 55], ['device-details-html-wrapper.xml', 83]
  ])('validates what the mapper makes of %s', (name, id) => {
    expectValid(details(fixture(name), id))
  })

  it('validates the mapping of the simulator\'s every seeded device', () => {
    for (const id of [5, 6, 7, 55, 80, 81, 82, 83, 84]) {
      const owned = findDevice(id)
      if (!owned) throw new Error(`no seeded device ${id}`)
      expectValid(details(deviceDetailsXml(owned), id))
    }
  })
})

describe('translateDeviceDetails, and the device details entry\'s translation', () => {
  const translateDetailsToJson = (body: Buffer, encoding: string | undefined, maxBytes: number, id: number) =>
    translateResource(deviceDetails, body, encoding, maxBytes, { id, query: {} })

  const xml = fixture('device-details.xml')

  it.each([
    ['gzip with Content-Encoding', gzipSync(xml), 'gzip'],
    ['a gzip file without Content-Encoding', gzipSync(xml), undefined],
    ['plain XML', Buffer.from(xml), undefined]
  ])('translates %s', async (_name, body, encoding) => {
    expect(await translateDeviceDetails(body, encoding, MAX, 5)).toStrictEqual({ kind: 'device', device: FULL })
  })

  it('translates the device to JSON text, with the owner\'s id beside it', async () => {
    expect(await translateDetailsToJson(gzipSync(xml), 'gzip', MAX, 5)).toStrictEqual({ kind: 'answer', json: JSON.stringify(FULL), items: undefined, owner: 2 })
  })

  it('gives a null owner when MOR does not send user_id', async () => {
    const answer = await translateDetailsToJson(Buffer.from(fixture('device-details-old-version.xml')), undefined, MAX, 55)
    expect(answer).toMatchObject({ kind: 'answer', owner: null })
  })

  it('passes MOR\'s error on', async () => {
    expect(await translateDetailsToJson(Buffer.from(fixture('device-details-not-found.xml')), undefined, MAX, 5))
      .toStrictEqual({ kind: 'error', message: 'Device was not found' })
  })

  it('returns a bad answer as a value, without the prefix', async () => {
    expect(await translateDetailsToJson(Buffer.from(xml), undefined, MAX, 6))
      .toStrictEqual({ kind: 'bad-response', detail: 'details of device 5 instead of device 6' })
  })

  it('stops at maxBytes of decompressed XML', async () => {
    expect(await translateDetailsToJson(gzipSync(xml), 'gzip', 512, 5))
      .toStrictEqual({ kind: 'bad-response', detail: 'decompressed body exceeds 512 bytes' })
  })

  it('translates the simulator\'s answer for a seeded device, without its secret, PIN or voicemail password', async () => {
    const owned = findDevice(5)
    if (!owned) throw new Error('no seeded device 5')
    const simXml = deviceDetailsXml(owned)
    for (const credential of ['<secret>Xk9#pL2q</secret>', '<pin>48210937</pin>', '<voicemail_password>77314406</voicemail_password>']) expect(simXml).toContain(credential)
    const answer = await translateDetailsToJson(gzipSync(withHtmlWrapper(simXml)), 'gzip', MAX, 5)
    expect(answer).toStrictEqual({
      kind: 'answer',
      json: JSON.stringify({ ...FULL, registrationExpires: '2026-01-01T00:00:00.000Z' }),
      items: undefined,
      owner: 2
    })
    for (const value of ['Xk9#pL2q', '48210937', '77314406']) expect(JSON.stringify(answer)).not.toContain(value)
  })
})
