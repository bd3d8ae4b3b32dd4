// Who may call the gateway, and how often, over real sockets: API keys (and their reload from a
// file), AUTH_DISABLED, per-key rate limits (one budget across instances through Redis), the
// per-key budget of calls to MOR, CORS, TRUST_PROXY and the legacy passthrough's address allowlist.
import { mkdtemp, mkdir, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { devicesGetHash } from '../../src/mor/sign.js'
import { ConfigError } from '../../src/config.js'
import { getJson, startGateway, TEST_API_KEY, TEST_API_SECRET, TEST_API_USER, type TestGateway } from '../helpers/gateway.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'

const problem = (slug: string, title: string, status: number, detail: string) => ({ type: `/problems/${slug}`, title, status, detail })
const MISSING_KEY = problem('unauthorized', 'Unauthorized', 401, 'Send an API key as Authorization: Bearer <key>')
const INVALID_KEY = problem('unauthorized', 'Unauthorized', 401, 'The API key is not valid')
const RATE_LIMITED = problem('rate-limited', 'Too many requests', 429, 'Too many requests for this API key; retry in 1 minute')
const BUDGET_SPENT = problem('rate-limited', 'Too many requests', 429, 'This API key has used its budget of calls to MOR for this minute')
const LEGACY_FORBIDDEN = problem('forbidden', 'Forbidden', 403, 'This client address may not use the legacy passthrough')
const CHALLENGE = 'Bearer realm="mor-gateway"'
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="mor-gateway", error="invalid_token"'

const KEY_ONE = 'file-key-one-0123456789'
const KEY_TWO = 'file-key-two-0123456789'
const KEY_THREE = 'file-key-three-0123456789'
const OTHER_KEY = 'other-key-fedcba9876543210'
const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

let sim: MorSimulator
let dir: string
const gateways: TestGateway[] = []

beforeAll(async () => {
  sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
  dir = await mkdtemp(join(tmpdir(), 'mor-gateway-keys-'))
})
afterAll(async () => {
  await sim.close()
  await rm(dir, { recursive: true, force: true })
})
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gw) => gw.close()))
})

async function gateway (env: Record<string, string> = {}): Promise<TestGateway> {
  const gw = await startGateway(sim.url, env)
  gateways.push(gw)
  return gw
}

