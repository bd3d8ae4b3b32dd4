// The simulator's device writes (device_create, device_update, device_delete and its old name
// device_destroy), over real HTTP: MOR's hash rules, answers and error texts, and that a write
// changes what later reads of the same simulator, and of no other, return.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CREATED_DEVICE_IDS, findDevice } from '../../src/demo/data.js'
import { SIM_ENCODINGS, startMorSimulator, STATS_PATH, type MorSimulator } from '../../src/demo/simulator.js'
import { parseDeviceDetailsXml, parseMorXml } from '../helpers/device-answers.js'
import { signParams } from '../../src/mor/sign.js'
import { startGateway, TEST_API_SECRET, TEST_API_USER } from '../helpers/gateway.js'
import { call, created, DELETED, error, hashOf, signed, UPDATED, XML_DECLARATION, type CallOptions, type Params } from './sim-client.js'

const FIRST_NEW = CREATED_DEVICE_IDS.first
const FIRST_NEW_ID = String(FIRST_NEW)

let sim: MorSimulator
beforeEach(async () => { sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET, encoding: 'plain' }) })
afterEach(async () => { await sim.close() })

const write = (method: string, params: Params, { base = sim.url, ...opts }: CallOptions = {}) => call(base, method, signed(method, params), opts)
const create = (userId: string, fields: Params = {}, opts?: CallOptions) => write('device_create', { user_id: userId, ...fields }, opts)
const update = (deviceId: string, fields: Params = {}, opts?: CallOptions) => write('device_update', { device: deviceId, ...fields }, opts)
const destroy = (deviceId: string, fields: Params = {}, opts?: CallOptions) => write('device_destroy', { device: deviceId, ...fields }, opts)
const remove = (deviceId: string, fields: Params = {}, opts?: CallOptions) => write('device_delete', { device: deviceId, ...fields }, opts)

async function devicesOf (userId: string, base = sim.url) {
  const answer = parseMorXml(await write('devices_get', { user_id: userId }, { base }))
  if (answer.kind !== 'devices') throw new Error(`devices_get said ${answer.message}`)
  return answer.devices
}
const idsOf = async (userId: string, base = sim.url) => (await devicesOf(userId, base)).map((d) => d.device_id)
const details = async (deviceId: string, base = sim.url) => parseDeviceDetailsXml(await write('device_details_get', { device_id: deviceId }, { base }))

