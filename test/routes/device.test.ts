// GET /v1/devices/:deviceId end to end over real sockets: gateway -> MOR simulator's
// device_details_get over HTTP. One device's details, its credentials never let through, read
// through its owner's scope, and cached like the lists (misses, hits, ETag/304, no-cache,
// coalescing, negative caching, stale-if-error, compression).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findDevice, SEEDED_USERS, type SimOwnedDevice } from '../../src/demo/data.js'
import type { MorSimulator } from '../../src/demo/simulator.js'
import { escapeXml } from '../../src/demo/xml.js'
import { parseDeviceDetailsXml } from '../helpers/device-answers.js'
import { toDeviceDetails } from '../../src/mor/map-details.js'
import { signParams } from '../../src/mor/sign.js'
import { DeviceDetailsSchema } from '../../src/schemas/device-details.js'
import { AUTH, getJson, TEST_API_SECRET, TEST_API_USER, type TestGateway } from '../helpers/gateway.js'
import { DESK_PHONE_DETAILS, problem, withoutInstance } from '../helpers/expected.js'
import { bearer, CHALLENGE, KEY_ONE, KEY_TWO, MISSING_KEY } from '../helpers/callers.js'
import { closeAfterTest, gateway, sharedGateway, simulator } from '../helpers/scoped.js'
import { startFaultUpstream } from '../helpers/fault-upstream.js'
import { fakeWallClock } from '../helpers/clock.js'

const deviceUrl = (gw: TestGateway, id: number | string) => `${gw.url}/v1/devices/${id}`
const callsFor = (sim: MorSimulator, deviceId: number) => sim.calls.byDevice.get(String(deviceId)) ?? 0

const notFound = (id: number) => problem('device-not-found', 'Device not found', 404, `No device ${id} among the devices this caller may read`)
const INVALID_DEVICE_ID = problem('invalid-request', 'Invalid request', 400, 'deviceId must be a decimal integer from 0 to 2147483647, without sign or leading zeros')
const NO_QUERY = (name: string) => problem('invalid-request', 'Invalid request', 400, `Unknown query parameter "${name}": this operation takes none`)
const INCORRECT_HASH = problem('upstream-rejected', 'MOR rejected the request', 502, 'MOR refused the request: "Incorrect hash"')

/**
 * The details the gateway owes for a simulator device, from the simulator's record of it and the
 * settings the simulator gives every device (demo/xml.ts: context mor_local, nat yes, ...).
 */
function expectedDetails ({ userId, device }: SimOwnedDevice) {
  const extras = device.extras ?? {}
  const orNull = (value: string | undefined) => (value === undefined || value === '' ? null : value)
  const host = extras.host ?? 'dynamic'
  const registered = host === 'dynamic' && orNull(device.ipaddr) !== null && device.ipaddr !== '0.0.0.0'
  const sip = device.device_type === 'SIP'
  const codecs = extras.codecs ?? { audio: ['alaw', 'ulaw'], video: [] }
  return {
    id: device.device_id,
    userId,
    type: device.device_type,
    name: orNull(device.username),
    username: orNull(device.username),
    extension: orNull(device.username),
    callerId: orNull(device.callerid),
    description: orNull(extras.description),
    host,
    ipAddress: orNull(device.ipaddr),
    port: device.port === undefined || device.port === '' ? null : device.port,
    registrationExpires: registered ? '2026-01-01T00:00:00.000Z' : null,
    fullContact: registered ? `sip:${device.username}@${device.ipaddr}:${device.port}` : null,
    context: 'mor_local',
    deviceGroupId: device.devicegroup_id ?? null,
    primaryDidId: 0,
    transport: sip ? 'udp' : null,
    nat: 'yes',
    qualify: sip ? '1000' : 'no',
    dtmfMode: 'rfc2833',
    callGroup: sip ? '1' : null,
    pickupGroup: sip ? '1' : null,
    voicemailActive: sip,
    record: false,
    trunk: extras.istrunk === '1' || extras.istrunk === '2',
    videoSupport: codecs.video.length > 0,
    codecs
  }
}

