// The log-leak test: the integration scenarios run against gateways logging at trace level, and
// nothing they write (log lines, answers, metrics, Redis) may hold a credential: the MOR secret or
// password, a devices_get hash, a gateway API key, a device's SIP/IAX secret, or a user's
// uniquehash (users_get and user_details_get send one for every user). The device writes
// are among the scenarios: PINs and passwords a client sends, the new SIP password MOR's create
// answer carries, and MOR's refusals that quote a PIN, a password or the call itself.
import { request, type IncomingMessage, type ServerResponse } from 'node:http'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { BULK_DEVICES, generatedUser, LARGE_LAST_ID, LARGE_USER_ID, SEEDED_USERS, type SimDevice } from '../../src/demo/data.js'
import { devicesXml, errorXml, escapeXml, pinOf, voicemailPasswordOf } from '../../src/demo/xml.js'
import { uniqueHashOf } from '../../src/demo/profiles.js'
import { userDetails, usersList } from '../../src/catalogue/users.js'
import { userCalls } from '../../src/catalogue/calls.js'
import { userPayments } from '../../src/catalogue/payments.js'
import { devicesGetHash, signParams, signSent } from '../../src/mor/sign.js'
import { signedWrite } from '../../src/mor/device-writes.js'
import { NO_CACHE, startGateway, TEST_API_SECRET, TEST_API_USER, type TestGateway } from '../helpers/gateway.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'
import { refusedUrl, startFaultUpstream, type FaultUpstream } from '../helpers/fault-upstream.js'
import { checkContract } from '../helpers/contract.js'
import { waitFor } from '../helpers/wait.js'
import { jwtEnv, signingKey, startIdentityProvider, token, type IdentityProvider } from '../helpers/identity-provider.js'
import { problem } from '../helpers/expected.js'

const MOR_PASSWORD = 'mor-pw-4f3e2d'
const KEY_A = 'alpha-key-7c6b5a4d3e2f1a0b'
const KEY_B = 'bravo-key-0f1e2d3c4b5a6978'
/** A key file's key with the write right (the device writes' scenarios). */
const KEY_W = 'writer-key-5e4d3c2b1a098f7e'
/** A key file's key the users' scenarios read with, clear of KEY_A's rate limit. */
const KEY_U = 'users-key-9a8b7c6d5e4f3a2b'
// What the device writes send and MOR answers: long enough that none turns up by chance (a 4-digit
// PIN would match timestamps and durations).
const PIN_CREATE = '7391462805183726'
const PIN_UPDATE = '5820461937264815'
const PASSWORD_UPDATE = 'sip-pw-Hunter2-update-k9'
const PIN_INVALID = 'pin-not-digits-q7w3'
/** Sent after a control character, which makes the password invalid; the rest is what must not show. */
const PASSWORD_INVALID = 'sip-pw-ctl-z8x2'
const PIN_REFUSED = '6047281935510372'
const PIN_REFUSED_UPDATE = '3918274650192837'
const PASSWORD_REFUSED = 'sip-pw-Refused-m4n5'
/** A password that a form spells otherwise ("+" for the space, "%26" for "&"). */
const PASSWORD_SPELLED = 'sip pw&Spelled k3j4'
/** The SIP password a (badly behaved) MOR hands back in its create answer. */
const FAULT_SIP_PASSWORD = 'fault-sip-pw-r2d2c3po'
/** The body of the device_create the scenarios send, as MOR gets it (for its hash). */
const CREATE_FIELDS = { type: 'SIP', description: 'Lobby phone', pin: PIN_CREATE }
const RATE_LIMIT = 40
const SEEDED_IDS = [2, 3, 5]
const BULK_IDS = [1000, 1001]
/** Every user id a hash is computed for, by the gateway or by the legacy client. */
const HASHED_IDS = [0, 2, 3, 4, 5, 7, 9, ...BULK_IDS]
/** The seeded devices whose details the scenarios read. */
const DETAIL_DEVICES = SEEDED_USERS.flatMap((u) => u.devices)
const hash = (id: number) => devicesGetHash(id, TEST_API_SECRET)
/** The period of calls the scenarios read. */
const CALLS_QUERY = { from: '2026-11-01T00:00:00Z', to: '2026-11-03T00:00:00Z' }
/** Who users_get lists (MOR's admin, whom the API drops, among them), in MOR's order. */
const LISTED_USER_IDS = [...SEEDED_USERS.map((u) => u.id), ...Array.from({ length: LARGE_LAST_ID - LARGE_USER_ID + 1 }, (_, i) => LARGE_USER_ID + i)]
/** The users whose details the scenarios read (9: one MOR does not have). */
const DETAIL_USER_IDS = [0, 2, 3, 4, 5, 9, LARGE_USER_ID, 1000]