describe('device_create', () => {
  it('answers Device created with the new id, username and password, and adds the device to devices_get and device_details_get', async () => {
    expect(await create('4', { type: 'IAX2', description: 'Lobby & <hall> phone', pin: '12345678', caller_id: '5551234' })).toBe(created(FIRST_NEW))
    expect(await devicesOf('4')).toStrictEqual([{
      device_id: FIRST_NEW_ID,
      device_type: 'IAX2',
      devicegroup_id: '4',
      primary_device: 'yes',
      username: FIRST_NEW_ID,
      secret: `new-${FIRST_NEW_ID}`,
      ipaddr: '0.0.0.0',
      port: '0',
      callerid: '<5551234>'
    }])
    expect(await details(FIRST_NEW_ID)).toMatchObject({
      kind: 'device',
      device: { id: FIRST_NEW_ID, user_id: '4', device_type: 'IAX2', description: 'Lobby & <hall> phone', pin: '12345678', regseconds: '0' }
    })
  })

  it('hashes user_id, description, pin, type, devicegroup_id and caller_id as sent, in that order: the wiki\'s example', async () => {
    const wiki = await startMorSimulator({ apiUser: 'admin', secret: 'secret', encoding: 'plain' })
    try {
      const params = { u: 'admin', user_id: '2', description: 'desription1', pin: '3', hash: '6e79d4a82f68102f43be11d873177f47817f84df' }
      expect(await call(wiki.url, 'device_create', params)).toBe(created(FIRST_NEW))
      // Unhashed fields and u change nothing; the values in another order, or user_id's alone, are wrong.
      expect(await call(wiki.url, 'device_create', { ...params, extension: '999', fromuser: 'x', call_timeout: '30', u: 'admin' })).toBe(created(FIRST_NEW + 1))
      for (const hash of [signParams(['2', '3', 'desription1'], 'secret'), signParams(['2'], 'secret')]) {
        expect(await call(wiki.url, 'device_create', { ...params, hash })).toBe(error('Incorrect hash'))
      }
      expect(await call(wiki.url, 'device_create', { ...params, pin: '4' })).toBe(error('Incorrect hash'))
    } finally {
      await wiki.close()
    }
  })

  it('appends to a user\'s devices as a secondary SIP device of the user\'s group by default', async () => {
    await create('2')
    await create('2', { devicegroup_id: '7' })
    const devices = await devicesOf('2')
    expect(devices.map((d) => [d.device_id, d.device_type, d.devicegroup_id, d.primary_device])).toStrictEqual([
      ['5', 'SIP', '2', 'yes'], ['6', 'SIP', '2', 'no'], ['7', 'FAX', '2', 'no'],
      [FIRST_NEW_ID, 'SIP', '2', 'no'], [String(FIRST_NEW + 1), 'SIP', '7', 'no']
    ])
  })

  it('gives ids that no seeded or generated device has, within MOR\'s INT ids', async () => {
    expect(CREATED_DEVICE_IDS.last).toBeLessThanOrEqual(2147483647)
    for (const id of [CREATED_DEVICE_IDS.first, CREATED_DEVICE_IDS.first + 1, CREATED_DEVICE_IDS.last]) expect(findDevice(id)).toBeUndefined()
  })

  it('accepts each documented device type', async () => {
    const types = ['SIP', 'IAX2', 'FAX', 'Virtual', 'H323', 'ZAP', 'Skype']
    for (const type of types) expect(await create('4', { type })).toContain('<status>Device created</status>')
    expect((await devicesOf('4')).map((d) => d.device_type)).toStrictEqual(types)
  })

  it('makes a pinless device for an empty pin, and leaves MOR\'s own pin when none is sent', async () => {
    await create('4', { pin: '' })
    await create('4')
    expect(await details(FIRST_NEW_ID)).toMatchObject({ kind: 'device', device: { pin: '' } })
    expect(await details(String(FIRST_NEW + 1))).toMatchObject({ kind: 'device', device: { pin: expect.stringMatching(/^[0-9]{8}$/) } })
  })

  it.each([
    ['User was not found', 'an unknown user', '9', {}],
    ['User was not found', 'a user_id that is not a number', 'abc', {}],
    ['Device type invalid', 'a type MOR does not know', '4', { type: 'PJSIP' }],
    ['Device type invalid', 'a type in the wrong case', '4', { type: 'sip' }],
    ['Device group invalid', 'a devicegroup_id that is not a number', '4', { devicegroup_id: 'x' }],
    ['Pin must be numeric', 'a pin that is not digits', '4', { pin: '12a4' }],
    ['CallerID must be numeric', 'a caller_id that is not digits', '4', { caller_id: '+1 555' }],
    ['Incorrect hash', 'the hash of another user', '4', { hash: hashOf('device_create', { user_id: '2' }) }],
    ['Incorrect hash', 'a hash over user_id alone when type is sent', '4', { type: 'SIP', hash: hashOf('device_create', { user_id: '4' }) }],
    ['Incorrect hash', 'a hash with one character more', '4', { hash: `${hashOf('device_create', { user_id: '4' })}0` }],
    ['Bad login', 'another API user', '4', { u: 'mallory' }]
  ])('says %s for %s and adds nothing', async (message, _case, userId, fields: Params) => {
    expect(await create(userId, fields)).toBe(error(message))
    expect(await devicesOf('4')).toStrictEqual([])
    expect(await details(FIRST_NEW_ID)).toStrictEqual({ kind: 'error', message: 'Device was not found' })
  })
})

describe('the 2011 revision', () => {
  it('answers Device was created without an id, spells validation errors with underscores, and answers a delete bare', async () => {
    sim.options.revision = '2011'
    expect(await create('4')).toBe(`${XML_DECLARATION}<status>Device was created</status>\n`)
    expect(await create('4', { type: 'PJSIP' })).toBe(error('Device_type_invalid'))
    expect(await create('4', { pin: 'x' })).toBe(error('Pin_must_be_numeric'))
    expect(await create('4', { devicegroup_id: 'x' })).toBe(error('Device_group_invalid'))
    expect(await create('9')).toBe(error('User was not found'))
    expect(await destroy(FIRST_NEW_ID)).toBe(`${XML_DECLARATION}<status>Device was deleted</status>\n`)
  })
})

