// The MOR client's device_details_get against the simulator over real HTTP (and a raw server for
// what the simulator never does): the signed form it posts, each encoding, and each typed failure.
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMorClient, type MorClient, type MorSettings } from '../../src/mor/client.js'
import {
  DeviceNotFoundError, UpstreamBadResponseError, UpstreamRejectedError, UpstreamTimeoutError, UpstreamUnavailableError, upstreamKind
} from '../../src/mor/errors.js'
import { signParams } from '../../src/mor/sign.js'
import { SIM_ENCODINGS, startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { deviceDetailsXml } from '../../src/demo/xml.js'
import { findDevice } from '../../src/demo/data.js'
import { TEST_API_SECRET, TEST_API_USER } from '../helpers/gateway.js'
import { failure } from '../helpers/failure.js'
import { ask } from '../helpers/ask.js'
import { deviceDetails, deviceList } from '../../src/catalogue/devices.js'
import { refusedUrl, startFaultUpstream } from '../helpers/fault-upstream.js'
import { DESK_PHONE_DETAILS } from '../helpers/expected.js'

const settings = (baseUrl: string, more: Partial<MorSettings> = {}): MorSettings =>
  ({ baseUrl, user: TEST_API_USER, secret: TEST_API_SECRET, password: undefined, timeoutMs: 2000, maxBytes: 1024 * 1024, ...more })

const clients: MorClient[] = []
function client (baseUrl: string, more: Partial<MorSettings> = {}): MorClient {
  const made = createMorClient(settings(baseUrl, more))
  clients.push(made)
  return made
}

let sim: MorSimulator
let mor: MorClient
beforeAll(async () => {
  sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
  mor = client(sim.url)
})
afterAll(async () => {
  await Promise.all(clients.map((made) => made.close()))
  await sim.close()
})

describe('getResource(deviceDetails) against the simulator', () => {
  it.each(SIM_ENCODINGS)('returns the device\'s details JSON and owner when MOR answers %s', async (encoding) => {
    sim.options.encoding = encoding
    try {
      const answer = await mor.getResource(deviceDetails, ask(5))
      expect(JSON.parse(answer.json)).toStrictEqual(DESK_PHONE_DETAILS)
      expect(answer.owner).toBe(2)
    } finally {
      sim.options.encoding = 'gzip'
    }
  })

  it('reads the answer inside the HTML wrapper of the XML API Extension', async () => {
    sim.options.htmlWrapper = true
    try {
      expect(JSON.parse((await mor.getResource(deviceDetails, ask(5))).json)).toStrictEqual(DESK_PHONE_DETAILS)
    } finally {
      sim.options.htmlWrapper = false
    }
  })

  it('leaves the secret, PIN and voicemail password MOR sends out of the JSON', async () => {
    const { json } = await mor.getResource(deviceDetails, ask(55))
    const owned = findDevice(55)
    expect(owned && deviceDetailsXml(owned)).toContain('<secret>iax-Trunk-77</secret>')
    expect(json).not.toMatch(/iax-Trunk-77|00551872|secret|pass|"pin"/i)
    expect(JSON.parse(json)).toMatchObject({ id: 55, userId: 3, type: 'IAX2', host: '198.51.100.7', trunk: true, description: 'Bob & Sons <office> trunk' })
  })

  it('finds a generated device and its owner', async () => {
    expect(await mor.getResource(deviceDetails, ask(1_000_001))).toMatchObject({ owner: 100 })
  })

  it('counts the call by device, apart from the device list calls', async () => {
    const total = sim.calls.total
    const users = new Map(sim.calls.byUser)
    await mor.getResource(deviceDetails, ask(81))
    await mor.getResource(deviceDetails, ask(81))
    expect(sim.calls.byDevice.get('81')).toBe(2)
    expect(sim.calls.total).toBe(total + 2)
    expect(sim.calls.byUser).toStrictEqual(users)
  })

  it.each(['bare' as const, 'page' as const])('throws DeviceNotFoundError when MOR says Device was not found (%s error shape)', async (shape) => {
    sim.options.errorShape = shape
    try {
      const err = await failure(mor.getResource(deviceDetails, ask(4242)))
      expect(err).toBeInstanceOf(DeviceNotFoundError)
      expect(err.message).toBe('No device 4242 among the devices this caller may read')
      expect(err).toHaveProperty('statusCode', 404)
      expect(err).toHaveProperty('code', 'MOR_DEVICE_NOT_FOUND')
      expect(upstreamKind(err)).toBe('not-found')
    } finally {
      sim.options.errorShape = 'bare'
    }
  })

  it('throws a rejection quoting Incorrect hash when the secret is wrong', async () => {
    const err = await failure(client(sim.url, { secret: 'not-the-secret' }).getResource(deviceDetails, ask(5)))
    expect(err).toBeInstanceOf(UpstreamRejectedError)
    expect(err.message).toBe('MOR refused the request: "Incorrect hash"')
    expect(upstreamKind(err)).toBe('rejected')
  })

  it('throws a rejection quoting Bad login when the API user is wrong', async () => {
    const err = await failure(client(sim.url, { user: 'mallory' }).getResource(deviceDetails, ask(5)))
    expect(err).toBeInstanceOf(UpstreamRejectedError)
    expect(err.message).toBe('MOR refused the request: "Bad login"')
  })

  it('sends p when a password is set, and MOR\'s older login then passes', async () => {
    const strict = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET, password: 'pw-123' })
    try {
      expect((await client(strict.url, { password: 'pw-123' }).getResource(deviceDetails, ask(5))).owner).toBe(2)
      const err = await failure(client(strict.url).getResource(deviceDetails, ask(5)))
      expect(err.message).toBe('MOR refused the request: "Bad login"')
    } finally {
      await strict.close()
    }
  })

  it('throws a bad response when the compressed answer is over maxBytes', async () => {
    const owned = findDevice(5)
    if (!owned) throw new Error('no seeded device 5')
    const gzipped = gzipSync(deviceDetailsXml(owned)).length
    const err = await failure(client(sim.url, { maxBytes: gzipped - 1 }).getResource(deviceDetails, ask(5)))
    expect(err).toBeInstanceOf(UpstreamBadResponseError)
    expect(err.message).toBe(`MOR sent a response the gateway cannot use: body exceeds ${gzipped - 1} bytes`)
  })

  it('throws a bad response when the answer decompresses past maxBytes', async () => {
    const owned = findDevice(5)
    if (!owned) throw new Error('no seeded device 5')
    const plain = Buffer.byteLength(deviceDetailsXml(owned))
    const err = await failure(client(sim.url, { maxBytes: plain - 1 }).getResource(deviceDetails, ask(5)))
    expect(err).toBeInstanceOf(UpstreamBadResponseError)
    expect(err.message).toBe(`MOR sent a response the gateway cannot use: decompressed body exceeds ${plain - 1} bytes`)
  })

  it('throws a timeout when MOR answers later than timeoutMs', async () => {
    sim.options.delayMs = 500
    try {
      const err = await failure(client(sim.url, { timeoutMs: 100 }).getResource(deviceDetails, ask(5)))
      expect(err).toBeInstanceOf(UpstreamTimeoutError)
      expect(err.message).toBe('MOR did not answer within 100 ms')
    } finally {
      sim.options.delayMs = 0
    }
  })

  it('still gets device lists through the same client', async () => {
    const list = await mor.getResource(deviceList, ask(3))
    expect(JSON.parse(list.json)).toStrictEqual({
      userId: 3,
      devices: [{ id: 55, type: 'IAX2', ipAddress: '198.51.100.7', port: 4569, username: '101', callerId: '"Bob & Sons" <101>', deviceGroupId: 3, primary: true }],
      nextCursor: null
    })
  })
})

