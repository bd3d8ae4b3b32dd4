// The JSON device writes across instances, over real sockets: two gateways sharing one real
// redis-server and one MOR simulator. An Idempotency-Key seen on one instance is known on the
// other (replay, reuse, concurrent duplicates); a write on one instance is seen at once by the
// other's reads; Redis down refuses keyed writes only; writes are charged to the caller's upstream
// budget; and a JWT may write only with the devices:write scope.
import { describe, expect, it } from 'vitest'
import { CREATED_DEVICE_IDS } from '../../src/demo/data.js'
import type { MorSimulator } from '../../src/demo/simulator.js'
import { getJson, sendJson, type TestGateway } from '../helpers/gateway.js'
import { problem } from '../helpers/expected.js'
import { bearer, BUDGET_SPENT } from '../helpers/callers.js'
import { keyFile } from '../helpers/key-file.js'
import { closeAfterTest, gateway, simulator } from '../helpers/scoped.js'
import { startRedis } from '../helpers/redis-server.js'
import { jwtEnv, signingKey, startIdentityProvider, token } from '../helpers/identity-provider.js'
import { waitFor } from '../helpers/wait.js'

const WRITER = 'writer-key-0123456789abcdef'
const OTHER_WRITER = 'other-writer-0123456789abc'
const W = bearer(WRITER)

const keys = keyFile([
    `${WRITER} name=portal users=2-5 access=read,write`,
    `${OTHER_WRITER} name=other users=2-5 access=read,write`
])

// A loaded machine must not shed these requests (503 overloaded): they are about what reaches MOR.
const KEYS = () => ({ ...keys.env, MAX_EVENT_LOOP_DELAY_MS: '60000' })
const writes = (sim: MorSimulator, method: string) => sim.calls.writes.get(method) ?? 0
const cacheStatus = (res: { headers: Headers }) => res.headers.get('cache-status') ?? ''
const typeOf = (body: unknown) => (body as { type?: string } | undefined)?.type
const list = (gw: TestGateway, userId: number) => getJson(`${gw.url}/v1/users/${userId}/devices`, W)
const details = (gw: TestGateway, deviceId: number) => getJson(`${gw.url}/v1/devices/${deviceId}`, W)
const ids = (body: unknown) => (body as { devices: Array<{ id: number }> }).devices.map((d) => d.id)

const REUSED = problem('idempotency-key-reused', 'Idempotency key reused', 422, 'This Idempotency-Key was used for a different request; use a new key for a new request')
const IN_USE = problem('idempotency-key-in-use', 'Request with this idempotency key in progress', 409, 'The first request with this Idempotency-Key is still running; send it again in a moment to get its answer')
const UNAVAILABLE = problem('idempotency-unavailable', 'Idempotency keys unavailable', 503, 'Redis cannot be reached, so a retry of this request could not be recognised on another instance')

/** Two instances on one redis-server and one simulator, each knowing the other on the bus. */
async function pair (env: Record<string, string> = {}) {
  const redis = await startRedis()
  closeAfterTest(() => redis.close())
  const sim = await simulator()
  const settings = { ...KEYS(), REDIS_URL: redis.url, ...env }
  const a = await gateway(sim.url, settings)
  const b = await gateway(sim.url, settings)
  await waitFor(() => a.app.invalidation.peers === 1 && b.app.invalidation.peers === 1, { what: 'both instances to know each other on the bus' })
  return { redis, sim, a, b }
}

