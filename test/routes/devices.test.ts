// The devices API end to end over real sockets: gateway -> MOR simulator over HTTP.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startMorSimulator, SIM_ENCODINGS, type MorSimulator } from '../../src/demo/simulator.js'
import { devicesGetHash } from '../../src/mor/sign.js'
import { AUTH, getJson, startGateway, TEST_API_SECRET, TEST_API_USER, type TestGateway } from '../helpers/gateway.js'
import { parserProblem, problem } from '../helpers/expected.js'

const ALICE = {
  userId: 2,
  devices: [
    { id: 5, type: 'SIP', ipAddress: '192.0.2.10', port: 5060, username: '201', callerId: '"Alice" <201>', deviceGroupId: 2, primary: true },
    { id: 6, type: 'SIP', ipAddress: '0.0.0.0', port: 0, username: '202', callerId: '"Alice Mobile" <202>', deviceGroupId: 2, primary: false },
    { id: 7, type: 'FAX', ipAddress: null, port: null, username: '203', callerId: null, deviceGroupId: 2, primary: false }
  ],
  nextCursor: null
}
const BOB = {
  userId: 3,
  devices: [{ id: 55, type: 'IAX2', ipAddress: '198.51.100.7', port: 4569, username: '101', callerId: '"Bob & Sons" <101>', deviceGroupId: 3, primary: true }],
  nextCursor: null
}
const INVALID_USER_ID = problem('invalid-request', 'Invalid request', 400, 'userId must be a decimal integer from 0 to 2147483647, without sign or leading zeros')

let sim: MorSimulator
let gw: TestGateway

beforeAll(async () => {
  sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
  gw = await startGateway(sim.url)
})
afterAll(async () => {
  await gw.close()
  await sim.close()
})
beforeEach(() => {
  Object.assign(sim.options, { encoding: 'gzip', errorShape: 'bare', htmlWrapper: false, allowGet: true })
})

