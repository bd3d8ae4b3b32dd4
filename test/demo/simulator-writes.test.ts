// The simulator's device writes (device_create, device_update, device_destroy), over real HTTP:
// MOR's answers and error texts, and that a write changes what later reads of the same simulator,
// and of no other, return.
import { gunzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CREATED_DEVICE_IDS, findDevice } from '../../src/demo/data.js'
import { SIM_ENCODINGS, startMorSimulator, STATS_PATH, type MorSimulator } from '../../src/demo/simulator.js'
import { parseDeviceDetailsXml, parseMorXml } from '../../src/mor/parse.js'
import { signParams } from '../../src/mor/sign.js'
import { startGateway, TEST_API_SECRET, TEST_API_USER } from '../helpers/gateway.js'

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
const CREATED = `${XML_DECLARATION}<status>Device was created</status>\n`
const UPDATED = `${XML_DECLARATION}<page>\n  <status>\n    <success>Device successfully updated</success>\n  </status>\n</page>\n`
const DELETED = `${XML_DECLARATION}<status>Device was deleted</status>\n`
const error = (message: string) => `${XML_DECLARATION}<error>${message}</error>\n`
const FIRST_NEW_ID = String(CREATED_DEVICE_IDS.first)

const sign = (value: string) => signParams([value], TEST_API_SECRET)

let sim: MorSimulator
beforeEach(async () => { sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET, encoding: 'plain' }) })
afterEach(async () => { await sim.close() })

type Via = 'form' | 'query' | 'get'

/** Calls a MOR API method with params in a form body, in a POST's query string, or in a GET's. */
async function call (method: string, params: Record<string, string>, { via = 'form' as Via, base = sim.url, query = {} as Record<string, string> } = {}): Promise<string> {
  const inQuery = via === 'form' ? query : { ...query, ...params }
  const url = `${base}/api/${method}${Object.keys(inQuery).length > 0 ? `?${new URLSearchParams(inQuery)}` : ''}`
  const res = via === 'form'
    ? await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) })
    : await fetch(url, { method: via === 'get' ? 'GET' : 'POST' })
  expect(res.status).toBe(200)
  // A gzip-file answer has no Content-Encoding, so fetch leaves it compressed.
  return res.headers.get('content-type') === 'application/octet-stream' ? gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8') : res.text()
}

const create = (userId: string, fields: Record<string, string> = {}, opts?: Parameters<typeof call>[2]) =>
  call('device_create', { u: TEST_API_USER, user_id: userId, hash: sign(userId), ...fields }, opts)
const update = (deviceId: string, fields: Record<string, string> = {}, opts?: Parameters<typeof call>[2]) =>
  call('device_update', { u: TEST_API_USER, device: deviceId, hash: sign(deviceId), ...fields }, opts)
const destroy = (deviceId: string, fields: Record<string, string> = {}, opts?: Parameters<typeof call>[2]) =>
  call('device_destroy', { u: TEST_API_USER, device: deviceId, hash: sign(deviceId), ...fields }, opts)

async function devicesOf (userId: string, base = sim.url) {
  const answer = parseMorXml(await call('devices_get', { u: TEST_API_USER, user_id: userId, hash: sign(userId) }, { base }))
  if (answer.kind !== 'devices') throw new Error(`devices_get said ${answer.message}`)
  return answer.devices
}
const idsOf = async (userId: string, base = sim.url) => (await devicesOf(userId, base)).map((d) => d.device_id)
const details = async (deviceId: string, base = sim.url) =>
  parseDeviceDetailsXml(await call('device_details_get', { u: TEST_API_USER, device_id: deviceId, hash: sign(deviceId) }, { base }))