const SECRETS: Array<[string, string]> = [
  ['MOR_API_SECRET', TEST_API_SECRET],
  ['MOR_API_PASSWORD', MOR_PASSWORD],
  ['API key A', KEY_A],
  ['API key B', KEY_B],
  ['API key W', KEY_W],
  ['API key U', KEY_U],
  ['PIN sent with a create', PIN_CREATE],
  ['PIN sent with an update', PIN_UPDATE],
  ['password sent with an update', PASSWORD_UPDATE],
  ['PIN the gateway refused', PIN_INVALID],
  ['password the gateway refused', PASSWORD_INVALID],
  ['PIN MOR refused', PIN_REFUSED],
  ['PIN of an update MOR refused', PIN_REFUSED_UPDATE],
  ['password of an update MOR refused', PASSWORD_REFUSED],
  ['password of an update MOR refused, quoting its call', PASSWORD_SPELLED],
  ['SIP password in MOR\'s create answer', FAULT_SIP_PASSWORD],
  ['hash of the device_create call', signedWrite('device_create', { ...CREATE_FIELDS, user_id: '2' }, TEST_API_SECRET).hash ?? ''],
  ['hash of the device_update calls', signedWrite('device_update', { device: '5' }, TEST_API_SECRET).hash ?? ''],
  ...HASHED_IDS.map((id): [string, string] => [`hash for user ${id}`, hash(id)]),
  ...[...SEEDED_USERS.flatMap((u) => u.devices), ...BULK_IDS.flatMap((id) => generatedUser(id, BULK_DEVICES).devices)]
    .filter((d) => d.secret)
    .map((d): [string, string] => [`secret of device ${d.device_id}`, d.secret ?? '']),
  // What device_details_get adds: PINs, voicemail passwords, and the hash of each device asked for.
  ...DETAIL_DEVICES.flatMap((d): Array<[string, string]> => [
    [`PIN of device ${d.device_id}`, d.extras?.pin ?? pinOf(d.device_id)],
    [`voicemail password of device ${d.device_id}`, d.extras?.voicemailPassword ?? voicemailPasswordOf(d.device_id)],
    [`hash for device ${d.device_id}`, signParams([String(d.device_id)], TEST_API_SECRET)]
  ]),
  // What the catalogue's user reads add: each user's uniquehash, and the hash of each call.
  ...[...new Set([...LISTED_USER_IDS, ...DETAIL_USER_IDS])].map((id): [string, string] => [`uniquehash of user ${id}`, uniqueHashOf(id)]),
  ['hash of the users_get call', signSent(usersList.mor.hashed, { u: TEST_API_USER, p: MOR_PASSWORD }, TEST_API_SECRET)],
  ...DETAIL_USER_IDS.map((id): [string, string] => [`hash of user_details_get for user ${id}`, signSent(userDetails.mor.hashed, { user_id: String(id) }, TEST_API_SECRET)]),
  // The calls and payments the scenarios read: each call's hash, as the gateway signs it.
  ['hash of user_calls_get for user 2', signSent(userCalls.mor.hashed, userCalls.params({ id: 2, query: CALLS_QUERY }, 0), TEST_API_SECRET)],
  ['hash of payments_get for user 2', signSent(userPayments.mor.hashed, userPayments.params({ id: 2, query: {} }, 0), TEST_API_SECRET)]
]

/** A secret as it would appear raw, in JSON, in a URL or in XML. */
function spellings (secret: string): string[] {
  const xml = secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
  return [...new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2), xml])]
}

function leaksIn (items: Array<{ where: string, text: string }>): string[] {
  return items.flatMap(({ where, text }) =>
    SECRETS.filter(([, secret]) => spellings(secret).some((form) => text.includes(form))).map(([name]) => `${where} holds ${name}`))
}

/** The JSON the gateway makes of a simulator device: never the secret. */
const toJson = (d: SimDevice) => ({
  id: d.device_id,
  type: d.device_type,
  ipAddress: d.ipaddr || null,
  port: d.port === '' || d.port === undefined ? null : d.port,
  username: d.username || null,
  callerId: d.callerid || null,
  deviceGroupId: d.devicegroup_id ?? null,
  primary: d.primary_device === undefined ? null : d.primary_device === 'yes'
})
const seededBody = (id: number) => ({ userId: id, devices: (SEEDED_USERS.find((u) => u.id === id)?.devices ?? []).map(toJson), nextCursor: null })
const bulkBody = (id: number) => ({ userId: id, devices: generatedUser(id, BULK_DEVICES).devices.map(toJson), nextCursor: null })