describe('Idempotency-Key across instances through Redis', () => {
  it('a keyed create retried on the other instance gets the first answer byte for byte, and MOR creates one device', async () => {
    const { sim, a, b } = await pair()
    const key = { ...W, 'idempotency-key': '"cross-instance-1"' }
    const body = { type: 'SIP', description: 'Lobby phone', extension: '299' }
    const first = await sendJson('POST', `${a.url}/v1/users/2/devices`, body, key)
    expect(first.status, first.text).toBe(201)
    expect(first.headers.get('location')).toBe(`/v1/devices/${CREATED_DEVICE_IDS.first}`)
    expect(first.headers.get('idempotent-replayed')).toBeNull()
    // The same request, its fields in another order, on the other instance.
    const again = await sendJson('POST', `${b.url}/v1/users/2/devices`, { extension: '299', description: 'Lobby phone', type: 'SIP' }, key)
    expect(again.status, again.text).toBe(201)
    expect(again.text).toBe(first.text)
    expect(again.headers.get('location')).toBe(first.headers.get('location'))
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'))
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(writes(sim, 'device_create')).toBe(1)
    expect(ids((await list(b, 2)).body)).toStrictEqual([5, 6, 7, CREATED_DEVICE_IDS.first])
  })

  it('the same key with another body on the other instance is 422 idempotency-key-reused, and MOR is not called again', async () => {
    const { sim, a, b } = await pair()
    const key = { ...W, 'idempotency-key': '"cross-instance-2"' }
    expect((await sendJson('PATCH', `${a.url}/v1/devices/6`, { description: 'first' }, key)).status).toBe(200)
    const calls = sim.calls.total
    const other = await sendJson('PATCH', `${b.url}/v1/devices/6`, { description: 'second' }, key)
    expect(other.status).toBe(422)
    expect(other.body).toStrictEqual(REUSED)
    expect(writes(sim, 'device_update')).toBe(1)
    expect(sim.calls.total).toBe(calls)
    expect((await details(b, 6)).body).toMatchObject({ id: 6, description: 'first' })
  })

  it('of 10 identical keyed creates at once over both instances, MOR sees one; the rest are 409 or the replay; a retry on either replays the 201', async () => {
    const { sim, a, b } = await pair()
    // MOR slow enough that the duplicates arrive while the first one runs.
    sim.options.delayMs = 300
    const key = { ...W, 'idempotency-key': '"burst-across"' }
    const body = { type: 'SIP', description: 'burst' }
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      sendJson('POST', `${(i % 2 === 0 ? a : b).url}/v1/users/5/devices`, body, key)))
    expect(writes(sim, 'device_create')).toBe(1)
    expect(answers.filter((res) => res.status !== 201 && res.status !== 409).map((res) => [res.status, res.text])).toStrictEqual([])
    const created = answers.filter((res) => res.status === 201 && res.headers.get('idempotent-replayed') === null)
    expect(created).toHaveLength(1)
    const first = created[0] as (typeof answers)[number]
    expect(first.headers.get('location')).toBe(`/v1/devices/${CREATED_DEVICE_IDS.first}`)
    for (const res of answers.filter((r) => r !== first)) {
      if (res.status === 409) expect(res.body).toStrictEqual(IN_USE)
      else expect([res.text, res.headers.get('idempotent-replayed')]).toStrictEqual([first.text, 'true'])
    }
    expect(answers.filter((res) => res.status === 409).length).toBeGreaterThanOrEqual(1)
    sim.options.delayMs = 0
    for (const gw of [a, b]) {
      const retry = await sendJson('POST', `${gw.url}/v1/users/5/devices`, body, key)
      expect([retry.status, retry.text, retry.headers.get('location'), retry.headers.get('idempotent-replayed')])
        .toStrictEqual([201, first.text, first.headers.get('location'), 'true'])
    }
    expect(writes(sim, 'device_create')).toBe(1)
  })
})

describe('a write on one instance, read at once on the other', () => {
  /** Both instances hold the user's list and the device; B's second reads are hits from its own memory. */
  async function warm (a: TestGateway, b: TestGateway, userId: number, deviceId: number) {
    for (const gw of [b, a, b]) {
      expect((await list(gw, userId)).status).toBe(200)
      expect((await details(gw, deviceId)).status).toBe(200)
    }
    const [cachedList, cachedDevice] = [await list(b, userId), await details(b, deviceId)]
    expect(cacheStatus(cachedList)).toMatch(/hit/)
    expect(cacheStatus(cachedDevice)).toMatch(/hit/)
    return cachedList
  }

  it('PATCH on A: B shows the new details and the new list with no wait', async () => {
    const { sim, a, b } = await pair()
    const before = await warm(a, b, 2, 5)
    expect((before.body as { devices: Array<{ id: number, callerId: string }> }).devices[0]).toMatchObject({ id: 5, callerId: '"Alice" <201>' })
    const patched = await sendJson('PATCH', `${a.url}/v1/devices/5`, { description: 'Changed on A', callerIdName: 'Front' }, W)
    expect(patched.status).toBe(200)
    const device = await details(b, 5)
    expect(device.body).toMatchObject({ id: 5, description: 'Changed on A', callerId: '"Front" <201>' })
    expect(device.headers.get('etag')).toBe(patched.headers.get('etag'))
    const after = await list(b, 2)
    expect(cacheStatus(after)).not.toMatch(/hit/)
    expect((after.body as { devices: Array<{ id: number, callerId: string }> }).devices[0]).toMatchObject({ id: 5, callerId: '"Front" <201>' })
    expect(writes(sim, 'device_update')).toBe(1)
  })

  it('DELETE on A: B answers 404 for the device and its list lacks it, with no wait', async () => {
    const { sim, a, b } = await pair()
    expect(ids((await warm(a, b, 5, 84)).body)).toContain(84)
    expect((await sendJson('DELETE', `${a.url}/v1/devices/84`, undefined, W)).status).toBe(204)
    const gone = await details(b, 84)
    expect(gone.status).toBe(404)
    expect(typeOf(gone.body)).toBe('/problems/device-not-found')
    const after = await list(b, 5)
    expect(after.status).toBe(200)
    expect(ids(after.body)).not.toContain(84)
    expect(ids(after.body).length).toBeGreaterThan(0)
    expect(writes(sim, 'device_delete')).toBe(1)
  })

  it('POST on A: the new device is in B\'s list of that user, with no wait', async () => {
    const { sim, a, b } = await pair()
    await list(b, 3)
    expect(cacheStatus(await list(b, 3))).toMatch(/hit/)
    expect(ids((await list(a, 3)).body)).toStrictEqual([55])
    const created = await sendJson('POST', `${a.url}/v1/users/3/devices`, { type: 'IAX2' }, W)
    expect(created.status).toBe(201)
    expect(ids((await list(b, 3)).body)).toStrictEqual([55, CREATED_DEVICE_IDS.first])
    expect((await details(b, CREATED_DEVICE_IDS.first)).body).toMatchObject({ id: CREATED_DEVICE_IDS.first, userId: 3, type: 'IAX2' })
    expect(writes(sim, 'device_create')).toBe(1)
  })
})