describe('device_create', () => {
  it('answers <status>Device was created</status> and adds the device to devices_get and device_details_get', async () => {
    expect(await create('4', { type: 'IAX2', description: 'Lobby & <hall> phone', pin: '12345678' })).toBe(CREATED)
    expect(await devicesOf('4')).toStrictEqual([{
      device_id: FIRST_NEW_ID,
      device_type: 'IAX2',
      devicegroup_id: '4',
      primary_device: 'yes',
      username: FIRST_NEW_ID,
      secret: `new-${FIRST_NEW_ID}`,
      ipaddr: '0.0.0.0',
      port: '0',
      callerid: ''
    }])
    expect(await details(FIRST_NEW_ID)).toMatchObject({
      kind: 'device',
      device: { id: FIRST_NEW_ID, user_id: '4', device_type: 'IAX2', description: 'Lobby & <hall> phone', pin: '12345678', regseconds: '0' }
    })
  })

  it('appends to a user\'s devices as a secondary SIP device of the user\'s group by default', async () => {
    await create('2')
    await create('2', { devicegroup_id: '7' })
    const devices = await devicesOf('2')
    expect(devices.map((d) => [d.device_id, d.device_type, d.devicegroup_id, d.primary_device])).toStrictEqual([
      ['5', 'SIP', '2', 'yes'], ['6', 'SIP', '2', 'no'], ['7', 'FAX', '2', 'no'],
      [FIRST_NEW_ID, 'SIP', '2', 'no'], [String(CREATED_DEVICE_IDS.first + 1), 'SIP', '7', 'no']
    ])
  })

  it('gives ids that no seeded or generated device has, within MOR\'s INT ids', async () => {
    expect(CREATED_DEVICE_IDS.last).toBeLessThanOrEqual(2147483647)
    for (const id of [CREATED_DEVICE_IDS.first, CREATED_DEVICE_IDS.first + 1, CREATED_DEVICE_IDS.last]) expect(findDevice(id)).toBeUndefined()
  })

  it('accepts each documented device type', async () => {
    const types = ['SIP', 'IAX2', 'FAX', 'Virtual', 'H323', 'ZAP', 'Skype']
    for (const type of types) expect(await create('4', { type })).toBe(CREATED)
    expect((await devicesOf('4')).map((d) => d.device_type)).toStrictEqual(types)
  })

  it.each([
    ['User was not found', 'an unknown user', '9', {}],
    ['User was not found', 'a user_id that is not a number', 'abc', {}],
    ['Device_type_invalid', 'a type MOR does not know', '4', { type: 'PJSIP' }],
    ['Device_type_invalid', 'a type in the wrong case', '4', { type: 'sip' }],
    ['Device_group_invalid', 'a devicegroup_id that is not a number', '4', { devicegroup_id: 'x' }],
    ['Incorrect hash', 'the hash of another user', '4', { hash: sign('2') }],
    ['Bad login', 'another API user', '4', { u: 'mallory' }]
  ])('says %s for %s and adds nothing', async (message, _case, userId, fields) => {
    expect(await create(userId, fields)).toBe(error(message))
    expect(await devicesOf('4')).toStrictEqual([])
    expect(await details(FIRST_NEW_ID)).toStrictEqual({ kind: 'error', message: 'Device was not found' })
  })
})

describe('device_update', () => {
  it('changes the description device_details_get shows and nothing else, accepting new_location_id', async () => {
    const before = await details('5')
    expect(before).toMatchObject({ kind: 'device', device: { description: 'Reception desk phone' } })
    expect(await update('5', { description: 'Front desk', new_location_id: '3' })).toBe(UPDATED)
    expect(await details('5')).toStrictEqual({ kind: 'device', device: { ...(before.kind === 'device' ? before.device : {}), description: 'Front desk' } })
  })

  it('updates a created device', async () => {
    await create('4', { description: 'old' })
    expect(await update(FIRST_NEW_ID, { description: 'new' })).toBe(UPDATED)
    expect(await details(FIRST_NEW_ID)).toMatchObject({ kind: 'device', device: { description: 'new' } })
  })

  it('says Incorrect hash for the hash of another device, and changes nothing', async () => {
    expect(await update('5', { description: 'Front desk', hash: sign('6') })).toBe(error('Incorrect hash'))
    expect(await details('5')).toMatchObject({ kind: 'device', device: { description: 'Reception desk phone' } })
  })

  it.each([['an unknown device', '4242'], ['a destroyed device', '6']])('says Device was not found for %s', async (_case, deviceId) => {
    await destroy('6')
    expect(await update(deviceId, { description: 'x' })).toBe(error('Device was not found'))
  })
})

describe('device_destroy', () => {
  it('removes the device from devices_get and device_details_get; destroying it again says Device was not found', async () => {
    expect(await destroy('6')).toBe(DELETED)
    expect(await idsOf('2')).toStrictEqual(['5', '7'])
    expect(await details('6')).toStrictEqual({ kind: 'error', message: 'Device was not found' })
    expect(await destroy('6')).toBe(error('Device was not found'))
  })

  it('removes a created device and a generated one', async () => {
    await create('2')
    expect(await destroy(FIRST_NEW_ID)).toBe(DELETED)
    expect(await destroy('10000002')).toBe(DELETED)
    expect(await idsOf('2')).toStrictEqual(['5', '6', '7'])
    expect(await idsOf('1000')).toStrictEqual(['10000000', '10000001', '10000003', '10000004'])
  })

  it('says Incorrect hash for the hash of another device, and keeps the device', async () => {
    expect(await destroy('6', { hash: sign('5') })).toBe(error('Incorrect hash'))
    expect(await idsOf('2')).toStrictEqual(['5', '6', '7'])
    expect(await details('6')).toMatchObject({ kind: 'device', device: { id: '6' } })
  })
})