let redis: TestRedis
let sim: MorSimulator
let fault: FaultUpstream
let idp: IdentityProvider
/** JWTs the scenarios send: a valid one and a forged one; pushed into SECRETS once signed. */
const tokens: { valid: string, forged: string } = { valid: '', forged: '' }
let gw: TestGateway
let down: TestGateway
let bad: TestGateway
/** The folder of the key file that gives KEY_W the write right (every gateway reads it). */
let keyDir = ''
/** Everything the gateways answered: status line, headers and body. */
const answers: Array<{ where: string, text: string }> = []
const scrapes: Array<{ where: string, text: string }> = []

interface Answer { status: number, headers: Headers, text: string, json: () => unknown }

/** A request whose answer (status, headers, body) is recorded in `answers`, to be searched for secrets. */
async function call (base: string, path: string, init: { method?: string, headers?: Record<string, string>, body?: string, key?: string | null } = {}): Promise<Answer> {
  const key = init.key === undefined ? KEY_A : init.key
  const headers = { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...init.headers }
  const res = await fetch(`${base}${path}`, { method: init.method ?? 'GET', headers, body: init.body })
  const text = await res.text()
  const where = `answer to ${init.method ?? 'GET'} ${path.slice(0, 60)}`
  answers.push({ where, text: `${res.status}\n${[...res.headers].map(([n, v]) => `${n}: ${v}`).join('\n')}\n\n${text}` })
  const json = () => JSON.parse(text) as unknown
  if ((init.method ?? 'GET') === 'GET') checkContract('GET', `${base}${path}`, res.status, res.headers, text === '' || !res.headers.get('content-type')?.includes('json') ? undefined : json())
  return { status: res.status, headers: res.headers, text, json }
}

const gatewayEnv: Record<string, string> = {
  LOG_LEVEL: 'trace',
  MOR_API_PASSWORD: MOR_PASSWORD,
  GATEWAY_API_KEYS: `${KEY_A}, ${KEY_B}`,
  RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT)
}

/** A badly behaved MOR that quotes the request it got (credentials included) in its bad answers. */
function quoteRequest (answer: (quoted: string, res: ServerResponse) => void) {
  return (req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', (chunk: Buffer) => { body += chunk.toString('utf8') })
    req.on('end', () => { answer(`${req.url ?? ''} ${body}`, res) })
  }
}

/**
 * A MOR in front of the simulator for the device writes: every other call (the device read before
 * and after a write) is relayed to the simulator; `write` answers device_create, device_update and
 * device_delete, given the form MOR was sent.
 */