describe('getResource(deviceDetails) against a raw upstream', () => {
  it('posts u, device_id and hash as a form to <base>/api/device_details_get, and p only when set', async () => {
    const upstream = await startFaultUpstream()
    try {
      const seen: Array<{ method?: string, url?: string, type?: string, body: string }> = []
      upstream.handle((req, res) => {
        const chunks: Buffer[] = []
        req.on('data', (chunk: Buffer) => chunks.push(chunk))
        req.on('end', () => {
          seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], body: Buffer.concat(chunks).toString() })
          res.writeHead(200, { 'content-type': 'text/xml' }).end('<page><id>7</id><device_type>FAX</device_type></page>')
        })
      })
      await client(upstream.url).getResource(deviceDetails, ask(7))
      await client(upstream.url, { password: 'pw & =' }).getResource(deviceDetails, ask(7))
      const hash = signParams(['7'], TEST_API_SECRET)
      expect(seen).toStrictEqual([
        { method: 'POST', url: '/billing/api/device_details_get', type: 'application/x-www-form-urlencoded', body: `u=admin&device_id=7&hash=${hash}` },
        { method: 'POST', url: '/billing/api/device_details_get', type: 'application/x-www-form-urlencoded', body: `u=admin&device_id=7&hash=${hash}&p=pw+%26+%3D` }
      ])
    } finally {
      await upstream.close()
    }
  })

  it('throws a bad response on an HTTP error status', async () => {
    const upstream = await startFaultUpstream()
    try {
      upstream.handle((_req, res) => { res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>500</h1>') })
      const err = await failure(client(upstream.url).getResource(deviceDetails, ask(7)))
      expect(err).toBeInstanceOf(UpstreamBadResponseError)
      expect(err.message).toBe('MOR sent a response the gateway cannot use: HTTP status 500')
    } finally {
      await upstream.close()
    }
  })

  it('throws unavailable when nothing listens', async () => {
    const err = await failure(client(await refusedUrl()).getResource(deviceDetails, ask(7)))
    expect(err).toBeInstanceOf(UpstreamUnavailableError)
    expect(err.message).toBe('MOR could not be reached: connection refused')
  })

  it('throws a rejection without quoting an unknown MOR message', async () => {
    const upstream = await startFaultUpstream()
    try {
      upstream.handle((_req, res) => { res.writeHead(200, { 'content-type': 'text/xml' }).end('<error>Device 7 is owned by Xk9#pL2q</error>') })
      const err = await failure(client(upstream.url).getResource(deviceDetails, ask(7)))
      expect(err).toBeInstanceOf(UpstreamRejectedError)
      expect(err.message).toBe('MOR refused the request: an unrecognised error message')
    } finally {
      await upstream.close()
    }
  })
})