async function waitFor (check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const callsFor = (userId: number) => sim.calls.byUser.get(String(userId)) ?? 0
const statusWith = async (url: string, key: string) => (await getJson(url, bearer(key))).status
const logged = (gw: TestGateway) => gw.logs.map((line) => JSON.parse(line) as { level: number, msg: string, req?: { url: string, remoteAddress: string } })

describe('API keys on /v1', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startGateway(sim.url) })
  afterAll(async () => { await gw.close() })

  it('returns 401 with a bare Bearer challenge when no key is sent, without calling MOR', async () => {
    const before = sim.calls.total
    const res = await getJson(`${gw.url}/v1/users/2/devices`, {}, { auth: false })
    expect(res.status).toBe(401)
    expect(res.type).toBe('application/problem+json; charset=utf-8')
    expect(res.body).toStrictEqual(MISSING_KEY)
    expect(res.headers.get('www-authenticate')).toBe(CHALLENGE)
    expect(sim.calls.total).toBe(before)
  })

  it('returns 401 invalid_token when the key is wrong, without calling MOR', async () => {
    const before = sim.calls.total
    const res = await getJson(`${gw.url}/v1/users/2/devices`, bearer('wrong-key-0123456789abcdef'))
    expect(res.status).toBe(401)
    expect(res.body).toStrictEqual(INVALID_KEY)
    expect(res.headers.get('www-authenticate')).toBe(INVALID_TOKEN_CHALLENGE)
    expect(sim.calls.total).toBe(before)
  })

  it('returns 401 invalid_token for the right key sent with the Basic scheme', async () => {
    const basic = `Basic ${Buffer.from(`user:${TEST_API_KEY}`).toString('base64')}`
    const res = await getJson(`${gw.url}/v1/users/2/devices`, { authorization: basic })
    expect(res.status).toBe(401)
    expect(res.body).toStrictEqual(INVALID_KEY)
    expect(res.headers.get('www-authenticate')).toBe(INVALID_TOKEN_CHALLENGE)
  })

  it('returns 401 invalid_token for a Bearer header without a token', async () => {
    const res = await getJson(`${gw.url}/v1/users/2/devices`, { authorization: 'Bearer' })
    expect(res.status).toBe(401)
    expect(res.body).toStrictEqual(INVALID_KEY)
  })

  it('answers 200 with the right key', async () => {
    const res = await getJson(`${gw.url}/v1/users/3/devices`)
    expect(res.status).toBe(200)
    expect(res.body).toStrictEqual({
      userId: 3,
      devices: [{ id: 55, type: 'IAX2', ipAddress: '198.51.100.7', port: 4569, username: '101', callerId: '"Bob & Sons" <101>', deviceGroupId: 3, primary: true }]
    })
  })

  it('accepts the auth scheme in any letter case', async () => {
    expect((await getJson(`${gw.url}/v1/users/3/devices`, { authorization: `bearer ${TEST_API_KEY}` })).status).toBe(200)
  })

  it('asks for no key on /health/live, /metrics, /docs and /openapi.json', async () => {
    const live = await getJson(`${gw.url}/health/live`, {}, { auth: false })
    expect(live.status).toBe(200)
    expect(live.body).toStrictEqual({ status: 'ok' })
    const metrics = await fetch(`${gw.url}/metrics`)
    expect(metrics.status).toBe(200)
    expect(await metrics.text()).toContain('gateway_http_request_duration_seconds')
    const docs = await fetch(`${gw.url}/docs`)
    expect(docs.status).toBe(200)
    expect(docs.headers.get('content-type')).toMatch(/^text\/html/)
    const contract = await fetch(`${gw.url}/openapi.json`)
    expect(contract.status).toBe(200)
    expect((await contract.json() as { openapi: string }).openapi).toBe('3.1.0')
  })
})

