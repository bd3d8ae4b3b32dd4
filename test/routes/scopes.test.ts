// Who may read which MOR users, over real sockets: keys scoped in the key file and JWTs from a real
// JWKS endpoint, enforced on the route, on in-process hits (the hit lane) and on Redis hits, with
// per-key rates, GET /v1/me/devices, and what logs and metrics show of a caller.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getJson } from '../helpers/gateway.js'
import { withoutInstance } from '../helpers/expected.js'
import { bearer, callerHarness, waitFor, INVALID_KEY, INVALID_TOKEN_CHALLENGE, KEY_ONE, KEY_THREE, KEY_TWO, problem, RATE_LIMITED } from '../helpers/callers.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'
import { jwtEnv, signingKey, startIdentityProvider, token, type IdentityProvider, type SigningKey } from '../helpers/identity-provider.js'

const h = callerHarness()
const FORBIDDEN = problem('forbidden', 'Forbidden', 403, 'This caller may not read this MOR user')
const NOT_ONE_USER = problem('invalid-request', 'Invalid request', 400, 'This caller may read more than one MOR user: name the user with GET /v1/users/{userId}/devices')

// portal: users 2 and 3; all: every user; solo: user 5 only, at 3 requests a minute.
const KEYS = `# scoped keys
${KEY_ONE} name=portal users=2-3
${KEY_TWO} users=*
${KEY_THREE} users=5 name=solo rate=3
`
const keyFile = async () => {
  const path = join(h.dir, `scoped-${Math.random().toString(36).slice(2)}.keys`)
  await writeFile(path, KEYS)
  return { GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: path }
}
const devices = (base: string, userId: number | string) => `${base}/v1/users/${userId}/devices`