describe('Redis down', () => {
  async function single () {
    const redis = await startRedis()
    closeAfterTest(() => redis.close())
    const sim = await simulator()
    const gw = await gateway(sim.url, { ...KEYS(), REDIS_URL: redis.url })
    await waitFor(() => gw.app.redisStore?.available === true, { what: 'the gateway to reach Redis' })
    return { redis, sim, gw }
  }

  /** A write sent with plain fetch: its answer is checked here, not against the contract. */
  async function rawPatch (gw: TestGateway, deviceId: number, body: unknown, headers: Record<string, string>) {
    const res = await fetch(`${gw.url}/v1/devices/${deviceId}`, {
      method: 'PATCH',
      headers: { ...headers, 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify(body)
    })
    return { status: res.status, headers: res.headers, body: JSON.parse(await res.text()) as unknown }
  }

  it('refuses a keyed write with 503 idempotency-unavailable before MOR is called; an unkeyed one goes on; keyed writes work again once Redis is back', async () => {
    const { redis, sim, gw } = await single()
    await redis.stop()
    await waitFor(() => gw.app.redisStore?.available === false, { what: 'the gateway to notice Redis is gone' })
    const keyed = { ...W, 'idempotency-key': '"while-down"' }
    const refused = await rawPatch(gw, 5, { description: 'keyed' }, keyed)
    expect(refused.status).toBe(503)
    expect(refused.headers.get('content-type')).toBe('application/problem+json; charset=utf-8')
    expect(refused.body).toStrictEqual(UNAVAILABLE)
    expect(writes(sim, 'device_update')).toBe(0)
    expect(sim.calls.total).toBe(0)

    const unkeyed = await sendJson('PATCH', `${gw.url}/v1/devices/5`, { description: 'unkeyed' }, W)
    expect(unkeyed.status).toBe(200)
    expect(unkeyed.body).toMatchObject({ id: 5, description: 'unkeyed' })
    expect(writes(sim, 'device_update')).toBe(1)

    await redis.start()
    await waitFor(() => gw.app.redisStore?.available === true, { timeoutMs: 10_000, what: 'the gateway to reach Redis again' })
    const first = await sendJson('PATCH', `${gw.url}/v1/devices/5`, { description: 'keyed' }, keyed)
    expect(first.status).toBe(200)
    expect(first.body).toMatchObject({ id: 5, description: 'keyed' })
    const replay = await sendJson('PATCH', `${gw.url}/v1/devices/5`, { description: 'keyed' }, keyed)
    expect([replay.status, replay.text, replay.headers.get('idempotent-replayed')]).toStrictEqual([200, first.text, 'true'])
    expect(writes(sim, 'device_update')).toBe(2)
  })

  it('says when to come back: the 503 idempotency-unavailable carries the Retry-After the contract documents', async () => {
    const { redis, sim, gw } = await single()
    await redis.stop()
    await waitFor(() => gw.app.redisStore?.available === false, { what: 'the gateway to notice Redis is gone' })
    // sendJson checks the answer against the committed contract, which documents Retry-After on this 503.
    const refused = await sendJson('PATCH', `${gw.url}/v1/devices/5`, { description: 'keyed' }, { ...W, 'idempotency-key': '"retry-after"' })
    expect([refused.status, refused.body]).toStrictEqual([503, UNAVAILABLE])
    expect(refused.headers.get('retry-after') ?? '').toMatch(/^[1-9][0-9]*$/)
    expect(writes(sim, 'device_update')).toBe(0)
  })
})

describe('the caller\'s upstream budget', () => {
  it('charges the owner read and the write: once spent, a write is 429 with Retry-After and nothing reaches MOR', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url, { ...KEYS(), UPSTREAM_BUDGET_PER_MINUTE: '2' })
    // A PATCH costs two calls from the budget: the device's owner, fresh from MOR, then the write.
    expect((await sendJson('PATCH', `${gw.url}/v1/devices/5`, { description: 'within budget' }, W)).status).toBe(200)
    expect(writes(sim, 'device_update')).toBe(1)
    const calls = sim.calls.total
    for (const [method, path, body] of [['POST', '/v1/users/2/devices', { type: 'SIP' }], ['PATCH', '/v1/devices/6', { description: 'x' }], ['DELETE', '/v1/devices/84', undefined]] as const) {
      const res = await sendJson(method, `${gw.url}${path}`, body, W)
      expect([method, res.status, res.body]).toStrictEqual([method, 429, BUDGET_SPENT])
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    }
    expect(sim.calls.total).toBe(calls)
    expect([writes(sim, 'device_create'), writes(sim, 'device_update'), writes(sim, 'device_delete')]).toStrictEqual([0, 1, 0])

    // Another caller: one read leaves one call, which the owner read takes; the write itself is refused.
    const other = bearer(OTHER_WRITER)
    expect((await getJson(`${gw.url}/v1/devices/6`, other)).status).toBe(200)
    const ownerReads = sim.calls.byDevice.get('6') ?? 0
    const refused = await sendJson('PATCH', `${gw.url}/v1/devices/6`, { description: 'over budget' }, { ...other, 'idempotency-key': '"over-budget"' })
    expect([refused.status, refused.body]).toStrictEqual([429, BUDGET_SPENT])
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(sim.calls.byDevice.get('6')).toBe(ownerReads + 1)
    expect(writes(sim, 'device_update')).toBe(1)
  })
})