describe('API keys from GATEWAY_API_KEYS_FILE', () => {
  const keyFile = async (name: string, text: string) => {
    const path = join(dir, name)
    await writeFile(path, text)
    return path
  }

  it('accepts the keys in the file and no others', async () => {
    const path = await keyFile('start.keys', `# gateway keys\n${KEY_ONE}   # billing\n\n# retired: ${KEY_THREE}\n${KEY_TWO}\n`)
    const gw = await gateway({ GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: path })
    const url = `${gw.url}/v1/users/2/devices`
    expect(await statusWith(url, KEY_ONE)).toBe(200)
    expect(await statusWith(url, KEY_TWO)).toBe(200)
    expect(await statusWith(url, KEY_THREE)).toBe(401)
    expect(await statusWith(url, TEST_API_KEY)).toBe(401)
  })

  it('accepts keys from both GATEWAY_API_KEYS and the file', async () => {
    const path = await keyFile('both.keys', `${KEY_ONE}\n`)
    const gw = await gateway({ GATEWAY_API_KEYS_FILE: path })
    const url = `${gw.url}/v1/users/2/devices`
    expect(await statusWith(url, KEY_ONE)).toBe(200)
    expect(await statusWith(url, TEST_API_KEY)).toBe(200)
  })

  it('takes up a rewritten key file on SIGHUP: the new key works and the removed one gets 401', async () => {
    const path = await keyFile('sighup.keys', `# v1\n${KEY_ONE}\n${KEY_TWO}\n`)
    const gw = await gateway({ GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: path })
    const url = `${gw.url}/v1/users/2/devices`
    expect(await statusWith(url, KEY_THREE)).toBe(401)

    await writeFile(path, `# v2: key one retired\r\n${KEY_TWO}\r\n${KEY_THREE}\r\n`)
    process.kill(process.pid, 'SIGHUP')
    await waitFor(async () => (await statusWith(url, KEY_THREE)) === 200)

    const removed = await getJson(url, bearer(KEY_ONE))
    expect(removed.status).toBe(401)
    expect(removed.body).toStrictEqual(INVALID_KEY)
    expect(await statusWith(url, KEY_TWO)).toBe(200)
    expect(logged(gw).some((line) => line.msg === 'API keys reloaded')).toBe(true)
  })

  it('takes up a rewritten key file when apiKeys.reload() is called', async () => {
    const path = await keyFile('reload.keys', `${KEY_ONE}\n`)
    const gw = await gateway({ GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: path })
    const url = `${gw.url}/v1/users/2/devices`
    await writeFile(path, `${KEY_TWO}\n`)
    expect(await statusWith(url, KEY_ONE)).toBe(200)

    await gw.app.apiKeys.reload()
    expect(await statusWith(url, KEY_TWO)).toBe(200)
    expect(await statusWith(url, KEY_ONE)).toBe(401)
  })

  it('keeps the keys in force when the file is gone at reload, and logs it', async () => {
    const path = await keyFile('vanishing.keys', `${KEY_ONE}\n`)
    const gw = await gateway({ GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: path })
    await unlink(path)
    await gw.app.apiKeys.reload()
    expect(await statusWith(`${gw.url}/v1/users/2/devices`, KEY_ONE)).toBe(200)
    const errors = logged(gw).filter((line) => line.msg.includes('API key file could not be read'))
    expect(errors).toHaveLength(1)
    expect(errors[0]?.level).toBe(50)
  })

  it('keeps the keys in force when the file cannot be read at reload', async () => {
    const path = await keyFile('unreadable.keys', `${KEY_ONE}\n`)
    const gw = await gateway({ GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: path })
    // A directory in the file's place: unreadable even for root, who ignores file modes.
    await unlink(path)
    await mkdir(path)
    await gw.app.apiKeys.reload()
    expect(await statusWith(`${gw.url}/v1/users/2/devices`, KEY_ONE)).toBe(200)
    expect(gw.logs.some((line) => line.includes('API key file could not be read'))).toBe(true)
  })

  it('refuses to start when the key file does not exist, naming GATEWAY_API_KEYS_FILE', async () => {
    const start = startGateway(sim.url, { GATEWAY_API_KEYS_FILE: join(dir, 'no-such.keys') })
    await expect(start).rejects.toBeInstanceOf(ConfigError)
    await expect(start).rejects.toThrow(/GATEWAY_API_KEYS_FILE cannot be read \(ENOENT\)/)
  })

  it('refuses to start when the key file holds no keys and no other keys are set', async () => {
    const path = await keyFile('empty.keys', '# no keys yet\n\n')
    const start = startGateway(sim.url, { GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: path })
    await expect(start).rejects.toBeInstanceOf(ConfigError)
    await expect(start).rejects.toThrow(/GATEWAY_API_KEYS_FILE holds no keys/)
  })
})

describe('AUTH_DISABLED=true', () => {
  it('answers /v1 without a key and warns about it in the log', async () => {
    const gw = await gateway({ GATEWAY_API_KEYS: '', AUTH_DISABLED: 'true' })
    const res = await getJson(`${gw.url}/v1/users/3/devices`, {}, { auth: false })
    expect(res.status).toBe(200)
    const warnings = logged(gw).filter((line) => line.msg.includes('AUTH_DISABLED=true'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]?.level).toBe(40)
  })
})