const SEEDED_DEVICE_IDS = SEEDED_USERS.flatMap((user) => user.devices.map((d) => d.device_id))

/** The credentials MOR (the simulator) sends with a device's details, asked of it directly. */
async function credentialsOf (sim: MorSimulator, deviceId: number): Promise<string[]> {
  const res = await fetch(`${sim.url}/api/device_details_get`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ u: TEST_API_USER, device_id: String(deviceId), hash: signParams([String(deviceId)], TEST_API_SECRET) })
  })
  const answer = parseDeviceDetailsXml(await res.text())
  if (answer.kind !== 'device') throw new Error(`the simulator has no device ${deviceId}`)
  return ['secret', 'pin', 'voicemail_password'].map((name) => String(answer.device[name])).filter((value) => value !== '')
}

/**
 * Where a credential shows in a text as itself, JSON-escaped or XML-escaped, as a whole token: a
 * four-digit PIN inside a request id or a response time is a coincidence, not a leak.
 */
function leaked (text: string, value: string): boolean {
  const forms = new Set([value, JSON.stringify(value).slice(1, -1), escapeXml(value)])
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return [...forms].some((form) => new RegExp(`(?<![0-9A-Za-z.])${escape(form)}(?![0-9A-Za-z])`).test(text))
}

/** An answer's headers as name: value lines, without those that name the request or its moment. */
const PER_REQUEST = new Set(['x-request-id', 'date', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after'])
const stableHeaders = (headers: Headers) => [...headers].filter(([name]) => !PER_REQUEST.has(name)).map(([name, value]) => `${name}: ${value}`)

describe('GET /v1/devices/:deviceId', () => {
  const shared = sharedGateway({ CACHE_NEGATIVE_TTL_SECONDS: '7' })

  it('returns a seeded device\'s details, every field present, as MOR\'s simulator holds them', async () => {
    const res = await getJson(deviceUrl(shared.gw, 5))
    expect(res.status).toBe(200)
    expect(res.type).toBe('application/json; charset=utf-8')
    expect(res.body).toStrictEqual(DESK_PHONE_DETAILS)
    expect(Object.keys(res.body as object).sort()).toStrictEqual(Object.keys(DeviceDetailsSchema.properties).sort())
  })

  for (const id of SEEDED_DEVICE_IDS) {
    it(`returns device ${id} as built from the simulator's record of it`, async () => {
      const owned = findDevice(id)
      if (!owned) throw new Error(`no seeded device ${id}`)
      const res = await getJson(deviceUrl(shared.gw, id))
      expect(res.status).toBe(200)
      expect(res.body).toStrictEqual(expectedDetails(owned))
    })
  }

  it('never lets a device\'s secret, PIN or voicemail password through, in the body, the headers or the logs', async () => {
    for (const id of SEEDED_DEVICE_IDS) {
      const credentials = await credentialsOf(shared.sim, id)
      // A revalidation, so this very request's MOR answer (credentials and all) passed through the gateway.
      const res = await fetch(deviceUrl(shared.gw, id), { headers: { ...AUTH, 'cache-control': 'no-cache' } })
      const text = await res.text()
      expect(res.status).toBe(200)
      expect(text).not.toMatch(/secret|"pin"|password/i)
      const headers = [...res.headers].map(([name, value]) => `${name}: ${value}`).join('\n')
      for (const value of credentials) {
        expect(leaked(text, value), `device ${id}: ${value} in the body`).toBe(false)
        expect(leaked(headers, value), `device ${id}: ${value} in the headers`).toBe(false)
      }
    }
    // The check has something to find: what MOR sends is the seeded record's credentials.
    const desk = findDevice(5)?.device
    expect(await credentialsOf(shared.sim, 5)).toStrictEqual([desk?.secret, desk?.extras?.pin, desk?.extras?.voicemailPassword])
    const logs = shared.gw.logs.join('')
    expect(shared.gw.logs.length).toBeGreaterThan(10)
    for (const id of SEEDED_DEVICE_IDS) {
      for (const value of await credentialsOf(shared.sim, id)) expect(leaked(logs, value), `device ${id}: ${value} in the logs`).toBe(false)
      expect(logs).not.toContain(signParams([String(id)], TEST_API_SECRET))
    }
    expect(logs).not.toContain(TEST_API_SECRET)
  })

  it('answers 404 device-not-found for a device MOR does not have, cached for CACHE_NEGATIVE_TTL_SECONDS', async () => {
    const first = await getJson(deviceUrl(shared.gw, 999))
    expect(first.status).toBe(404)
    expect(first.type).toBe('application/problem+json; charset=utf-8')
    expect(first.body).toStrictEqual(notFound(999))
    expect(first.headers.get('cache-control')).toBe('private, max-age=7')
    expect(first.headers.get('etag')).toBeNull()
    const second = await getJson(deviceUrl(shared.gw, 999))
    expect(second.status).toBe(404)
    expect(second.body).toStrictEqual(notFound(999))
    expect(second.headers.get('cache-control')).toBe('private, max-age=7')
    expect(callsFor(shared.sim, 999)).toBe(1)
  })

  it('answers 404 for the smallest and the largest valid ids MOR does not have', async () => {
    for (const id of [0, 2147483647]) {
      const res = await getJson(deviceUrl(shared.gw, id))
      expect(res.status).toBe(404)
      expect(res.body).toStrictEqual(notFound(id))
    }
  })

  for (const id of ['05', '-1', '2147483648', 'abc', '1e3', '5.0', '%205']) {
    it(`answers 400 invalid-request for deviceId ${id}, without calling MOR`, async () => {
      const before = shared.sim.calls.total
      const res = await getJson(deviceUrl(shared.gw, id))
      expect(res.status).toBe(400)
      expect(res.type).toBe('application/problem+json; charset=utf-8')
      expect(res.body).toStrictEqual(INVALID_DEVICE_ID)
      expect(shared.sim.calls.total).toBe(before)
    })
  }

  it('answers 400 invalid-request for a query that names no parameter (?&), without calling MOR', async () => {
    const before = shared.sim.calls.total
    const res = await getJson(`${deviceUrl(shared.gw, 6)}?&`)
    expect(res.status).toBe(400)
    expect(res.body).toStrictEqual(problem('invalid-request', 'Invalid request', 400, 'This operation takes no query parameters'))
    expect(shared.sim.calls.total).toBe(before)
  })

  for (const query of ['x=1', 'limit=10', 'cursor=abc', 'type=SIP', 'flag']) {
    it(`answers 400 invalid-request for a query (?${query}), without calling MOR`, async () => {
      const before = shared.sim.calls.total
      const res = await getJson(`${deviceUrl(shared.gw, 6)}?${query}`)
      expect(res.status).toBe(400)
      expect(res.body).toStrictEqual(NO_QUERY(query.split('=')[0] ?? ''))
      expect(shared.sim.calls.total).toBe(before)
    })
  }

  it('answers 401 without an API key, without calling MOR', async () => {
    const before = shared.sim.calls.total
    for (const id of [5, 999, 'abc']) {
      const res = await getJson(deviceUrl(shared.gw, id), {}, { auth: false })
      expect(res.status).toBe(401)
      expect(res.body).toStrictEqual(MISSING_KEY)
      expect(res.headers.get('www-authenticate')).toBe(CHALLENGE)
    }
    expect(shared.sim.calls.total).toBe(before)
  })

  it('answers a small body uncompressed, whatever codings the client takes', async () => {
    const { request } = await import('undici')
    const res = await request(deviceUrl(shared.gw, 55), { headers: { ...AUTH, 'accept-encoding': 'gzip, br' } })
    const body = Buffer.from(await res.body.arrayBuffer())
    expect(res.statusCode).toBe(200)
    expect(body.length).toBeLessThan(1024)
    expect(res.headers['content-encoding']).toBeUndefined()
    expect(res.headers.vary).toBe('Accept-Encoding')
    expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/)
    expect(JSON.parse(body.toString('utf8'))).toStrictEqual(expectedDetails(findDevice(55) as SimOwnedDevice))
  })
})

describe('the details cache', () => {
  // One simulator and gateway for these tests: each asks about its own device.
  const shared = sharedGateway({ CACHE_NEGATIVE_TTL_SECONDS: '1' })

  it('answers a miss from MOR, then a hit from the cache with the same ETag', async () => {
    const { sim, gw } = shared
    const first = await getJson(deviceUrl(gw, 84))
    expect(first.headers.get('cache-status')).toBe('mor-gateway; fwd=miss; stored')
    expect(first.headers.get('cache-control')).toBe('private, max-age=60')
    expect(first.headers.get('age')).toBe('0')
    expect(first.headers.get('vary')).toBe('Accept-Encoding')
    expect(first.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{27}"$/)
    const second = await getJson(deviceUrl(gw, 84))
    expect(second.headers.get('cache-status')).toMatch(/^mor-gateway; hit; ttl=(59|60)$/)
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'))
    expect(second.body).toStrictEqual(expectedDetails(findDevice(84) as SimOwnedDevice))
    expect(callsFor(sim, 84)).toBe(1)
  })

  it('keeps a device apart from the list of the user with the same id', async () => {
    const { sim, gw } = shared
    // User 5 (dave) and device 5 (alice's desk phone): one id, two cache entries.
    expect((await getJson(`${gw.url}/v1/users/5/devices`)).status).toBe(200)
    const res = await getJson(deviceUrl(gw, 5))
    expect(res.body).toStrictEqual(DESK_PHONE_DETAILS)
    expect(res.headers.get('cache-status')).toBe('mor-gateway; fwd=miss; stored')
    expect(callsFor(sim, 5)).toBe(1)
  })

  it('goes back to MOR for a device not found once the negative TTL has passed', async () => {
    const { sim, gw } = shared
    const clock = fakeWallClock()
    expect((await getJson(deviceUrl(gw, 998))).headers.get('cache-control')).toBe('private, max-age=1')
    clock.advance(999)
    await getJson(deviceUrl(gw, 998))
    expect(callsFor(sim, 998)).toBe(1)
    clock.advance(1)
    const res = await getJson(deviceUrl(gw, 998))
    expect(res.status).toBe(404)
    expect(res.body).toStrictEqual(notFound(998))
    expect(callsFor(sim, 998)).toBe(2)
  })

  it('answers 304 to a matching If-None-Match, and 200 to another ETag', async () => {
    const { sim, gw } = shared
    const first = await getJson(deviceUrl(gw, 81))
    const etag = first.headers.get('etag') ?? ''
    // undici's request, not fetch: fetch adds Cache-Control: no-cache to a conditional request.
    const { request } = await import('undici')
    for (const header of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
      const res = await request(deviceUrl(gw, 81), { headers: { ...AUTH, 'if-none-match': header } })
      expect(res.statusCode).toBe(304)
      expect(await res.body.text()).toBe('')
      expect(res.headers.etag).toBe(etag)
      expect(res.headers['cache-status']).toMatch(/^mor-gateway; hit; ttl=/)
    }
    const other = await request(deviceUrl(gw, 81), { headers: { ...AUTH, 'if-none-match': '"other"' } })
    expect(other.statusCode).toBe(200)
    expect(await other.body.json()).toStrictEqual(first.body)
    expect(callsFor(sim, 81)).toBe(1)
  })

  it('revalidates with MOR on Cache-Control: no-cache', async () => {
    const { sim, gw } = shared
    await getJson(deviceUrl(gw, 55))
    const res = await getJson(deviceUrl(gw, 55), { 'cache-control': 'no-cache' })
    expect(res.headers.get('cache-status')).toBe('mor-gateway; fwd=request; stored')
    expect(callsFor(sim, 55)).toBe(2)
    expect((await getJson(deviceUrl(gw, 55))).headers.get('cache-status')).toMatch(/^mor-gateway; hit/)
    expect(callsFor(sim, 55)).toBe(2)
  })

  it('makes exactly one MOR call for 50 concurrent cold requests', async () => {
    const { sim, gw } = shared
    sim.options.delayMs = 200
    const responses = await Promise.all(Array.from({ length: 50 }, () => getJson(deviceUrl(gw, 82)))).finally(() => { sim.options.delayMs = 0 })
    expect(callsFor(sim, 82)).toBe(1)
    for (const res of responses) {
      expect(res.status).toBe(200)
      expect(res.body).toStrictEqual(expectedDetails(findDevice(82) as SimOwnedDevice))
    }
    const statuses = responses.map((r) => r.headers.get('cache-status'))
    expect(statuses.filter((s) => s === 'mor-gateway; fwd=miss; stored')).toHaveLength(1)
    const waited = statuses.filter((s) => s === 'mor-gateway; fwd=miss; stored; collapsed').length
    const later = statuses.filter((s) => s?.startsWith('mor-gateway; hit; ttl=') === true).length
    expect(waited + later).toBe(49)
    expect(waited).toBeGreaterThan(0)
  })

  it('never caches a rejection by MOR: Incorrect hash is 502 upstream-rejected every time', async () => {
    const { sim } = shared
    const gw = await gateway(sim.url, { MOR_API_SECRET: 'wrong-secret' })
    for (let i = 0; i < 2; i++) {
      const res = await getJson(deviceUrl(gw, 83))
      expect(res.status).toBe(502)
      expect(res.body).toStrictEqual(INCORRECT_HASH)
    }
    expect(callsFor(sim, 83)).toBe(2)
    const logs = gw.logs.join('')
    expect(logs).not.toContain('wrong-secret')
    expect(logs).not.toContain(signParams(['83'], 'wrong-secret'))
  })

  it('compresses a details body of 1 KiB or more for a gzip client', async () => {
    const { sim, gw } = shared
    // The seeded devices' details are all under 1 KiB; this one's description is not.
    const long: SimOwnedDevice = { userId: 2, device: { device_id: 90, device_type: 'SIP', username: '290', extras: { description: Array.from({ length: 60 }, () => 'Conference room').join(' ') } } }
    sim.options.devices = (id) => (id === 90 ? long : findDevice(id))
    const { request } = await import('undici')
    const plain = await request(deviceUrl(gw, 90), { headers: { ...AUTH, 'accept-encoding': 'identity' } })
    const identity = Buffer.from(await plain.body.arrayBuffer())
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(identity.length).toBeGreaterThanOrEqual(1024)
    expect(JSON.parse(identity.toString('utf8'))).toStrictEqual(expectedDetails(long))
    const zipped = await request(deviceUrl(gw, 90), { headers: { ...AUTH, 'accept-encoding': 'gzip' } })
    const body = Buffer.from(await zipped.body.arrayBuffer())
    expect(zipped.headers['content-encoding']).toBe('gzip')
    expect(zipped.headers.vary).toBe('Accept-Encoding')
    expect(zipped.headers.etag).toBe(`${String(plain.headers.etag).slice(0, -1)}-gzip"`)
    expect(gunzipSync(body).equals(identity)).toBe(true)
    expect(body.length).toBeLessThan(identity.length)
    expect(callsFor(sim, 90)).toBe(1)
  })
})

describe('stale-if-error', () => {
  const failures: Array<[string, (sim: MorSimulator) => Promise<void>]> = [
    ['is unreachable', (sim) => sim.close()],
    ['answers later than UPSTREAM_TIMEOUT_MS', async (sim) => { sim.options.delayMs = 600 }]
  ]
  for (const [name, fail] of failures) {
    it(`serves the cached details with detail=stale-if-error when MOR ${name}`, async () => {
      const clock = fakeWallClock()
      const sim = await simulator()
      const gw = await gateway(sim.url, { UPSTREAM_TIMEOUT_MS: '200', CACHE_TTL_SECONDS: '1', CACHE_STALE_SECONDS: '60' })
      expect((await getJson(deviceUrl(gw, 5))).body).toStrictEqual(DESK_PHONE_DETAILS)
      await fail(sim)
      // A forced revalidation of the fresh entry fails: the entry is served instead.
      const forced = await getJson(deviceUrl(gw, 5), { 'cache-control': 'no-cache' })
      expect(forced.status).toBe(200)
      expect(forced.body).toStrictEqual(DESK_PHONE_DETAILS)
      expect(forced.headers.get('cache-status')).toMatch(/^mor-gateway; fwd=stale; ttl=[01]; detail=stale-if-error$/)
      clock.advance(1100)
      // Stale now: served at once while a background refresh fails ...
      const stale = await getJson(deviceUrl(gw, 5))
      expect(stale.status).toBe(200)
      expect(stale.body).toStrictEqual(DESK_PHONE_DETAILS)
      expect(stale.headers.get('cache-status')).toMatch(/^mor-gateway; fwd=stale; ttl=-[12]; detail=stale-while-revalidate$/)
      // ... and a revalidation that fails serves it too (it may join that refresh, still waiting on MOR).
      const revalidated = await getJson(deviceUrl(gw, 5), { 'cache-control': 'no-cache' })
      expect(revalidated.status).toBe(200)
      expect(revalidated.body).toStrictEqual(DESK_PHONE_DETAILS)
      expect(revalidated.headers.get('cache-status')).toMatch(/^mor-gateway; fwd=stale; ttl=-[12]; detail=stale-if-error(; collapsed)?$/)
      expect(revalidated.headers.get('cache-control')).toBe('private, max-age=0')
    })
  }
})

describe('scoped API keys', () => {
  let dir = ''
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'mor-gateway-device-keys-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  // KEY_ONE: users 2 and 3 (alice, bob); KEY_TWO: every user.
  const keyFile = async () => {
    const path = join(dir, `scoped-${Math.random().toString(36).slice(2)}.keys`)
    await writeFile(path, `${KEY_ONE} name=portal users=2-3\n${KEY_TWO} users=*\n`)
    return { GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: path }
  }

  it('answers a device of a user in the key\'s scope', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url, await keyFile())
    const alice = await getJson(deviceUrl(gw, 5), bearer(KEY_ONE))
    expect(alice.status).toBe(200)
    expect(alice.body).toStrictEqual(DESK_PHONE_DETAILS)
    const bob = await getJson(deviceUrl(gw, 55), bearer(KEY_ONE))
    expect(bob.status).toBe(200)
    expect(bob.body).toStrictEqual(expectedDetails(findDevice(55) as SimOwnedDevice))
  })

  it('answers a device of a user outside the scope exactly as a device MOR does not have, cold and cached', async () => {
    const sim = await simulator()
    const env = await keyFile()
    // Device 80 is dave's (user 5): outside KEY_ONE's users. One gateway asks while MOR has it ...
    const outOfScope = await gateway(sim.url, env)
    const hidden = [await getJson(deviceUrl(outOfScope, 80), bearer(KEY_ONE)), await getJson(deviceUrl(outOfScope, 80), bearer(KEY_ONE))]
    // ... (and it is there for a key that may read every user) ...
    const all = await getJson(deviceUrl(outOfScope, 80), bearer(KEY_TWO))
    expect(all.status).toBe(200)
    expect(all.body).toStrictEqual(expectedDetails(findDevice(80) as SimOwnedDevice))
    const hiddenWarm = await getJson(deviceUrl(outOfScope, 80), bearer(KEY_ONE))
    // Not a 304 either, with the ETag of the answer it may not see.
    const { request } = await import('undici')
    const probe = await request(deviceUrl(outOfScope, 80), { headers: { ...bearer(KEY_ONE), 'if-none-match': all.headers.get('etag') ?? '' } })
    expect(probe.statusCode).toBe(404)
    expect(await probe.body.json()).toStrictEqual(notFound(80))
    // ... another while MOR does not have it at all.
    sim.options.devices = (id) => (id === 80 ? undefined : findDevice(id))
    const absentGw = await gateway(sim.url, env)
    const absent = [await getJson(deviceUrl(absentGw, 80), bearer(KEY_ONE)), await getJson(deviceUrl(absentGw, 80), bearer(KEY_ONE))]
    for (const res of [...hidden, hiddenWarm]) {
      expect(res.status).toBe(404)
      expect(res.body).toStrictEqual(notFound(80))
    }
    for (const [i, res] of [...hidden, hiddenWarm].entries()) {
      const other = absent[Math.min(i, 1)] ?? absent[0]
      expect(res.status).toBe(other?.status)
      expect(withoutInstance(res.body)).toStrictEqual(withoutInstance(other?.body))
      expect(stableHeaders(res.headers), `answer ${i + 1}`).toStrictEqual(stableHeaders(other?.headers ?? new Headers()))
    }
  })

  // Past the negative TTL an absent device's 404 is gone and its next request needs MOR; an
  // out-of-scope device's entry is still fresh. Were the two told apart then, a scoped caller
  // could probe which device ids exist.
  const conditions: Array<[string, Record<string, string>, (sim: MorSimulator) => Promise<void>]> = [
    ['the caller\'s MOR budget is spent', { UPSTREAM_BUDGET_PER_MINUTE: '2' }, async () => {}],
    ['MOR is unreachable', {}, (sim) => sim.close()]
  ]
  for (const [name, env, condition] of conditions) {
    it(`answers an out-of-scope device as an unknown one after the negative TTL when ${name}`, async () => {
      const clock = fakeWallClock()
      const sim = await simulator()
      const gw = await gateway(sim.url, { ...await keyFile(), ...env, CACHE_NEGATIVE_TTL_SECONDS: '1', UPSTREAM_TIMEOUT_MS: '200' })
      // Device 80 (dave's, out of scope) exists; device 998 does not.
      const hidden = await getJson(deviceUrl(gw, 80), bearer(KEY_ONE))
      const absent = await getJson(deviceUrl(gw, 998), bearer(KEY_ONE))
      expect([hidden.status, absent.status]).toStrictEqual([404, 404])
      expect(callsFor(sim, 80) + callsFor(sim, 998)).toBe(2)
      await condition(sim)
      clock.advance(1000)
      const hiddenLater = await getJson(deviceUrl(gw, 80), bearer(KEY_ONE))
      const absentLater = await getJson(deviceUrl(gw, 998), bearer(KEY_ONE))
      expect(hiddenLater.status).toBe(absentLater.status)
      expect(withoutInstance(hiddenLater.body)).toStrictEqual(withoutInstance(absentLater.body))
      expect(stableHeaders(hiddenLater.headers)).toStrictEqual(stableHeaders(absentLater.headers))
    })
  }

  it('answers a device whose owner MOR does not name only to a key that may read every user', async () => {
    const upstream = await startFaultUpstream()
    closeAfterTest(upstream.close)
    // An old MOR revision: no <id>, no <user_id>.
    const oldXml = await readFile(new URL('../fixtures/device-details-old-version.xml', import.meta.url), 'utf8')
    upstream.handle((_req, res) => { res.writeHead(200, { 'content-type': 'text/xml' }).end(oldXml) })
    const env = await keyFile()
    const gw = await gateway(upstream.url, env)
    const everyUser = await getJson(deviceUrl(gw, 55), bearer(KEY_TWO))
    expect(everyUser.status, JSON.stringify(everyUser.body)).toBe(200)
    const parsed = parseDeviceDetailsXml(oldXml)
    if (parsed.kind !== 'device') throw new Error('the fixture is not a device')
    expect(everyUser.body).toStrictEqual(toDeviceDetails(parsed.device, 55))
    expect((everyUser.body as { userId: unknown }).userId).toBeNull()
    const scoped = await getJson(deviceUrl(gw, 55), bearer(KEY_ONE))
    expect(scoped.status).toBe(404)
    expect(scoped.body).toStrictEqual(notFound(55))
    // The same as a device MOR does not have.
    upstream.handle((_req, res) => { res.writeHead(200, { 'content-type': 'text/xml' }).end('<?xml version="1.0" encoding="UTF-8"?>\n<error>Device was not found</error>\n') })
    const absentGw = await gateway(upstream.url, env)
    const absent = await getJson(deviceUrl(absentGw, 55), bearer(KEY_ONE))
    expect(absent.status).toBe(404)
    expect(withoutInstance(scoped.body)).toStrictEqual(withoutInstance(absent.body))
    expect(stableHeaders(scoped.headers)).toStrictEqual(stableHeaders(absent.headers))
  })
})