describe('device_update', () => {
  it('changes the description device_details_get shows and nothing else, accepting new_location_id', async () => {
    const before = await details('5')
    expect(before).toMatchObject({ kind: 'device', device: { description: 'Reception desk phone' } })
    expect(await update('5', { description: 'Front desk', new_location_id: '3' })).toBe(UPDATED)
    expect(await details('5')).toStrictEqual({ kind: 'device', device: { ...(before.kind === 'device' ? before.device : {}), description: 'Front desk' } })
  })

  it('changes username, host, port, caller id and pin, which devices_get and device_details_get show', async () => {
    expect(await update('6', { authentication: '1', username: '222', host: '192.0.2.99', port: '5070', callerid_number: '5550006', pin: '11112222' })).toBe(UPDATED)
    expect((await devicesOf('2'))[1]).toMatchObject({ device_id: '6', username: '222', port: '5070', callerid: '"Alice Mobile" <5550006>' })
    expect(await details('6')).toMatchObject({ kind: 'device', device: { username: '222', host: '192.0.2.99', port: '5070', pin: '11112222', description: '' } })
    expect(await update('6', { callerid_name: 'Alice Cell' })).toBe(UPDATED)
    expect((await devicesOf('2'))[1]).toMatchObject({ callerid: '"Alice Cell" <5550006>' })
  })

  it('updates a created device', async () => {
    await create('4', { description: 'old' })
    expect(await update(FIRST_NEW_ID, { description: 'new' })).toBe(UPDATED)
    expect(await details(FIRST_NEW_ID)).toMatchObject({ kind: 'device', device: { description: 'new' } })
  })

  it.each([
    ['the hash of another device', { hash: hashOf('device_update', { device: '6' }) }],
    ['a hash over device alone when username is sent', { username: '299', hash: hashOf('device_update', { device: '5' }) }],
    ['a hash over the values in another order', { username: '299', host: '192.0.2.1', hash: signParams(['5', '192.0.2.1', '299'], TEST_API_SECRET) }]
  ])('says Incorrect hash for %s, and changes nothing', async (_case, fields: Params) => {
    expect(await update('5', { description: 'Front desk', ...fields })).toBe(error('Incorrect hash'))
    expect(await details('5')).toMatchObject({ kind: 'device', device: { description: 'Reception desk phone', username: '201' } })
  })

  it.each([['an unknown device', '4242'], ['a deleted device', '6']])('says Device was not found for %s', async (_case, deviceId) => {
    await remove('6')
    expect(await update(deviceId, { description: 'x' })).toBe(error('Device was not found'))
  })
})

describe.each(['device_delete', 'device_destroy'])('%s', (method) => {
  const del = (deviceId: string, fields: Params = {}) => write(method, { device: deviceId, ...fields })

  it('removes the device from devices_get and device_details_get; deleting it again says Device was not found', async () => {
    expect(await del('6')).toBe(DELETED)
    expect(await idsOf('2')).toStrictEqual(['5', '7'])
    expect(await details('6')).toStrictEqual({ kind: 'error', message: 'Device was not found' })
    expect(await del('6')).toBe(error('Device was not found'))
  })

  it('removes a created device and a generated one', async () => {
    await create('2')
    expect(await del(FIRST_NEW_ID)).toBe(DELETED)
    expect(await del('10000002')).toBe(DELETED)
    expect(await idsOf('2')).toStrictEqual(['5', '6', '7'])
    expect(await idsOf('1000')).toStrictEqual(['10000000', '10000001', '10000003', '10000004'])
  })

  it('says Incorrect hash for the hash of another device, and keeps the device', async () => {
    expect(await del('6', { hash: hashOf(method, { device: '5' }) })).toBe(error('Incorrect hash'))
    expect(await idsOf('2')).toStrictEqual(['5', '6', '7'])
    expect(await details('6')).toMatchObject({ kind: 'device', device: { id: '6' } })
  })

  it('refuses to delete a device that has calls, in MOR\'s error shape, and keeps it', async () => {
    sim.options.devicesWithCalls.add(6)
    expect(await del('6')).toBe(error('Cannot delete device - it has calls...'))
    sim.options.errorShape = 'page'
    expect(await del('6')).toBe(`${XML_DECLARATION}<page>\n  <status>\n    <error>Cannot delete device - it has calls...</error>\n  </status>\n</page>\n`)
    expect(await idsOf('2')).toStrictEqual(['5', '6', '7'])
    expect(await details('6')).toMatchObject({ kind: 'device', device: { id: '6' } })
    sim.options.devicesWithCalls.delete(6)
    expect(await del('6')).toBe(DELETED)
  })

  it('is counted in writes by the name called', async () => {
    await del('6')
    await del('6')
    expect(sim.calls.writes).toStrictEqual(new Map([[method, 2]]))
  })
})

