// The simulator's device_details_get, over real HTTP: what it sends (credentials included, as MOR
// does), MOR's error texts, and how it counts calls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMorSimulator, STATS_PATH, type MorSimulator } from '../../src/demo/simulator.js'
import { parseDeviceDetailsXml } from '../helpers/device-answers.js'
import { signParams } from '../../src/mor/sign.js'
import { TEST_API_SECRET, TEST_API_USER } from '../helpers/gateway.js'

let sim: MorSimulator
beforeAll(async () => { sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET, encoding: 'plain' }) })
afterAll(async () => { await sim.close() })

const hashOf = (deviceId: string) => signParams([deviceId], TEST_API_SECRET)

async function details (deviceId: string, form: Record<string, string> = {}, url = sim.url): Promise<string> {
  const res = await fetch(`${url}/api/device_details_get`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ u: TEST_API_USER, device_id: deviceId, hash: hashOf(deviceId), ...form })
  })
  expect(res.status).toBe(200)
  return res.text()
}

const errorText = (xml: string) => {
  const answer = parseDeviceDetailsXml(xml)
  return answer.kind === 'error' ? answer.message : undefined
}

describe('the simulator\'s device_details_get', () => {
  it('sends a seeded device\'s flat elements, credentials included, with its owner and nested codecs', async () => {
    const xml = await details('5')
    for (const element of ['<secret>Xk9#pL2q</secret>', '<pin>48210937</pin>', '<voicemail_password>77314406</voicemail_password>']) expect(xml).toContain(element)
    const answer = parseDeviceDetailsXml(xml)
    expect(answer).toMatchObject({
      kind: 'device',
      device: {
        id: '5',
        user_id: '2',
        device_type: 'SIP',
        username: '201',
        callerid: '"Alice" <201>',
        host: 'dynamic',
        codecs: { audio_codecs: { codec: ['alaw', 'ulaw', 'g729'] }, video_codecs: '' }
      }
    })
  })

  it('escapes the values it writes', async () => {
    expect(await details('55')).toContain('<description>Bob &amp; Sons &lt;office&gt; trunk</description>')
  })

  it('answers gzipped by default, like MOR', async () => {
    const other = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
    try {
      const res = await fetch(`${other.url}/api/device_details_get`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-encoding': 'identity' },
        body: new URLSearchParams({ u: TEST_API_USER, device_id: '6', hash: hashOf('6') })
      })
      expect(res.headers.get('content-encoding')).toBe('gzip')
      // fetch decodes Content-Encoding itself.
      expect(parseDeviceDetailsXml(await res.text())).toMatchObject({ kind: 'device', device: { id: '6', user_id: '2' } })
    } finally {
      await other.close()
    }
  })

  it.each([
    ['a generated device of a large user', '1000001', '100'],
    ['a generated device of a bulk user', '10000004', '1000']
  ])('finds %s', async (_name, deviceId, owner) => {
    expect(parseDeviceDetailsXml(await details(deviceId))).toMatchObject({ kind: 'device', device: { id: deviceId, user_id: owner } })
  })

  it.each([
    ['an unknown device', '4242'],
    ['a generated user\'s device past its count', '10000005'],
    ['an empty device_id', ''],
    ['a device_id that is not a number', 'abc']
  ])('says Device was not found for %s', async (_name, deviceId) => {
    expect(errorText(await details(deviceId))).toBe('Device was not found')
  })

  it('says Incorrect hash for a hash of another device', async () => {
    expect(errorText(await details('5', { hash: hashOf('6') }))).toBe('Incorrect hash')
  })

  it('says Bad login for another API user', async () => {
    expect(errorText(await details('5', { u: 'mallory' }))).toBe('Bad login')
  })

  it('says Bad login without the right p when it wants one', async () => {
    const strict = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET, password: 'pw-123', encoding: 'plain' })
    try {
      expect(errorText(await details('5', {}, strict.url))).toBe('Bad login')
      expect(errorText(await details('5', { p: 'pw-123' }, strict.url))).toBeUndefined()
    } finally {
      await strict.close()
    }
  })

  it('answers in the <page><status><error> shape when set to', async () => {
    sim.options.errorShape = 'page'
    try {
      expect(await details('4242')).toContain('<page>\n  <status>\n    <error>Device was not found</error>\n  </status>\n</page>')
    } finally {
      sim.options.errorShape = 'bare'
    }
  })

  it('wraps the answer in HTML when the XML API Extension is on', async () => {
    sim.options.htmlWrapper = true
    try {
      const xml = await details('5')
      expect(xml.startsWith('<head></head><body><page>')).toBe(true)
      expect(parseDeviceDetailsXml(xml)).toMatchObject({ kind: 'device', device: { id: '5' } })
    } finally {
      sim.options.htmlWrapper = false
    }
  })

  it('refuses GET when GET requests are disabled, and answers it otherwise', async () => {
    const query = new URLSearchParams({ u: TEST_API_USER, device_id: '5', hash: hashOf('5') })
    expect(parseDeviceDetailsXml(await (await fetch(`${sim.url}/api/device_details_get?${query}`)).text())).toMatchObject({ kind: 'device' })
    sim.options.allowGet = false
    try {
      expect(errorText(await (await fetch(`${sim.url}/api/device_details_get?${query}`)).text())).toBe('GET Requests are disabled')
    } finally {
      sim.options.allowGet = true
    }
  })

  it('counts details calls by device_id in total and byDevice, and list calls by user_id as before', async () => {
    const before = { total: sim.calls.total, device: sim.calls.byDevice.get('84') ?? 0, user: sim.calls.byUser.get('5') ?? 0 }
    await details('84')
    await fetch(`${sim.url}/api/devices_get`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ u: TEST_API_USER, user_id: '5', hash: signParams(['5'], TEST_API_SECRET) })
    }).then((res) => res.text())
    expect({ total: sim.calls.total, device: sim.calls.byDevice.get('84'), user: sim.calls.byUser.get('5') })
      .toStrictEqual({ total: before.total + 2, device: before.device + 1, user: before.user + 1 })
    expect(sim.calls.byUser.has('')).toBe(false)
    const stats = await (await fetch(`http://127.0.0.1:${sim.port}${STATS_PATH}`)).json() as Record<string, unknown>
    expect(stats).toStrictEqual({ total: sim.calls.total, byUser: Object.fromEntries(sim.calls.byUser), byDevice: Object.fromEntries(sim.calls.byDevice), writes: {}, reads: {} })
  })
})