describe('API keys scoped in the key file', () => {
  it('answers 403 for a user outside the key\'s scope, the same whether or not the user exists, without calling MOR', async () => {
    const gw = await h.gateway(await keyFile())
    const before = h.sim.calls.total
    const existing = await getJson(devices(gw.url, 5), bearer(KEY_ONE))
    const missing = await getJson(devices(gw.url, 777), bearer(KEY_ONE))
    expect(existing.status).toBe(403)
    expect(existing.type).toBe('application/problem+json; charset=utf-8')
    expect(existing.body).toStrictEqual(FORBIDDEN)
    expect(missing.status).toBe(403)
    expect(withoutInstance(missing.body)).toStrictEqual(withoutInstance(existing.body))
    expect([...missing.headers.keys()].filter((name) => name !== 'x-request-id' && name !== 'date')).toStrictEqual([...existing.headers.keys()].filter((name) => name !== 'x-request-id' && name !== 'date'))
    expect(h.sim.calls.total).toBe(before)
    expect((await getJson(devices(gw.url, 3), bearer(KEY_ONE))).status).toBe(200)
    expect((await getJson(devices(gw.url, 5), bearer(KEY_TWO))).status).toBe(200)
  })

  it('never serves an in-process hit across scopes: the lane hands the 403 to the route', async () => {
    const gw = await h.gateway(await keyFile())
    expect((await getJson(devices(gw.url, 5), bearer(KEY_TWO))).headers.get('cache-status')).toContain('stored')
    // Fresh in the cache now, for an all-users key ...
    const hit = await fetch(devices(gw.url, 5), { headers: bearer(KEY_TWO) })
    expect(hit.headers.get('cache-status')).toContain('hit')
    // ... and still refused to the portal key, at the lane's address as at the route's.
    const before = h.sim.calls.total
    const refused = await getJson(devices(gw.url, 5), bearer(KEY_ONE))
    expect(refused.status).toBe(403)
    expect(refused.body).toStrictEqual(FORBIDDEN)
    expect(h.sim.calls.total).toBe(before)
    const laneAnswers = await gw.app.inject({ method: 'GET', url: '/metrics' })
    expect(laneAnswers.body).toMatch(/gateway_hit_lane_answers_total [1-9]/)
  })

  it('counts each key at its own rate', async () => {
    const gw = await h.gateway(await keyFile())
    const statuses: number[] = []
    let limit: string | null = null
    for (let i = 0; i < 4; i++) {
      const res = await getJson(devices(gw.url, 5), bearer(KEY_THREE))
      statuses.push(res.status)
      limit ??= res.headers.get('ratelimit-limit')
      if (res.status === 429) expect(res.body).toStrictEqual(RATE_LIMITED)
    }
    expect(statuses).toStrictEqual([200, 200, 200, 429])
    expect(limit).toBe('3')
    // Another key is not affected.
    expect((await getJson(devices(gw.url, 5), bearer(KEY_TWO))).status).toBe(200)
  })

  it('GET /v1/me/devices answers a one-user key as its user\'s route does, and asks others to name the user', async () => {
    const gw = await h.gateway(await keyFile())
    const mine = await getJson(`${gw.url}/v1/me/devices`, bearer(KEY_THREE))
    const named = await getJson(devices(gw.url, 5), bearer(KEY_THREE))
    expect(mine.status).toBe(200)
    expect(mine.body).toStrictEqual(named.body)
    expect(mine.headers.get('etag')).toBe(named.headers.get('etag'))
    for (const key of [KEY_ONE, KEY_TWO]) {
      const res = await getJson(`${gw.url}/v1/me/devices`, bearer(key))
      expect(res.status).toBe(400)
      expect(res.body).toStrictEqual(NOT_ONE_USER)
    }
    expect((await getJson(`${gw.url}/v1/me/devices`, {}, { auth: false })).status).toBe(401)
  })

  it('shows the key\'s name (or id) in the access log and the caller metric, never the key', async () => {
    const gw = await h.gateway(await keyFile())
    await getJson(devices(gw.url, 2), bearer(KEY_ONE))
    await getJson(devices(gw.url, 2), bearer(KEY_ONE))
    await getJson(devices(gw.url, 5), bearer(KEY_TWO))
    const completed = h.logged(gw).filter((line) => line.msg === 'request completed') as Array<{ caller?: string }>
    expect(completed.filter((line) => line.caller === 'portal')).toHaveLength(2)
    expect(completed.some((line) => /^key-[0-9a-f]{12}$/.test(line.caller ?? ''))).toBe(true)
    const metrics = (await gw.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toContain('gateway_caller_requests_total{caller="portal"} 2')
    expect(metrics).toMatch(/gateway_caller_requests_total\{caller="key-[0-9a-f]{12}"\} 1/)
    for (const key of [KEY_ONE, KEY_TWO]) {
      expect(gw.logs.join('')).not.toContain(key)
      expect(metrics).not.toContain(key)
    }
  })

  it('reloads names, scopes and rates with the keys', async () => {
    const env = await keyFile()
    const gw = await h.gateway(env)
    expect((await getJson(devices(gw.url, 5), bearer(KEY_ONE))).status).toBe(403)
    await writeFile(env.GATEWAY_API_KEYS_FILE, `${KEY_ONE} name=portal users=5 rate=3\n`)
    await gw.app.auth.reload()
    const res = await getJson(devices(gw.url, 5), bearer(KEY_ONE))
    expect(res.status).toBe(200)
    expect(res.headers.get('ratelimit-limit')).toBe('3')
    expect((await getJson(devices(gw.url, 2), bearer(KEY_ONE))).status).toBe(403)
  })

  it('refuses to start on a malformed line, naming its number and never the key', async () => {
    const path = join(h.dir, 'malformed.keys')
    await writeFile(path, `${KEY_ONE} users=2\n\n${KEY_TWO} users=9-1\n`)
    const failure = await h.gateway({ GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: path }).then(() => undefined, (err: Error) => err)
    expect(failure?.message).toContain('GATEWAY_API_KEYS_FILE has unusable lines: line 3: users= must be')
    expect(failure?.message).not.toContain(KEY_TWO)
  })
})

describe('scopes on Redis hits', () => {
  let redis: TestRedis
  beforeAll(async () => { redis = await startRedis() })
  afterAll(async () => { await redis.close() })

  it('refuses a Redis hit cached by another caller to a key outside its user', async () => {
    const env = { ...await keyFile(), REDIS_URL: redis.url, CACHE_MAX_ENTRIES: '0' }
    const gw = await h.gateway(env)
    expect((await getJson(devices(gw.url, 3), bearer(KEY_TWO))).status).toBe(200)
    // The entry reaches Redis just after the answer.
    await waitFor(async () => (await fetch(devices(gw.url, 3), { headers: bearer(KEY_TWO) })).headers.get('cache-status')?.includes('hit') === true, { what: 'a Redis hit' })
    const before = h.sim.calls.total
    expect((await getJson(devices(gw.url, 3), bearer(KEY_THREE))).body).toStrictEqual(FORBIDDEN)
    expect((await getJson(devices(gw.url, 3), bearer(KEY_ONE))).status).toBe(200)
    expect(h.sim.calls.total).toBe(before)
  })
})

describe('JWTs from an identity provider', () => {
  let idp: IdentityProvider
  let key: SigningKey
  beforeAll(async () => {
    key = await signingKey('gw-1', 'ES256')
    idp = await startIdentityProvider([key])
  })
  afterAll(async () => { await idp.close() })

  it('reads the users the token\'s claim names, on the route, the lane and /v1/me/devices', async () => {
    const gw = await h.gateway(jwtEnv(idp))
    const value = await token(key, { mor_user_id: 2 })
    expect((await getJson(devices(gw.url, 2), bearer(value))).status).toBe(200)
    const hit = await fetch(devices(gw.url, 2), { headers: bearer(value) })
    expect(hit.headers.get('cache-status')).toContain('hit')
    expect((await getJson(devices(gw.url, 3), bearer(value))).body).toStrictEqual(FORBIDDEN)
    const mine = await getJson(`${gw.url}/v1/me/devices`, bearer(value))
    expect(mine.status).toBe(200)
    expect((mine.body as { userId: number }).userId).toBe(2)
    // API keys keep working beside tokens.
    expect((await getJson(devices(gw.url, 3))).status).toBe(200)
  })

  it('answers 401 invalid_token for expired, forged and foreign tokens, with one detail for all', async () => {
    const gw = await h.gateway(jwtEnv(idp))
    const now = Math.floor(Date.now() / 1000)
    const other = await signingKey('gw-1', 'ES256')
    const refused = [
      await token(key, { exp: now - 120 }),
      await token(key, { iss: 'https://evil.example/' }),
      await token(other),
      `${(await token(key)).slice(0, -6)}AAAAAA`
    ]
    for (const value of refused) {
      const res = await getJson(devices(gw.url, 2), bearer(value))
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe(INVALID_TOKEN_CHALLENGE)
      expect(res.body).toStrictEqual(INVALID_KEY)
    }
    for (const value of refused) expect(gw.logs.join('')).not.toContain(value.split('.')[2])
  })

  it('counts every token of one subject against one rate', async () => {
    const gw = await h.gateway({ ...jwtEnv(idp), RATE_LIMIT_PER_MINUTE: '2' })
    const statuses = []
    for (let i = 0; i < 3; i++) {
      // A fresh token each time (another iat/exp), one subject.
      const value = await token(key, { sub: 'carol', exp: Math.floor(Date.now() / 1000) + 600 + i })
      statuses.push((await getJson(devices(gw.url, 2), bearer(value))).status)
    }
    expect(statuses).toStrictEqual([200, 200, 429])
    expect((await getJson(devices(gw.url, 2), bearer(await token(key, { sub: 'dave' })))).status).toBe(200)
  })

  it('answers 401, never 500, while the provider is down and the key is unknown; known keys still verify', async () => {
    const gw = await h.gateway(jwtEnv(idp))
    expect((await getJson(devices(gw.url, 2), bearer(await token(key, { sub: 'before' })))).status).toBe(200)
    idp.down = true
    try {
      expect((await getJson(devices(gw.url, 2), bearer(await token(key, { sub: 'during' })))).status).toBe(200)
      const unknown = await signingKey('gw-rotated', 'ES256')
      expect((await getJson(devices(gw.url, 2), bearer(await token(unknown)))).status).toBe(401)
    } finally {
      idp.down = false
    }
  })

  it('refuses to start without JWT_ISSUER and JWT_AUDIENCE, or with a key shaped like a token', async () => {
    const failure = await h.gateway({ JWT_JWKS_URL: idp.url }).then(() => undefined, (err: Error) => err)
    expect(failure?.message).toContain('JWT_ISSUER is required')
    expect(failure?.message).toContain('JWT_AUDIENCE is required')
    const shaped = await h.gateway({ ...jwtEnv(idp), GATEWAY_API_KEYS: 'abcdefgh.ijklmnop.qrstuvwx' }).then(() => undefined, (err: Error) => err)
    expect(shaped?.message).toContain('shaped like a JWT')
    expect(shaped?.message).not.toContain('abcdefgh')
  })
})