describe('every write', () => {
  it('takes its parameters from the query string as well as from a form body, the query string winning, as Rails merges them', async () => {
    expect(await create('4', { description: 'by POST query' }, { via: 'query' })).toBe(created(FIRST_NEW))
    expect(await create('4', { description: 'by GET' }, { via: 'get' })).toBe(created(FIRST_NEW + 1))
    const second = String(FIRST_NEW + 1)
    expect(await update(second, { description: 'in the body' }, { query: { description: 'in the query' } })).toBe(UPDATED)
    expect(await remove(FIRST_NEW_ID, {}, { via: 'query' })).toBe(DELETED)
    expect(await idsOf('4')).toStrictEqual([second])
    expect(await details(second)).toMatchObject({ kind: 'device', device: { description: 'in the query' } })
  })

  it('refuses GET when GET requests are disabled', async () => {
    sim.options.allowGet = false
    expect(await create('4', {}, { via: 'get' })).toBe(error('GET Requests are disabled'))
    expect(await remove('5', {}, { via: 'get' })).toBe(error('GET Requests are disabled'))
    sim.options.allowGet = true
    expect(await idsOf('4')).toStrictEqual([])
    expect(await idsOf('2')).toStrictEqual(['5', '6', '7'])
  })

  it.each(SIM_ENCODINGS)('answers in the %s encoding', async (encoding) => {
    sim.options.encoding = encoding
    expect([await create('4'), await update(FIRST_NEW_ID), await remove(FIRST_NEW_ID), await destroy(FIRST_NEW_ID)])
      .toStrictEqual([created(FIRST_NEW), UPDATED, DELETED, error('Device was not found')])
  })

  it('answers errors in the <page><status><error> shape and everything in the HTML wrapper when set to', async () => {
    sim.options.errorShape = 'page'
    sim.options.htmlWrapper = true
    expect([await create('4'), await update(FIRST_NEW_ID), await remove(FIRST_NEW_ID), await remove('4242')]).toStrictEqual([
      `<head></head><body>${created(FIRST_NEW).slice(XML_DECLARATION.length)}</body>`,
      '<head></head><body><page>\n  <status>\n    <success>Device successfully updated</success>\n  </status>\n</page>\n</body>',
      '<head></head><body><page>\n  <status>Device was deleted</status>\n</page>\n</body>',
      '<head></head><body><page>\n  <status>\n    <error>Device was not found</error>\n  </status>\n</page>\n</body>'
    ])
  })

  it('is counted in total and in writes by the name called, not in byUser or byDevice', async () => {
    await create('2')
    await update('5', { description: 'x' })
    await remove('5')
    await destroy('5')
    await destroy('6')
    expect({ total: sim.calls.total, byUser: sim.calls.byUser, byDevice: sim.calls.byDevice, writes: sim.calls.writes }).toStrictEqual({
      total: 5, byUser: new Map(), byDevice: new Map(), writes: new Map([['device_create', 1], ['device_update', 1], ['device_delete', 1], ['device_destroy', 2]])
    })
    const stats = await (await fetch(`http://127.0.0.1:${sim.port}${STATS_PATH}`)).json() as Record<string, unknown>
    expect(stats).toStrictEqual({ total: 5, byUser: {}, byDevice: {}, writes: { device_create: 1, device_update: 1, device_delete: 1, device_destroy: 2 }, reads: {} })
  })

  it('changes only the simulator that received it', async () => {
    const other = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET, encoding: 'plain' })
    try {
      await create('4')
      await update('5', { description: 'changed' })
      await remove('6')
      expect(await idsOf('4', other.url)).toStrictEqual([])
      expect(await idsOf('2', other.url)).toStrictEqual(['5', '6', '7'])
      expect(await details('5', other.url)).toMatchObject({ kind: 'device', device: { description: 'Reception desk phone' } })
      // Each simulator counts its own ids: the other's first new device has the same id, for user 3.
      expect(await create('3', {}, { base: other.url })).toBe(created(FIRST_NEW))
      expect(await idsOf('3', other.url)).toStrictEqual(['55', FIRST_NEW_ID])
      expect(await idsOf('4')).toStrictEqual([FIRST_NEW_ID])
      expect(await idsOf('3')).toStrictEqual(['55'])
    } finally {
      await other.close()
    }
  })

  it('lays over a test\'s own users lookup', async () => {
    sim.options.users = (id) => (id === 42 ? { id: 42, username: 'zed', devices: [] } : undefined)
    expect(await create('42')).toBe(created(FIRST_NEW))
    expect(await idsOf('42')).toStrictEqual([FIRST_NEW_ID])
    expect(await create('2')).toBe(error('User was not found'))
  })

  it('reaches the simulator through the gateway\'s passthrough, and later reads through it see the change', async () => {
    const gw = await startGateway(sim.url)
    try {
      const viaGateway = `${gw.url}/billing`
      expect(await create('4', { description: 'via the gateway' }, { base: viaGateway })).toBe(created(FIRST_NEW))
      expect(await idsOf('4', viaGateway)).toStrictEqual([FIRST_NEW_ID])
      expect(await details(FIRST_NEW_ID, viaGateway)).toMatchObject({ kind: 'device', device: { description: 'via the gateway' } })
      expect(await destroy(FIRST_NEW_ID, {}, { base: viaGateway })).toBe(DELETED)
      expect(await idsOf('4', viaGateway)).toStrictEqual([])
      expect(sim.calls.writes).toStrictEqual(new Map([['device_create', 1], ['device_destroy', 1]]))
    } finally {
      await gw.close()
    }
  })
})