describe('a JWT\'s write right', () => {
  it('a token with scope "openid devices:write" may write; one with only "openid" gets 403 forbidden and MOR is not asked', async () => {
    const key = await signingKey('writes-1', 'ES256')
    const idp = await startIdentityProvider([key])
    closeAfterTest(() => idp.close())
    const sim = await simulator()
    const gw = await gateway(sim.url, { ...jwtEnv(idp), MAX_EVENT_LOOP_DELAY_MS: '60000' })
    const writer = bearer(await token(key, { mor_user_id: 2, sub: 'writer', scope: 'openid devices:write' }))
    const reader = bearer(await token(key, { mor_user_id: 2, sub: 'reader', scope: 'openid' }))

    const patched = await sendJson('PATCH', `${gw.url}/v1/devices/5`, { description: 'by token' }, writer)
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ id: 5, userId: 2, description: 'by token' })
    const created = await sendJson('POST', `${gw.url}/v1/users/2/devices`, { type: 'SIP' }, writer)
    expect(created.status).toBe(201)
    expect(created.headers.get('location')).toBe(`/v1/devices/${CREATED_DEVICE_IDS.first}`)
    // Its user claim still bounds what it may change: user 5's device is not found.
    expect((await sendJson('DELETE', `${gw.url}/v1/devices/84`, undefined, writer)).status).toBe(404)

    const calls = sim.calls.total
    const forbidden = problem('forbidden', 'Forbidden', 403, 'This caller may read devices but not change them (an API key needs access=read,write; a token the devices:write scope)')
    for (const [method, path, body] of [['PATCH', '/v1/devices/5', { description: 'x' }], ['POST', '/v1/users/2/devices', { type: 'SIP' }], ['DELETE', '/v1/devices/5', undefined]] as const) {
      const res = await sendJson(method, `${gw.url}${path}`, body, reader)
      expect([method, res.status, res.body]).toStrictEqual([method, 403, forbidden])
    }
    expect(sim.calls.total).toBe(calls)
    expect((await getJson(`${gw.url}/v1/devices/5`, reader)).status).toBe(200)
    expect([writes(sim, 'device_create'), writes(sim, 'device_update'), writes(sim, 'device_delete')]).toStrictEqual([1, 1, 0])
  })
})
