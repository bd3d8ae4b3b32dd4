// One truth across instances, over real sockets: an operator's purge on the internal listener
// drops a user's list or a device's details (and its owner's list) on every instance and in
// Redis, and a refresh on one instance makes the others serve the newer copy.
import { describe, expect, it } from 'vitest'
import { findUser, type SimUser } from '../../src/demo/data.js'
import { AUTH, getJson, type TestGateway } from '../helpers/gateway.js'
import { closeAfterTest, gateway, simulator } from '../helpers/scoped.js'
import { startRedis } from '../helpers/redis-server.js'
import { waitFor } from '../helpers/wait.js'
import { freePort } from '../helpers/gateway-process.js'
import { signParams } from '../../src/mor/sign.js'
import { TEST_API_SECRET, TEST_API_USER } from '../helpers/gateway.js'

const status = (res: { headers: Headers }) => res.headers.get('cache-status') ?? ''

async function withAdmin (simUrl: string, env: Record<string, string> = {}): Promise<{ gw: TestGateway, admin: string }> {
  const port = await freePort()
  const gw = await gateway(simUrl, { ...env, METRICS_PORT: String(port) })
  return { gw, admin: `http://127.0.0.1:${port}` }
}

const purge = async (admin: string, what: string) => (await fetch(`${admin}/admin/cache/${what}`, { method: 'DELETE' })).status

describe('purge on the internal listener', () => {
  it('drops a user\'s list, and a device\'s details with its owner\'s list; never on the public port', async () => {
    const sim = await simulator()
    const { gw, admin } = await withAdmin(sim.url)
    await getJson(`${gw.url}/v1/users/2/devices`)
    expect(status(await getJson(`${gw.url}/v1/users/2/devices`))).toMatch(/hit/)
    expect(await purge(admin, 'users/2')).toBe(204)
    expect(status(await getJson(`${gw.url}/v1/users/2/devices`))).toBe('mor-gateway; fwd=miss; stored')

    await getJson(`${gw.url}/v1/devices/5`)
    expect(await purge(admin, 'devices/5')).toBe(204)
    expect(status(await getJson(`${gw.url}/v1/devices/5`))).toBe('mor-gateway; fwd=miss; stored')
    // Device 5 is user 2's: the list that showed it went too.
    expect(status(await getJson(`${gw.url}/v1/users/2/devices`))).toBe('mor-gateway; fwd=miss; stored')
    expect(sim.calls.byUser.get('2')).toBe(3)

    const publicTry = await fetch(`${gw.url}/admin/cache/users/2`, { method: 'DELETE', headers: AUTH })
    expect(publicTry.status).toBe(404)
    const metrics = await (await fetch(`${admin}/metrics`)).text()
    expect(metrics).toMatch(/^gateway_cache_invalidations_purge_total 2$/m)
  })
})

describe('across instances sharing Redis', () => {
  async function pair () {
    const redis = await startRedis()
    closeAfterTest(() => redis.close())
    const sim = await simulator()
    const a = await withAdmin(sim.url, { REDIS_URL: redis.url })
    const b = await gateway(sim.url, { REDIS_URL: redis.url })
    await waitFor(() => a.gw.app.invalidation.peers === 1 && b.app.invalidation.peers === 1, { what: 'both instances to know each other on the bus' })
    return { sim, a, b }
  }

  it('a purge on one instance drops the copy every instance holds in memory, and the one in Redis', async () => {
    const { sim, a, b } = await pair()
    await getJson(`${a.gw.url}/v1/users/3/devices`)
    expect(status(await getJson(`${b.url}/v1/users/3/devices`))).toMatch(/hit/) // from Redis, now in B's memory too
    // The purge is answered once B has said it dropped its copy: no wait.
    expect(await purge(a.admin, 'users/3')).toBe(204)
    expect(status(await getJson(`${b.url}/v1/users/3/devices`))).toBe('mor-gateway; fwd=miss; stored')
    expect(sim.calls.byUser.get('3')).toBe(2)
  })

  it('a no-cache refresh on one instance replaces what the others serve', async () => {
    const { sim, a, b } = await pair()
    await getJson(`${a.gw.url}/v1/users/3/devices`)
    await getJson(`${b.url}/v1/users/3/devices`)
    const bob = findUser(3) as SimUser
    sim.options.users = (id) => (id === 3 ? { ...bob, devices: [...bob.devices, { device_id: 56, device_type: 'SIP' }] } : findUser(id))
    const refreshed = await getJson(`${a.gw.url}/v1/users/3/devices`, { 'cache-control': 'no-cache' })
    const ids = (body: unknown) => (body as { devices: Array<{ id: number }> }).devices.map((d) => d.id)
    expect(ids(refreshed.body)).toStrictEqual([55, 56])
    await waitFor(async () => ids((await getJson(`${b.url}/v1/users/3/devices`)).body).length === 2, { timeoutMs: 1000, what: 'B to serve the refreshed list' })
    expect(sim.calls.byUser.get('3')).toBe(2)
  })
})

