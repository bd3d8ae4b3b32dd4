import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { toDevice, toDevices } from '../../src/mor/map.js'
import type { RawDevice } from '../../src/mor/parse.js'
import { parseMorXml } from '../helpers/device-answers.js'
import { UpstreamBadResponseError } from '../../src/mor/errors.js'

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')
const BAD = 'MOR sent a response the gateway cannot use: '

function rawDevices (name: string): RawDevice[] {
  const answer = parseMorXml(fixture(name))
  if (answer.kind !== 'devices') throw new Error(`${name} is not a device list`)
  return answer.devices
}

function mapError (raws: RawDevice[]): unknown {
  try {
    toDevices(raws)
  } catch (err) {
    return err
  }
  throw new Error('toDevices did not throw')
}

/** A minimal old-version device with one field replaced or (undefined) removed. */
function withField (field: string, value: unknown): RawDevice {
  const raw: RawDevice = { device_id: '5', device_type: 'SIP' }
  if (value === undefined) delete raw[field]
  else raw[field] = value
  return raw
}

const BARE = { id: 5, type: 'SIP', ipAddress: null, port: null, username: null, callerId: null, deviceGroupId: null, primary: null }

describe('toDevices on fixtures', () => {
  it('maps many devices in upstream order, with empty fields as null', () => {
    expect(toDevices(rawDevices('devices-many.xml'))).toStrictEqual([
      { id: 5, type: 'SIP', ipAddress: '192.0.2.10', port: 5060, username: '201', callerId: '"Alice" <201>', deviceGroupId: 2, primary: true },
      { id: 6, type: 'SIP', ipAddress: '0.0.0.0', port: 0, username: '202', callerId: '"Alice Mobile" <202>', deviceGroupId: 2, primary: false },
      { id: 7, type: 'FAX', ipAddress: null, port: null, username: '203', callerId: null, deviceGroupId: 2, primary: false },
      { id: 55, type: 'IAX2', ipAddress: '198.51.100.7', port: 4569, username: '101', callerId: '"Bob & Sons" <101>', deviceGroupId: 3, primary: true },
      { id: 81, type: 'SIP', ipAddress: '203.0.113.45', port: 5080, username: '302', callerId: '"Dávid Ö" <302>', deviceGroupId: 5, primary: false }
    ])
  })

  it('never copies a device secret into the output', () => {
    const json = JSON.stringify(toDevices(rawDevices('devices-many.xml')))
    for (const secret of ['Xk9#pL2q', 'mP4!zR8w', 'iax-Trunk-77', 'q<w>e"r\'t&y']) expect(json).not.toContain(JSON.stringify(secret).slice(1, -1))
    expect(json).not.toContain('secret')
  })

  it('maps a single device', () => {
    expect(toDevices(rawDevices('devices-one.xml'))).toStrictEqual([
      { id: 80, type: 'Virtual', ipAddress: null, port: 0, username: '301', callerId: null, deviceGroupId: 5, primary: true }
    ])
  })

  it('maps an empty device list to an empty array', () => {
    expect(toDevices(rawDevices('devices-none-self-closing.xml'))).toStrictEqual([])
  })

  it('maps old-version devices with every optional field null', () => {
    expect(toDevices(rawDevices('devices-old-version.xml'))).toStrictEqual([
      { id: 12, type: 'SIP', ipAddress: null, port: null, username: null, callerId: null, deviceGroupId: null, primary: null },
      { id: 13, type: 'ZAP', ipAddress: null, port: null, username: null, callerId: null, deviceGroupId: null, primary: null }
    ])
  })

  it('rejects the list when a device_id is not an integer, naming the device\'s position', () => {
    const err = mapError(rawDevices('device-bad-id.xml'))
    expect(err).toBeInstanceOf(UpstreamBadResponseError)
    expect(err).toHaveProperty('message', `${BAD}device #2 has no valid device_id`)
  })
})