describe('every write', () => {
  it('takes its parameters from the query string as well as from a form body, the form body winning', async () => {
    expect(await create('4', { description: 'by POST query' }, { via: 'query' })).toBe(CREATED)
    expect(await create('4', { description: 'by GET' }, { via: 'get' })).toBe(CREATED)
    const second = String(CREATED_DEVICE_IDS.first + 1)
    expect(await update(second, { description: 'in the body' }, { query: { description: 'in the query' } })).toBe(UPDATED)
    expect(await destroy(FIRST_NEW_ID, {}, { via: 'query' })).toBe(DELETED)
    expect(await idsOf('4')).toStrictEqual([second])
    expect(await details(second)).toMatchObject({ kind: 'device', device: { description: 'in the body' } })
  })

  it('refuses GET when GET requests are disabled', async () => {
    sim.options.allowGet = false
    expect(await create('4', {}, { via: 'get' })).toBe(error('GET Requests are disabled'))
    expect(await destroy('5', {}, { via: 'get' })).toBe(error('GET Requests are disabled'))
    sim.options.allowGet = true
    expect(await idsOf('4')).toStrictEqual([])
    expect(await idsOf('2')).toStrictEqual(['5', '6', '7'])
  })

  it.each(SIM_ENCODINGS)('answers in the %s encoding', async (encoding) => {
    sim.options.encoding = encoding
    expect([await create('4'), await update(FIRST_NEW_ID), await destroy(FIRST_NEW_ID), await destroy(FIRST_NEW_ID)])
      .toStrictEqual([CREATED, UPDATED, DELETED, error('Device was not found')])
  })

  it('answers errors in the <page><status><error> shape and everything in the HTML wrapper when set to', async () => {
    sim.options.errorShape = 'page'
    sim.options.htmlWrapper = true
    expect([await create('4'), await update(FIRST_NEW_ID), await destroy('4242')]).toStrictEqual([
      '<head></head><body><status>Device was created</status>\n</body>',
      '<head></head><body><page>\n  <status>\n    <success>Device successfully updated</success>\n  </status>\n</page>\n</body>',
      '<head></head><body><page>\n  <status>\n    <error>Device was not found</error>\n  </status>\n</page>\n</body>'
    ])
  })

  it('is counted in total and in writes by method, not in byUser or byDevice', async () => {
    await create('2')
    await update('5', { description: 'x' })
    await destroy('5')
    await destroy('5')
    expect({ total: sim.calls.total, byUser: sim.calls.byUser, byDevice: sim.calls.byDevice, writes: sim.calls.writes }).toStrictEqual({
      total: 4, byUser: new Map(), byDevice: new Map(), writes: new Map([['device_create', 1], ['device_update', 1], ['device_destroy', 2]])
    })
    const stats = await (await fetch(`http://127.0.0.1:${sim.port}${STATS_PATH}`)).json() as Record<string, unknown>
    expect(stats).toStrictEqual({ total: 4, byUser: {}, byDevice: {}, writes: { device_create: 1, device_update: 1, device_destroy: 2 } })
  })

  it('changes only the simulator that received it', async () => {
    const other = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET, encoding: 'plain' })
    try {
      await create('4')
      await update('5', { description: 'changed' })
      await destroy('6')
      expect(await idsOf('4', other.url)).toStrictEqual([])
      expect(await idsOf('2', other.url)).toStrictEqual(['5', '6', '7'])
      expect(await details('5', other.url)).toMatchObject({ kind: 'device', device: { description: 'Reception desk phone' } })
      expect(await create('3', {}, { base: other.url })).toBe(CREATED)
      // Each simulator counts its own ids: the other's first new device has the same id, for user 3.
      expect(await idsOf('3', other.url)).toStrictEqual(['55', FIRST_NEW_ID])
      expect(await idsOf('4')).toStrictEqual([FIRST_NEW_ID])
      expect(await idsOf('3')).toStrictEqual(['55'])
    } finally {
      await other.close()
    }
  })

  it('lays over a test\'s own users lookup', async () => {
    sim.options.users = (id) => (id === 42 ? { id: 42, username: 'zed', devices: [] } : undefined)
    expect(await create('42')).toBe(CREATED)
    expect(await idsOf('42')).toStrictEqual([FIRST_NEW_ID])
    expect(await create('2')).toBe(error('User was not found'))
  })

  it('reaches the simulator through the gateway\'s passthrough, and later reads through it see the change', async () => {
    const gw = await startGateway(sim.url)
    try {
      const viaGateway = `${gw.url}/billing`
      expect(await create('4', { description: 'via the gateway' }, { base: viaGateway })).toBe(CREATED)
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