describe('the per-key request rate limit', () => {
  it('answers the request after the limit with 429 and the rate-limit headers', async () => {
    const gw = await gateway({ RATE_LIMIT_PER_MINUTE: '5' })
    const url = `${gw.url}/v1/users/2/devices`
    for (let i = 0; i < 5; i++) {
      const res = await getJson(url)
      expect(res.status).toBe(200)
      expect(res.headers.get('ratelimit-limit')).toBe('5')
      expect(res.headers.get('ratelimit-remaining')).toBe(String(4 - i))
    }
    const limited = await getJson(url)
    expect(limited.status).toBe(429)
    expect(limited.type).toBe('application/problem+json; charset=utf-8')
    expect(limited.body).toStrictEqual(RATE_LIMITED)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60)
    expect(limited.headers.get('ratelimit-limit')).toBe('5')
    expect(limited.headers.get('ratelimit-remaining')).toBe('0')
    expect(Number(limited.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(1)
    expect(Number(limited.headers.get('ratelimit-reset'))).toBeLessThanOrEqual(60)
  })

  it('counts each key on its own', async () => {
    const gw = await gateway({ RATE_LIMIT_PER_MINUTE: '5', GATEWAY_API_KEYS: `${TEST_API_KEY},${OTHER_KEY}` })
    const url = `${gw.url}/v1/users/2/devices`
    for (let i = 0; i < 5; i++) await getJson(url)
    expect((await getJson(url)).status).toBe(429)
    const other = await getJson(url, bearer(OTHER_KEY))
    expect(other.status).toBe(200)
    expect(other.headers.get('ratelimit-remaining')).toBe('4')
  })

  it('limits failed attempts per address, apart from the valid key\'s budget', async () => {
    const gw = await gateway({ RATE_LIMIT_PER_MINUTE: '2' })
    const url = `${gw.url}/v1/users/2/devices`
    const wrong = { authorization: 'Bearer wrong-key-0000000000000000' }
    const statuses = []
    for (let i = 0; i < 5; i++) statuses.push((await getJson(url, wrong, { auth: false })).status)
    expect(statuses).toStrictEqual([401, 401, 429, 429, 429])
    expect((await getJson(url)).status).toBe(200)
  })
})

describe('the request rate limit with two instances on one Redis', () => {
  let redis: TestRedis
  beforeAll(async () => { redis = await startRedis() })
  afterAll(async () => { await redis.close() })

  it('enforces one budget per key across both instances', async () => {
    const env = { REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: '6' }
    const [a, b] = [await gateway(env), await gateway(env)]
    await waitFor(() => a.app.redisStore?.available === true && b.app.redisStore?.available === true)
    for (let i = 0; i < 3; i++) {
      expect((await getJson(`${a.url}/v1/users/2/devices`)).status).toBe(200)
      expect((await getJson(`${b.url}/v1/users/2/devices`)).status).toBe(200)
    }
    for (const gw of [a, b]) {
      const res = await getJson(`${gw.url}/v1/users/2/devices`)
      expect(res.status).toBe(429)
      expect(res.body).toStrictEqual(RATE_LIMITED)
      expect(res.headers.get('ratelimit-remaining')).toBe('0')
    }
  })
})

describe('the per-key budget of calls to MOR', () => {
  it('answers no-cache requests beyond the budget from the cache without calling MOR', async () => {
    const gw = await gateway({ UPSTREAM_BUDGET_PER_MINUTE: '2' })
    const url = `${gw.url}/v1/users/1101/devices`
    const first = await getJson(url, { 'cache-control': 'no-cache' })
    expect(first.status).toBe(200)
    for (let i = 0; i < 5; i++) {
      const res = await getJson(url, { 'cache-control': 'no-cache' })
      expect(res.status).toBe(200)
      expect(res.body).toStrictEqual(first.body)
    }
    expect(callsFor(1101)).toBe(2)
  })

  it('answers 429 with Retry-After for a user with nothing cached once the budget is spent', async () => {
    const gw = await gateway({ UPSTREAM_BUDGET_PER_MINUTE: '2' })
    expect((await getJson(`${gw.url}/v1/users/1102/devices`)).status).toBe(200)
    expect((await getJson(`${gw.url}/v1/users/1103/devices`)).status).toBe(200)
    const cold = await getJson(`${gw.url}/v1/users/1104/devices`)
    expect(cold.status).toBe(429)
    expect(cold.type).toBe('application/problem+json; charset=utf-8')
    expect(cold.body).toStrictEqual(BUDGET_SPENT)
    expect(Number(cold.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(Number(cold.headers.get('retry-after'))).toBeLessThanOrEqual(60)
    expect(callsFor(1104)).toBe(0)
  })

  it('keeps a separate budget for each key', async () => {
    const gw = await gateway({ UPSTREAM_BUDGET_PER_MINUTE: '1', GATEWAY_API_KEYS: `${TEST_API_KEY},${OTHER_KEY}` })
    expect((await getJson(`${gw.url}/v1/users/1105/devices`)).status).toBe(200)
    expect((await getJson(`${gw.url}/v1/users/1106/devices`)).status).toBe(429)
    expect((await getJson(`${gw.url}/v1/users/1106/devices`, bearer(OTHER_KEY))).status).toBe(200)
    expect(callsFor(1106)).toBe(1)
  })
})

describe('CORS', () => {
  const ORIGIN = 'https://app.example.com'
  const EXPOSED = ['etag', 'cache-status', 'age', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'x-request-id']
  const headerList = (value: string | null) => (value ?? '').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean)
  const preflight = (url: string, origin: string) => fetch(url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' }
  })

  it('answers a preflight from an allowed origin that asks for Authorization with 204', async () => {
    const gw = await gateway({ CORS_ORIGINS: ORIGIN })
    const res = await preflight(`${gw.url}/v1/users/2/devices`, ORIGIN)
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(headerList(res.headers.get('access-control-allow-methods'))).toContain('get')
    expect(headerList(res.headers.get('access-control-allow-headers'))).toContain('authorization')
  })

  it('exposes the cache, rate-limit and request-id headers to an allowed origin', async () => {
    const gw = await gateway({ CORS_ORIGINS: ORIGIN })
    const res = await getJson(`${gw.url}/v1/users/2/devices`, { origin: ORIGIN })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(headerList(res.headers.get('access-control-expose-headers'))).toStrictEqual(EXPOSED)
  })

  it('gives another origin no access-control-allow-origin', async () => {
    const gw = await gateway({ CORS_ORIGINS: ORIGIN })
    const res = await getJson(`${gw.url}/v1/users/2/devices`, { origin: 'https://evil.example.net' })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
    const pre = await preflight(`${gw.url}/v1/users/2/devices`, 'https://evil.example.net')
    expect(pre.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('sends no CORS headers at all without CORS_ORIGINS', async () => {
    const gw = await gateway()
    const res = await getJson(`${gw.url}/v1/users/2/devices`, { origin: ORIGIN })
    expect(res.status).toBe(200)
    const pre = await preflight(`${gw.url}/v1/users/2/devices`, ORIGIN)
    for (const headers of [res.headers, pre.headers]) {
      expect([...headers.keys()].filter((name) => name.startsWith('access-control-'))).toStrictEqual([])
    }
  })
})

describe('TRUST_PROXY', () => {
  const FORWARDED = { 'x-forwarded-for': '203.0.113.50' }
  const remoteAddressOf = (gw: TestGateway, url: string) =>
    logged(gw).find((line) => line.msg === 'incoming request' && line.req?.url === url)?.req?.remoteAddress

  it('logs the X-Forwarded-For client address when TRUST_PROXY=true', async () => {
    const gw = await gateway({ TRUST_PROXY: 'true' })
    await getJson(`${gw.url}/v1/users/2/devices?via=proxy`, FORWARDED)
    expect(remoteAddressOf(gw, '/v1/users/2/devices?via=proxy')).toBe('203.0.113.50')
  })

  it('logs the socket address and ignores X-Forwarded-For when TRUST_PROXY is unset', async () => {
    const gw = await gateway()
    await getJson(`${gw.url}/v1/users/2/devices?via=direct`, FORWARDED)
    expect(remoteAddressOf(gw, '/v1/users/2/devices?via=direct')).toBe('127.0.0.1')
  })

  it('rate-limits each forwarded client address on its own when auth is disabled', async () => {
    const gw = await gateway({ TRUST_PROXY: 'true', AUTH_DISABLED: 'true', GATEWAY_API_KEYS: '', RATE_LIMIT_PER_MINUTE: '2' })
    const url = `${gw.url}/v1/users/2/devices`
    for (let i = 0; i < 2; i++) expect((await getJson(url, FORWARDED, { auth: false })).status).toBe(200)
    const limited = await getJson(url, FORWARDED, { auth: false })
    expect(limited.status).toBe(429)
    expect(limited.body).toStrictEqual(RATE_LIMITED)
    expect((await getJson(url, { 'x-forwarded-for': '203.0.113.51' }, { auth: false })).status).toBe(200)
  })

  it('rate-limits by the socket address, whatever X-Forwarded-For says, when TRUST_PROXY is unset', async () => {
    const gw = await gateway({ AUTH_DISABLED: 'true', GATEWAY_API_KEYS: '', RATE_LIMIT_PER_MINUTE: '2' })
    const url = `${gw.url}/v1/users/2/devices`
    for (let i = 0; i < 2; i++) expect((await getJson(url, FORWARDED, { auth: false })).status).toBe(200)
    expect((await getJson(url, { 'x-forwarded-for': '203.0.113.51' }, { auth: false })).status).toBe(429)
  })
})

describe('LEGACY_ALLOW_CIDRS', () => {
  const path = `/billing/api/devices_get?u=${TEST_API_USER}&user_id=2&hash=${devicesGetHash(2, TEST_API_SECRET)}`

  it('answers 403 to a client outside the allowed blocks without reaching MOR', async () => {
    const gw = await gateway({ LEGACY_ALLOW_CIDRS: '10.0.0.0/8' })
    const before = sim.calls.total
    const res = await fetch(`${gw.url}${path}`)
    expect(res.status).toBe(403)
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8')
    expect(await res.json()).toStrictEqual(LEGACY_FORBIDDEN)
    expect(sim.calls.total).toBe(before)
  })

  it('passes a client inside the allowed blocks through to MOR', async () => {
    const gw = await gateway({ LEGACY_ALLOW_CIDRS: '10.0.0.0/8, 127.0.0.0/8' })
    const before = sim.calls.total
    const res = await fetch(`${gw.url}${path}`)
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('<devices>')
    expect(sim.calls.total).toBe(before + 1)
  })

  it('uses the X-Forwarded-For address when TRUST_PROXY=true', async () => {
    const gw = await gateway({ LEGACY_ALLOW_CIDRS: '10.0.0.0/8', TRUST_PROXY: 'true' })
    const inside = await fetch(`${gw.url}${path}`, { headers: { 'x-forwarded-for': '10.1.2.3' } })
    expect(inside.status).toBe(200)
    await inside.arrayBuffer()
    const outside = await fetch(`${gw.url}${path}`, { headers: { 'x-forwarded-for': '203.0.113.50' } })
    expect(outside.status).toBe(403)
    expect(await outside.json()).toStrictEqual(LEGACY_FORBIDDEN)
  })

  // Known bug: TRUST_PROXY=true trusts every hop, so the address checked is the leftmost
  // X-Forwarded-For entry, which the client writes itself. A load balancer that appends the address
  // it saw (nginx $proxy_add_x_forwarded_for, AWS ALB) sends "<forged>, <real>", and the forged
  // address passes the allowlist. The address to check is the one the trusted proxy added.
  it('does not let a client behind the proxy pass by forging its own X-Forwarded-For entry', async () => {
    const gw = await gateway({ LEGACY_ALLOW_CIDRS: '10.0.0.0/8', TRUST_PROXY: 'true' })
    const before = sim.calls.total
    const res = await fetch(`${gw.url}${path}`, { headers: { 'x-forwarded-for': '10.1.2.3, 203.0.113.50' } })
    expect(res.status).toBe(403)
    expect(await res.json()).toStrictEqual(LEGACY_FORBIDDEN)
    expect(sim.calls.total).toBe(before)
  })

  it('ignores X-Forwarded-For when TRUST_PROXY is unset', async () => {
    const gw = await gateway({ LEGACY_ALLOW_CIDRS: '10.0.0.0/8' })
    const res = await fetch(`${gw.url}${path}`, { headers: { 'x-forwarded-for': '10.1.2.3' } })
    expect(res.status).toBe(403)
    expect(await res.json()).toStrictEqual(LEGACY_FORBIDDEN)
  })

  it('does not restrict /v1, which has its own keys', async () => {
    const gw = await gateway({ LEGACY_ALLOW_CIDRS: '10.0.0.0/8' })
    expect((await getJson(`${gw.url}/v1/users/2/devices`)).status).toBe(200)
  })
})