/** A legacy client's signed form POST through the gateway's passthrough; MOR's answer as text. */
async function legacyWrite (base: string, method: string, params: Record<string, string>, hashed: readonly string[], secret = TEST_API_SECRET): Promise<string> {
  const body = new URLSearchParams({ u: TEST_API_USER, ...params, hash: signParams(hashed, secret) })
  const res = await fetch(`${base}/billing/api/${method}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  return res.text()
}
const deviceIds = (body: unknown) => (body as { devices: Array<{ id: number }> }).devices.map((d) => d.id)

describe('writes through the passthrough', () => {
  // One instance drops what a write makes stale before the writer has MOR's answer, so each check
  // follows its write at once: no wait, and nothing dropped later could hide behind one.
  it('make a created or destroyed device visible at once, and an error answer drops nothing', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    const list = `${gw.url}/v1/users/3/devices`
    expect(deviceIds((await getJson(list)).body)).toStrictEqual([55])
    // MOR hashes device_create's user_id and type (among others), in that order.
    expect(await legacyWrite(gw.url, 'device_create', { user_id: '3', type: 'SIP' }, ['3', 'SIP'], 'wrong-secret')).toContain('Incorrect hash')
    expect(status(await getJson(list))).toMatch(/hit/)
    expect(sim.calls.byUser.get('3')).toBe(1)

    expect(await legacyWrite(gw.url, 'device_create', { user_id: '3', type: 'SIP' }, ['3', 'SIP'])).toContain('<status>Device created</status>')
    const afterCreate = await getJson(list)
    expect(status(afterCreate)).toBe('mor-gateway; fwd=miss; stored')
    expect(deviceIds(afterCreate.body)).toHaveLength(2)
    const created = deviceIds(afterCreate.body)[1] as number
    expect((await getJson(`${gw.url}/v1/devices/${created}`)).status).toBe(200)

    expect(await legacyWrite(gw.url, 'device_destroy', { device: String(created) }, [String(created)])).toContain('Device was deleted')
    expect(deviceIds((await getJson(list)).body)).toStrictEqual([55])
    expect((await getJson(`${gw.url}/v1/devices/${created}`)).status).toBe(404)
  })

  // The other instance hears of the write on the Redis bus, and the writer's answer waits for it
  // to say it dropped its copy: its next read goes to MOR, with no wait.
  it('reach every instance: the other one drops its copy and reads the list from MOR again', async () => {
    const redis = await startRedis()
    closeAfterTest(() => redis.close())
    const sim = await simulator()
    const a = await gateway(sim.url, { REDIS_URL: redis.url })
    const b = await gateway(sim.url, { REDIS_URL: redis.url })
    await waitFor(() => a.app.invalidation.peers === 1 && b.app.invalidation.peers === 1, { what: 'both instances to know each other on the bus' })
    await getJson(`${a.url}/v1/users/2/devices`)
    expect(status(await getJson(`${b.url}/v1/users/2/devices`))).toMatch(/hit/)
    expect(await legacyWrite(a.url, 'device_update', { device: '6', description: 'moved' }, ['6'])).toContain('Device successfully updated')
    // Device 6 is user 2's, as both instances learnt from the list: the list goes too.
    expect(status(await getJson(`${b.url}/v1/users/2/devices`))).toBe('mor-gateway; fwd=miss; stored')
    expect(sim.calls.byUser.get('2')).toBe(2)
  })

  it('find a device\'s owner in Redis when no running instance has seen its list', async () => {
    const redis = await startRedis()
    closeAfterTest(() => redis.close())
    const sim = await simulator()
    const env = { REDIS_URL: redis.url }
    // The instance that fetched user 2's list is gone; the list stays in Redis.
    const first = await gateway(sim.url, env)
    await waitFor(() => first.app.redisStore?.available === true)
    await getJson(`${first.url}/v1/users/2/devices`)
    await first.close()
    const writer = await gateway(sim.url, env)
    await waitFor(() => writer.app.redisStore?.available === true)
    expect(await legacyWrite(writer.url, 'device_update', { device: '6', description: 'moved' }, ['6'])).toContain('Device successfully updated')
    const reader = await gateway(sim.url, env)
    await waitFor(() => reader.app.redisStore?.available === true)
    await waitFor(async () => status(await getJson(`${reader.url}/v1/users/2/devices`)) === 'mor-gateway; fwd=miss; stored', { timeoutMs: 1000, what: 'the list in Redis to be gone' })
    expect(sim.calls.byUser.get('2')).toBe(2)
  })
})