function relayReads (write: (form: string, res: ServerResponse) => void) {
  return (req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', (chunk: Buffer) => { body += chunk.toString('utf8') })
    req.on('end', () => {
      if (/\/device_(?:create|update|delete)$/.test(req.url ?? '')) return write(body, res)
      request({ host: '127.0.0.1', port: sim.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      }).end(body)
    })
  }
}
const xmlAnswer = (res: ServerResponse, xml: string) => { res.writeHead(200, { 'content-type': 'text/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`) }

beforeAll(async () => {
  keyDir = await mkdtemp(join(tmpdir(), 'secrets-keys-'))
  const keyFile = join(keyDir, 'keys')
  await writeFile(keyFile, `${KEY_W} name=writer users=* access=read,write\n${KEY_U} name=users-reader users=*\n`)
  Object.assign(gatewayEnv, { GATEWAY_API_KEYS_FILE: keyFile })
  redis = await startRedis()
  sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET, password: MOR_PASSWORD })
  fault = await startFaultUpstream()
  const key = await signingKey('secrets-1')
  idp = await startIdentityProvider([key])
  tokens.valid = await token(key, { mor_user_id: [2, 3] })
  tokens.forged = await token(await signingKey('secrets-1'), { mor_user_id: '*' })
  // A token is a credential; its signature alone is enough to look for.
  SECRETS.push(['a valid JWT', tokens.valid], ['its signature', tokens.valid.split('.')[2] ?? ''], ['a forged JWT', tokens.forged])
  gw = await startGateway(sim.url, { ...gatewayEnv, ...jwtEnv(idp), REDIS_URL: redis.url })
  down = await startGateway(await refusedUrl(), { ...gatewayEnv, REDIS_URL: redis.url })
  bad = await startGateway(fault.url, { ...gatewayEnv, ...NO_CACHE, CIRCUIT_FAILURES: '100' })
  await waitFor(() => gw.app.redisStore?.available === true && down.app.redisStore?.available === true)
})
afterAll(async () => {
  await Promise.all([gw?.close(), down?.close(), bad?.close()])
  await Promise.all([sim?.close(), fault?.close(), redis?.close(), idp?.close()])
  if (keyDir !== '') await rm(keyDir, { recursive: true, force: true })
})

describe('the integration scenarios, at LOG_LEVEL=trace', () => {
  it('answers misses, then hits, with devices stripped of their secrets', async () => {
    for (const id of SEEDED_IDS) {
      const miss = await call(gw.url, `/v1/users/${id}/devices`)
      expect(miss.status).toBe(200)
      expect(miss.headers.get('cache-status')).toBe('mor-gateway; fwd=miss; stored')
      expect(miss.json()).toStrictEqual(seededBody(id))
      const hit = await call(gw.url, `/v1/users/${id}/devices`)
      expect(hit.headers.get('cache-status')).toMatch(/^mor-gateway; hit; /)
      expect(hit.json()).toStrictEqual(seededBody(id))
    }
    for (const id of BULK_IDS) expect((await call(gw.url, `/v1/users/${id}/devices`)).json()).toStrictEqual(bulkBody(id))
  })

  it('answers every seeded device\'s details, twice (miss, hit), with no credential', async () => {
    for (const device of DETAIL_DEVICES) {
      for (let i = 0; i < 2; i++) {
        const res = await call(gw.url, `/v1/devices/${device.device_id}`)
        expect(res.status).toBe(200)
        expect(res.json()).toMatchObject({ id: device.device_id })
      }
    }
    const missing = await call(gw.url, '/v1/devices/999999')
    expect(missing.status).toBe(404)
  })

  it('revalidates on no-cache and answers 304 to a current ETag', async () => {
    const fresh = await call(gw.url, '/v1/users/2/devices', { headers: { 'cache-control': 'no-cache' } })
    expect(fresh.status).toBe(200)
    expect(fresh.headers.get('cache-status')).toBe('mor-gateway; fwd=request; stored')
    const notModified = await call(gw.url, '/v1/users/2/devices', { headers: { 'if-none-match': fresh.headers.get('etag') ?? '' } })
    expect(notModified.status).toBe(304)
    expect(notModified.text).toBe('')
  })

  it('answers 404 for a user MOR does not know, from MOR and then from the cache', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await call(gw.url, '/v1/users/9/devices')
      expect(res.status).toBe(404)
      expect(res.json()).toStrictEqual(problem('user-not-found', 'User not found', 404, 'MOR has no user 9 visible to the gateway\'s API user'))
    }
  })

  it('answers 400 for invalid user ids', async () => {
    for (const id of ['abc', '-1', '01', '2147483648', '1e3', 'x'.repeat(300)]) {
      const res = await call(gw.url, `/v1/users/${id}/devices`)
      expect(res.status).toBe(400)
      expect(res.json()).toStrictEqual(problem('invalid-request', 'Invalid request', 400,
        'userId must be a decimal integer from 0 to 2147483647, without sign or leading zeros'))
    }
  })

  it('answers 401 to a wrong key, a missing key and a key sent in the query string', async () => {
    const wrong = await call(gw.url, '/v1/users/2/devices', { key: `${KEY_A}x` })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="mor-gateway", error="invalid_token"')
    expect(wrong.json()).toStrictEqual(problem('unauthorized', 'Unauthorized', 401, 'The API key or token is not valid'))
    const missing = await call(gw.url, '/v1/users/2/devices', { key: null })
    expect(missing.status).toBe(401)
    expect(missing.json()).toStrictEqual(problem('unauthorized', 'Unauthorized', 401, 'Send an API key or a token as Authorization: Bearer <value>'))
    const inQuery = await call(gw.url, `/v1/users/2/devices?api_key=${KEY_B}&key=${KEY_B}&token=${KEY_B}`, { key: null })
    expect(inQuery.status).toBe(401)
  })

  it('answers a JWT caller for its users, 403 for others and 401 for a forged token', async () => {
    expect((await call(gw.url, '/v1/users/2/devices', { key: tokens.valid })).json()).toStrictEqual(seededBody(2))
    expect((await call(gw.url, '/v1/users/2/devices', { key: tokens.valid })).headers.get('cache-status')).toMatch(/^mor-gateway; hit; /)
    const forbidden = await call(gw.url, '/v1/users/5/devices', { key: tokens.valid })
    expect(forbidden.json()).toStrictEqual(problem('forbidden', 'Forbidden', 403, 'This caller may not read this MOR user'))
    const forged = await call(gw.url, '/v1/users/2/devices', { key: tokens.forged })
    expect(forged.status).toBe(401)
    expect(forged.headers.get('www-authenticate')).toBe('Bearer realm="mor-gateway", error="invalid_token"')
  })

  it('answers the users list and users\' details, scoped, paged and cached, with no uniquehash', async () => {
    const reader = { key: KEY_U }
    const ids = (res: Answer) => (res.json() as { users: Array<{ id: number }> }).users.map((u) => u.id)
    const miss = await call(gw.url, '/v1/users', reader)
    expect(miss.status).toBe(200)
    expect(miss.headers.get('cache-status')).toBe('mor-gateway; fwd=miss; stored')
    expect(ids(miss)).toStrictEqual(LISTED_USER_IDS.filter((id) => id !== 0))
    expect((await call(gw.url, '/v1/users', reader)).headers.get('cache-status')).toMatch(/^mor-gateway; hit; /)
    expect((await call(gw.url, '/v1/users', { ...reader, headers: { 'cache-control': 'no-cache' } })).headers.get('cache-status')).toBe('mor-gateway; fwd=request; stored')
    // Paged to the end by nextCursor, and the JWT caller's part of it (users 2 and 3).
    const paged: number[] = []
    for (let path: string | undefined = '/v1/users?limit=40'; path !== undefined;) {
      const page = await call(gw.url, path, reader)
      paged.push(...ids(page))
      const next = (page.json() as { nextCursor: string | null }).nextCursor
      path = next === null ? undefined : `/v1/users?limit=40&cursor=${next}`
    }
    expect(paged).toStrictEqual(ids(miss))
    expect(ids(await call(gw.url, '/v1/users', { key: tokens.valid }))).toStrictEqual([2, 3])
    // Each user's details from MOR, then from the cache; 9 is not a user MOR has.
    for (const id of DETAIL_USER_IDS) {
      for (let i = 0; i < 2; i++) {
        const res = await call(gw.url, `/v1/users/${id}`, reader)
        if (id === 9) {
          expect(res.status).toBe(404)
          expect(res.json()).toStrictEqual(problem('user-not-found', 'User not found', 404, 'MOR has no user 9 visible to the gateway\'s API user'))
        } else {
          expect(res.status).toBe(200)
          expect(res.json()).toMatchObject({ id })
        }
      }
    }
    expect((await call(gw.url, '/v1/users/2', { key: tokens.valid })).json()).toMatchObject({ id: 2, username: 'alice' })
    expect((await call(gw.url, '/v1/users/5', { key: tokens.valid })).status).toBe(403)
    expect(sim.calls.reads.get('users_get')).toBe(2)
    expect(sim.calls.reads.get('user_details_get:2')).toBe(1)
    // A user's calls and payments: signed calls whose hashes must not leak either.
    const calls = await call(gw.url, `/v1/users/2/calls?${new URLSearchParams(CALLS_QUERY).toString()}&limit=3`, reader)
    expect(calls.status).toBe(200)
    expect((calls.json() as { calls: unknown[] }).calls).toHaveLength(3)
    expect((await call(gw.url, '/v1/users/2/payments', reader)).status).toBe(200)
    expect(sim.calls.reads.get('user_calls_get:2')).toBe(1)
    expect(sim.calls.reads.get('payments_get:2')).toBe(1)
  })

  it('answers 429 once the second key has used its rate limit', async () => {
    for (let i = 0; i < RATE_LIMIT; i++) expect((await call(gw.url, '/v1/users/3/devices', { key: KEY_B })).status).toBe(200)
    const limited = await call(gw.url, '/v1/users/3/devices', { key: KEY_B })
    expect(limited.status).toBe(429)
    expect(limited.json()).toStrictEqual(problem('rate-limited', 'Too many requests', 429, 'Too many requests from this caller in this minute'))
  })

  it('passes legacy GET and POST calls, with hash and p in the query and the body, through to MOR', async () => {
    const get = await call(gw.url, `/billing/api/devices_get?u=admin&user_id=4&hash=${hash(4)}&p=${MOR_PASSWORD}`, { key: null })
    expect(get.status).toBe(200)
    expect(get.text).toBe(devicesXml([]))
    const form = { 'content-type': 'application/x-www-form-urlencoded' }
    const post = await call(gw.url, `/billing/api/devices_get?hash=${hash(9)}&p=${MOR_PASSWORD}`, {
      method: 'POST', key: null, headers: form, body: `u=admin&user_id=9&hash=${hash(9)}&p=${MOR_PASSWORD}`
    })
    expect(post.status).toBe(200)
    expect(post.text).toBe(errorXml('User not found', 'bare'))
    const bodyOnly = await call(gw.url, '/billing/api/device_list', {
      method: 'POST', key: null, headers: form, body: `u=admin&user_id=0&hash=${hash(0)}&p=${MOR_PASSWORD}`
    })
    expect(bodyOnly.status).toBe(200)
    expect(bodyOnly.text).toBe(devicesXml([]))
  })

  it('logs the passthrough request with hash and p redacted', () => {
    const urls = gw.logs.map((line) => JSON.parse(line) as { msg: string, req?: { url: string } })
      .filter((l) => l.msg === 'incoming request' && l.req?.url.startsWith('/billing/'))
      .map((l) => l.req?.url)
    expect(urls).toStrictEqual([
      '/billing/api/devices_get?u=admin&user_id=4&hash=[redacted]&p=[redacted]',
      '/billing/api/devices_get?hash=[redacted]&p=[redacted]',
      '/billing/api/device_list'
    ])
  })

  it('answers 502 problems when MOR is down, for the passthrough and for /v1', async () => {
    const unavailable = problem('upstream-unavailable', 'MOR unavailable', 502, 'MOR could not be reached: connection refused')
    const get = await call(down.url, `/billing/api/devices_get?u=admin&user_id=2&hash=${hash(2)}&p=${MOR_PASSWORD}`, { key: null })
    expect(get.status).toBe(502)
    expect(get.json()).toStrictEqual(unavailable)
    const post = await call(down.url, `/billing/api/devices_get?hash=${hash(2)}`, {
      method: 'POST', key: null, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `u=admin&user_id=2&hash=${hash(2)}&p=${MOR_PASSWORD}`
    })
    expect(post.status).toBe(502)
    expect(post.json()).toStrictEqual(unavailable)
    const devices = await call(down.url, '/v1/users/2/devices')
    expect(devices.status).toBe(502)
    expect(devices.json()).toStrictEqual(unavailable)
  })

  it('answers 502 problems, quoting nothing, when MOR answers badly with the request in its answer', async () => {
    const cases: Array<[Parameters<typeof quoteRequest>[0], object]> = [
      [(quoted, res) => { res.writeHead(200, { 'content-type': 'text/xml' }).end(`<error>Unknown request ${escapeXml(quoted)}</error>`) },
        problem('upstream-rejected', 'MOR rejected the request', 502, 'MOR refused the request: an unrecognised error message')],
      [(quoted, res) => { res.writeHead(500, { 'content-type': 'text/html' }).end(`<h1>Internal Server Error</h1><pre>${quoted}</pre>`) },
        problem('upstream-bad-response', 'Bad response from MOR', 502, 'MOR sent a response the gateway cannot use: HTTP status 500')],
      [(quoted, res) => { res.writeHead(200, { 'content-type': 'text/xml' }).end(`<page><devices><device><device_id>${escapeXml(quoted)}</device_id></device></devices></page>`) },
        problem('upstream-bad-response', 'Bad response from MOR', 502, 'MOR sent a response the gateway cannot use: device #1 has no valid device_id')]
    ]
    for (const [answer, expected] of cases) {
      fault.handle(quoteRequest(answer))
      const res = await call(bad.url, '/v1/users/7/devices')
      expect(res.status).toBe(502)
      expect(res.json()).toStrictEqual(expected)
    }
    fault.handle((req) => { req.socket.destroy() })
    const cut = await call(bad.url, '/v1/users/7/devices')
    expect(cut.status).toBe(502)
    expect((cut.json() as { type: string }).type).toBe('/problems/upstream-unavailable')
  })

  it('creates and changes devices with PINs and passwords, and shows none of them, nor MOR\'s new SIP password', async () => {
    const json = { 'content-type': 'application/json' }
    const mergePatch = { 'content-type': 'application/merge-patch+json' }
    const create = { method: 'POST', key: KEY_W, headers: { ...json, 'idempotency-key': '"leak-create-1"' }, body: JSON.stringify({ ...CREATE_FIELDS, extension: '299' }) }
    const created = await call(gw.url, '/v1/users/2/devices', create)
    expect(created.status).toBe(201)
    const location = created.headers.get('location') ?? ''
    const id = Number(/^\/v1\/devices\/([0-9]+)$/.exec(location)?.[1])
    expect(created.json()).toMatchObject({ id, userId: 2, description: 'Lobby phone' })
    // MOR's create answer held the new device's SIP password; its details hold it and the PIN.
    SECRETS.push([`SIP password of new device ${id}`, `new-${id}`])
    // The same key again: the first answer, from Redis.
    const replayed = await call(gw.url, '/v1/users/2/devices', create)
    expect(replayed.headers.get('idempotent-replayed')).toBe('true')
    expect(replayed.text).toBe(created.text)
    // The new device read back, alone and in its user's list (MOR's answers carry its secret and PIN).
    for (let i = 0; i < 2; i++) expect((await call(gw.url, location, { key: KEY_W })).json()).toMatchObject({ id })
    expect((await call(gw.url, '/v1/users/2/devices', { key: KEY_W })).json()).toMatchObject({ userId: 2 })
    const patch = { method: 'PATCH', key: KEY_W, headers: { ...mergePatch, 'idempotency-key': '"leak-update-1"' }, body: JSON.stringify({ description: 'Front desk', pin: PIN_UPDATE, password: PASSWORD_UPDATE }) }
    const patched = await call(gw.url, '/v1/devices/5', patch)
    expect(patched.status).toBe(200)
    expect(patched.json()).toMatchObject({ id: 5, description: 'Front desk' })
    expect((await call(gw.url, '/v1/devices/5', patch)).headers.get('idempotent-replayed')).toBe('true')
    expect((await call(gw.url, '/v1/devices/5', { key: KEY_W })).json()).toMatchObject({ id: 5, description: 'Front desk' })
    expect(sim.calls.writes.get('device_create')).toBe(1)
    expect(sim.calls.writes.get('device_update')).toBe(1)
    // Bodies the gateway refuses: the detail names the field, never the value.
    const badPin = await call(gw.url, '/v1/users/2/devices', { method: 'POST', key: KEY_W, headers: json, body: JSON.stringify({ type: 'SIP', pin: PIN_INVALID }) })
    expect(badPin.json()).toStrictEqual(problem('invalid-request', 'Invalid request', 400, 'Field "pin" must be a string of up to 16 digits'))
    const badPassword = await call(gw.url, '/v1/devices/5', { method: 'PATCH', key: KEY_W, headers: mergePatch, body: JSON.stringify({ password: `\u0001${PASSWORD_INVALID}` }) })
    expect(badPassword.status).toBe(400)
    expect((badPassword.json() as { detail: string }).detail).toMatch(/^Field "password" must be /)
    // Callers that may not write (a token without devices:write), with a PIN and a password.
    const reader = await call(gw.url, '/v1/devices/5', { method: 'PATCH', key: tokens.valid, headers: mergePatch, body: JSON.stringify({ pin: PIN_UPDATE, password: PASSWORD_UPDATE }) })
    expect(reader.status).toBe(403)
    const anonymous = await call(gw.url, '/v1/users/2/devices', { method: 'POST', key: null, headers: json, body: JSON.stringify({ type: 'SIP', pin: PIN_CREATE }) })
    expect(anonymous.status).toBe(401)
    // A delete, for the audit line's sake.
    expect((await call(gw.url, location, { method: 'DELETE', key: KEY_W })).status).toBe(204)
    expect(gw.logs.filter((line) => line.includes('"msg":"device write"')).length).toBeGreaterThanOrEqual(5)
  })

  it('answers MOR\'s refusals of device writes quoting MOR\'s words, never a PIN, a password or what MOR was sent', async () => {
    const json = { 'content-type': 'application/json' }
    const mergePatch = { 'content-type': 'application/merge-patch+json' }
    const post = (pin: string) => call(bad.url, '/v1/users/2/devices', { method: 'POST', key: KEY_W, headers: json, body: JSON.stringify({ type: 'SIP', pin }) })
    const patch = () => call(bad.url, '/v1/devices/5', { method: 'PATCH', key: KEY_W, headers: mergePatch, body: JSON.stringify({ pin: PIN_REFUSED_UPDATE, password: PASSWORD_REFUSED }) })
    // A PIN MOR says is taken, quoted back by MOR: only MOR's plain-word lines are quoted.
    fault.handle(relayReads((_form, res) => {
      xmlAnswer(res, `<page><status><error>Device was not created</error><message>Pin is already used</message><message>Pin ${PIN_REFUSED} is taken</message></status></page>`)
    }))
    expect((await post(PIN_REFUSED)).json()).toStrictEqual(problem('device-invalid', 'Device values refused', 422,
      'MOR refused the values: Device was not created; Pin is already used; nothing was changed'))
    // An update MOR refuses, quoting both the PIN and the password it was sent.
    fault.handle(relayReads((_form, res) => {
      xmlAnswer(res, `<status><error>Password is too short</error><message>Password ${escapeXml(PASSWORD_REFUSED)} (pin ${PIN_REFUSED_UPDATE}) is too short</message></status>`)
    }))
    expect((await patch()).json()).toStrictEqual(problem('device-invalid', 'Device values refused', 422,
      'MOR refused the values: Password is too short; nothing was changed'))
    // A refusal in words the gateway does not know, quoting the PIN: not quoted at all.
    fault.handle(relayReads((_form, res) => { xmlAnswer(res, `<error>Pin ${PIN_REFUSED} is not allowed for this tariff</error>`) }))
    expect((await post(PIN_REFUSED)).json()).toStrictEqual(problem('upstream-rejected', 'MOR rejected the request', 502, 'MOR refused the request: an unrecognised error message'))
    // A create MOR says it did, with its own new SIP password, for a device it then cannot show.
    fault.handle(relayReads((_form, res) => {
      xmlAnswer(res, `<page><status>Device created</status><id>987654</id><username>987654</username><password>${FAULT_SIP_PASSWORD}</password></page>`)
    }))
    const lost = await post(PIN_REFUSED)
    expect(lost.status).toBe(201)
    expect(lost.json()).toStrictEqual({ id: 987654, userId: 2 })
  })

  // A MOR that quotes the call it got (u, the fields, the hash, p) in its <message>: none of it
  // may reach the client, in any spelling (devices/write-errors.ts quotable).
  it('answers MOR quoting the whole call it got (u, fields, hash, p) without quoting any of it', async () => {
    fault.handle(relayReads((form, res) => {
      xmlAnswer(res, `<status><error>Device was not created</error><message>${escapeXml(form)}</message></status>`)
    }))
    const echoed = await call(bad.url, '/v1/devices/5', {
      method: 'PATCH', key: KEY_W, headers: { 'content-type': 'application/merge-patch+json' }, body: JSON.stringify({ pin: PIN_REFUSED_UPDATE, password: PASSWORD_SPELLED })
    })
    expect(echoed.status).toBe(422)
    expect((echoed.json() as { type: string }).type).toBe('/problems/device-invalid')
    expect(leaksIn([{ where: 'the answer to a PATCH MOR refused quoting its call', text: echoed.text }])).toStrictEqual([])
  })

  it('serves metrics and health', async () => {
    for (const gateway of [gw, down, bad]) {
      const metrics = await call(gateway.url, '/metrics', { key: null })
      expect(metrics.status).toBe(200)
      scrapes.push({ where: `metrics of ${gateway.url}`, text: metrics.text })
    }
    expect((await call(gw.url, '/health/live', { key: null })).json()).toStrictEqual({ status: 'ok' })
    expect((await call(gw.url, '/health/ready', { key: null })).json())
      .toStrictEqual({ status: 'ready', checks: { config: 'ok', redis: 'up', mor: 'reachable', circuit: 'closed' } })
  })
})