describe('toDevice field rules', () => {
  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['not a number', 'abc'],
    ['digits then letters', '6a'],
    ['negative', '-3'],
    ['a fraction', '1.5'],
    ['an exponent', '1e3'],
    ['beyond the safe integer range', '9007199254740993'],
    ['a nested element', { value: '5' }]
  ])('rejects a device_id that is %s', (_case, value) => {
    let err: unknown
    try {
      toDevice(withField('device_id', value), 0)
    } catch (caught) {
      err = caught
    }
    expect(err).toBeInstanceOf(UpstreamBadResponseError)
    expect(err).toHaveProperty('message', `${BAD}device #1 has no valid device_id`)
  })

  it('rejects a device without device_type', () => {
    expect(() => toDevice(withField('device_type', undefined), 2)).toThrow(UpstreamBadResponseError)
    expect(() => toDevice(withField('device_type', undefined), 2)).toThrow(`${BAD}device #3 has no device_type`)
  })

  it.each(['SIP', 'IAX2', 'FAX', 'Virtual', 'H323', 'ZAP', 'Skype', 'sip', ''])('passes device_type %j on as sent', (type) => {
    expect(toDevice(withField('device_type', type), 0)).toStrictEqual({ ...BARE, type })
  })

  it.each([
    ['192.0.2.10', '192.0.2.10'],
    ['0.0.0.0', '0.0.0.0'],
    ['2001:db8::1', '2001:db8::1'],
    ['', null],
    [undefined, null]
  ])('maps ipaddr %j to ipAddress %j', (ipaddr, ipAddress) => {
    expect(toDevice(withField('ipaddr', ipaddr), 0)).toStrictEqual({ ...BARE, ipAddress })
  })

  it.each([
    ['5060', 5060],
    ['0', 0],
    ['', null],
    [undefined, null],
    ['abc', null],
    ['5060.5', null],
    ['-1', null],
    ['5060/udp', null]
  ])('maps port %j to %j', (port, expected) => {
    expect(toDevice(withField('port', port), 0)).toStrictEqual({ ...BARE, port: expected })
  })

  it.each([
    ['201', '201'],
    ['0101', '0101'],
    ['', null],
    [undefined, null]
  ])('maps username %j to %j, keeping it a string', (username, expected) => {
    expect(toDevice(withField('username', username), 0)).toStrictEqual({ ...BARE, username: expected })
  })

  it.each([
    ['"Alice" <201>', '"Alice" <201>'],
    ['<303>', '<303>'],
    ['', null],
    [undefined, null]
  ])('maps callerid %j to callerId %j', (callerid, callerId) => {
    expect(toDevice(withField('callerid', callerid), 0)).toStrictEqual({ ...BARE, callerId })
  })

  it.each([
    ['2', 2],
    ['0', 0],
    ['', null],
    [undefined, null],
    ['group', null],
    ['2.0', null]
  ])('maps devicegroup_id %j to deviceGroupId %j', (group, deviceGroupId) => {
    expect(toDevice(withField('devicegroup_id', group), 0)).toStrictEqual({ ...BARE, deviceGroupId })
  })

  it.each([
    // MOR's flags, read by one rule for every answer (catalogue/fields.ts): 1/0, yes/no, true/false, any case.
    ['yes', true],
    ['no', false],
    ['YES', true],
    ['1', true],
    ['true', true],
    ['0', false],
    ['y', null],
    ['', null],
    [undefined, null]
  ])('maps primary_device %j to primary %j', (primaryDevice, primary) => {
    expect(toDevice(withField('primary_device', primaryDevice), 0)).toStrictEqual({ ...BARE, primary })
  })

  it('drops the secret and unknown elements', () => {
    const raw = { ...withField('secret', 'Xk9#pL2q'), extension: '101', accountcode: '7' }
    const device = toDevice(raw, 0)
    expect(device).toStrictEqual(BARE)
    expect(JSON.stringify(device)).not.toContain('Xk9#pL2q')
  })
})

describe('toDevice keeps every value within the contract\'s bounds', () => {
  const base = { device_id: '1', device_type: 'SIP' }

  it('turns values past their bounds into null, cuts a long type, refuses an id past MOR\'s range', () => {
    const device = toDevice({ ...base, device_type: 'X'.repeat(40), callerid: 'c'.repeat(256), username: 'u'.repeat(81), ipaddr: '1'.repeat(46), port: '65536', devicegroup_id: '2147483648' }, 0)
    expect(device).toStrictEqual({ id: 1, type: 'X'.repeat(32), ipAddress: null, port: null, username: null, callerId: null, deviceGroupId: null, primary: null })
    const atBounds = toDevice({ ...base, callerid: '☎'.repeat(255), port: '65535', devicegroup_id: '2147483647' }, 0)
    expect(atBounds).toMatchObject({ callerId: '☎'.repeat(255), port: 65535, deviceGroupId: 2147483647 })
    expect(() => toDevice({ ...base, device_id: '2147483648' }, 0)).toThrow(UpstreamBadResponseError)
  })

  it('refuses a list of more devices than any MOR user has', () => {
    expect(() => toDevices(Array.from({ length: 100_001 }, () => base))).toThrow(`${BAD}more than 100000 devices`)
    expect(toDevices(Array.from({ length: 3 }, () => base))).toHaveLength(3)
  })
})