describe('GET /v1/users/:userId/devices against the MOR simulator', () => {
  for (const encoding of SIM_ENCODINGS) {
    it(`returns the user's devices as JSON when MOR answers ${encoding}`, async () => {
      sim.options.encoding = encoding
      const res = await getJson(`${gw.url}/v1/users/2/devices`)
      expect(res.status).toBe(200)
      expect(res.type).toBe('application/json; charset=utf-8')
      expect(res.body).toStrictEqual(ALICE)
    })
  }

  it('returns a one-device user as a one-element array', async () => {
    expect((await getJson(`${gw.url}/v1/users/3/devices`)).body).toStrictEqual(BOB)
  })

  it('returns an empty list for a user with no devices', async () => {
    const res = await getJson(`${gw.url}/v1/users/0/devices`)
    expect(res.status).toBe(200)
    expect(res.body).toStrictEqual({ userId: 0, devices: [], nextCursor: null })
  })

  it('reads answers wrapped by MOR\'s XML API Extension', async () => {
    sim.options.htmlWrapper = true
    expect((await getJson(`${gw.url}/v1/users/3/devices`)).body).toStrictEqual(BOB)
  })

  it('returns 404 user-not-found when the XML API Extension wraps MOR\'s bare error', async () => {
    sim.options.htmlWrapper = true
    const res = await getJson(`${gw.url}/v1/users/9/devices`, { 'cache-control': 'no-cache' })
    expect(res.status).toBe(404)
    expect((res.body as { type: string }).type).toBe('/problems/user-not-found')
  })

  it('never returns a device secret', async () => {
    const res = await fetch(`${gw.url}/v1/users/5/devices`, { headers: AUTH })
    const text = await res.text()
    expect(res.status).toBe(200)
    expect(text).not.toContain('secret')
    for (const secret of ['s3cr3t-303', 'h323-304', 'q<w>e"r\'t&y']) expect(text).not.toContain(secret)
  })

  it('answers 5,000 devices in upstream order', async () => {
    const res = await getJson(`${gw.url}/v1/users/100/devices`)
    const devices = (res.body as typeof ALICE).devices
    expect(res.status).toBe(200)
    expect(devices).toHaveLength(5000)
    expect(devices.map((d) => d.id)).toStrictEqual(Array.from({ length: 5000 }, (_, i) => 1_000_000 + i))
  })

  it('returns 404 user-not-found when MOR says User not found', async () => {
    const res = await getJson(`${gw.url}/v1/users/9/devices`)
    expect(res.status).toBe(404)
    expect(res.type).toBe('application/problem+json; charset=utf-8')
    expect(res.body).toStrictEqual(problem('user-not-found', 'User not found', 404, 'MOR has no user 9 visible to the gateway\'s API user'))
  })

  it('accepts the largest user id and asks MOR about it', async () => {
    const before = sim.calls.total
    const res = await getJson(`${gw.url}/v1/users/2147483647/devices`)
    expect(res.status).toBe(404)
    expect(sim.calls.total).toBe(before + 1)
  })

  for (const bad of ['-1', '01', '00', '+1', '1.5', '1e3', 'abc', '2147483648', '99999999999', '%201', '1%20', '0x10', '١', 'x'.repeat(300)]) {
    it(`returns 400 invalid-request without calling MOR for userId ${JSON.stringify(bad.slice(0, 12))}`, async () => {
      const before = sim.calls.total
      const res = await getJson(`${gw.url}/v1/users/${bad}/devices`)
      expect(res.status).toBe(400)
      expect(res.body).toStrictEqual(INVALID_USER_ID)
      expect(sim.calls.total).toBe(before)
    })
  }

  it('returns a 400 problem for a URL that cannot be decoded', async () => {
    const { rawRequest } = await import('../helpers/raw-http.js')
    const res = await rawRequest(Number(new URL(gw.url).port), 'GET /v1/users/%zz/devices HTTP/1.1\r\nHost: gw\r\n\r\n')
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body)).toStrictEqual(problem('invalid-request', 'Invalid request', 400, 'The request URL is not valid'))
  })

  it('answers requests the HTTP parser refuses with problems too', async () => {
    const { rawRequest } = await import('../helpers/raw-http.js')
    const port = Number(new URL(gw.url).port)
    const malformed = await rawRequest(port, 'GET /v1/users/\u00ff/devices HTTP/1.1\r\nHost: gw\r\n\r\n')
    expect(malformed.status).toBe(400)
    expect(JSON.parse(malformed.body)).toStrictEqual(parserProblem('invalid-request', 'Invalid request', 400, 'The request is not valid HTTP'))
    const huge = await rawRequest(port, `GET /v1/users/2/devices HTTP/1.1\r\nHost: gw\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
    expect(huge.status).toBe(431)
    expect(JSON.parse(huge.body)).toStrictEqual(parserProblem('invalid-request', 'Invalid request', 431, 'The request headers are too large'))
  })

  it('returns a 404 problem for unknown routes', async () => {
    const res = await getJson(`${gw.url}/v2/nothing?hash=abc`)
    expect(res.status).toBe(404)
    expect(res.body).toStrictEqual(problem('not-found', 'Not found', 404, 'No route for GET /v2/nothing'))
  })

  it('signs each call with sha1(user_id + secret) in a POST form body', async () => {
    const seen: string[] = []
    sim.options.users = (id) => { seen.push(String(id)); return undefined }
    try {
      await getJson(`${gw.url}/v1/users/42/devices`)
    } finally {
      sim.options.users = (await import('../../src/demo/data.js')).findUser
    }
    // The simulator only looks a user up once login and hash have both been accepted.
    expect(seen).toStrictEqual(['42'])
  })
})

describe('MOR refusing the call', () => {
  it('returns 502 upstream-rejected for Incorrect hash, without the hash or secret', async () => {
    const other = await startGateway(sim.url, { MOR_API_SECRET: 'wrong-secret' })
    try {
      const res = await getJson(`${other.url}/v1/users/2/devices`)
      expect(res.status).toBe(502)
      expect(res.body).toStrictEqual(problem('upstream-rejected', 'MOR rejected the request', 502, 'MOR refused the request: "Incorrect hash"'))
      const text = JSON.stringify(res.body) + other.logs.join('')
      expect(text).not.toContain('wrong-secret')
      expect(text).not.toContain(devicesGetHash(2, 'wrong-secret'))
    } finally {
      await other.close()
    }
  })

  it('returns 502 upstream-rejected for Bad login, in the <page><status> shape too', async () => {
    sim.options.errorShape = 'page'
    const other = await startGateway(sim.url, { MOR_API_USER: 'nobody' })
    try {
      const res = await getJson(`${other.url}/v1/users/2/devices`)
      expect(res.body).toStrictEqual(problem('upstream-rejected', 'MOR rejected the request', 502, 'MOR refused the request: "Bad login"'))
    } finally {
      await other.close()
    }
  })

  it('sends p when MOR_API_PASSWORD is set, and MOR accepts it', async () => {
    const strict = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET, password: 'pw-123' })
    const withPassword = await startGateway(strict.url, { MOR_API_PASSWORD: 'pw-123' })
    const without = await startGateway(strict.url)
    try {
      expect((await getJson(`${withPassword.url}/v1/users/3/devices`)).body).toStrictEqual(BOB)
      expect((await getJson(`${without.url}/v1/users/3/devices`)).body).toStrictEqual(
        problem('upstream-rejected', 'MOR rejected the request', 502, 'MOR refused the request: "Bad login"'))
      expect(withPassword.logs.join('')).not.toContain('pw-123')
    } finally {
      await Promise.all([withPassword.close(), without.close(), strict.close()])
    }
  })
})

describe('logs', () => {
  it('never contain the API secret or a computed hash', () => {
    const text = gw.logs.join('')
    expect(gw.logs.length).toBeGreaterThan(10)
    expect(text).not.toContain(TEST_API_SECRET)
    for (const id of [0, 2, 3, 5, 9, 100, 2147483647]) expect(text).not.toContain(devicesGetHash(id, TEST_API_SECRET))
  })
})