describe('what the gateways wrote', () => {
  it('no log line holds a secret, a password, a hash, an API key or a device secret', () => {
    const lines = [gw, down, bad].flatMap((g, i) => g.logs.map((text, n) => ({ where: `log line ${n} of gateway ${i}`, text })))
    // Trace level logs every request, so the scenarios above left plenty to search.
    expect(lines.length).toBeGreaterThan(100)
    expect(leaksIn(lines)).toStrictEqual([])
  })

  it('no answer holds one, in its headers or its body', () => {
    expect(answers.length).toBeGreaterThan(60)
    expect(leaksIn(answers)).toStrictEqual([])
  })

  it('no metrics scrape holds one', () => {
    expect(scrapes).toHaveLength(3)
    expect(leaksIn(scrapes)).toStrictEqual([])
  })

  it('nothing stored in Redis holds one', async () => {
    const client = new Redis(redis.url)
    try {
      const keys = await client.keys('*')
      const items = await Promise.all(keys.map(async (key) => {
        const type = await client.type(key)
        const value = type === 'string' ? (await client.getBuffer(key))?.toString('utf8') ?? '' : type
        return { where: `redis ${key}`, text: `${key}\n${value}` }
      }))
      expect(items.length).toBeGreaterThan(0)
      expect(leaksIn(items)).toStrictEqual([])
    } finally {
      client.disconnect()
    }
  })
})
