// The contract, checked by a peer: Stoplight Prism as a validating proxy (helpers/prism.ts) in front
// of the real gateway and the MOR simulator. Every legitimate request of the integration scenarios
// must pass Prism's request and response validation without a single violation (warnings
// included); every request the contract forbids must be refused by Prism (422) and by the gateway
// itself (400). A request one accepts and the other refuses fails a test, whichever way round.
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { devicesGetHash, signParams } from '../../src/mor/sign.js'
import { getJson, startGateway, TEST_API_SECRET, TEST_API_USER, type TestGateway } from '../helpers/gateway.js'
import { refusedAt, startPrism, viaPrism, type Prism, type PrismAnswer } from '../helpers/prism.js'
import { waitFor } from '../helpers/wait.js'
import { LIST_QUERY } from './queries.js'

const KEY_ALL = 'contract-key-all-0123456789'
/** A caller of user 3 alone: /v1/me/devices answers for it, user 2 is forbidden to it. */
const KEY_SOLO = 'contract-key-solo-0123456789'
const auth = (key = KEY_ALL) => ({ authorization: `Bearer ${key}` })
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

let dir: string
let sim: MorSimulator
let gw: TestGateway
let prism: Prism

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mor-gateway-contract-'))
  const keys = join(dir, 'keys')
  await writeFile(keys, `${KEY_ALL} users=*\n${KEY_SOLO} users=3\n`)
  sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
  gw = await startGateway(sim.url, { GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: keys })
  prism = await startPrism(gw.url)
})
afterAll(async () => {
  await prism?.close()
  await gw?.close()
  await sim?.close()
  await rm(dir, { recursive: true, force: true })
})

/** Through Prism, which must find nothing wrong with the request or with the gateway's answer. */
async function passes (path: string, init: RequestInit, status: number): Promise<PrismAnswer> {
  const answer = await viaPrism(prism, path, init)
  expect({ path, status: answer.status, violations: answer.violations }).toStrictEqual({ path, status, violations: [] })
  return answer
}
const json = (answer: PrismAnswer) => JSON.parse(answer.text) as Record<string, unknown>

describe('Prism in front of the gateway', () => {
  it('passes the device operations: a list, filters, pages followed by their cursor, details, revalidation and 304s', async () => {
    const list = await passes('/v1/users/2/devices', { headers: auth() }, 200)
    expect(json(list)).toMatchObject({ userId: 2, nextCursor: null })
    await passes('/v1/users/2/devices', { headers: { ...auth(), 'if-none-match': list.headers.get('etag') ?? '' } }, 304)
    await passes('/v1/users/2/devices', { headers: { ...auth(), 'cache-control': 'no-cache' } }, 200)
    expect((json(await passes('/v1/users/2/devices?type=SIP,IAX2&primary=true', { headers: auth() }, 200)).devices as unknown[]).length).toBe(1)

    const first = await passes('/v1/users/100/devices?type=sip&limit=100', { headers: { ...auth(), 'accept-encoding': 'gzip' } }, 200)
    expect(json(first).nextCursor).toEqual(expect.any(String))
    const next = /^<([^>]+)>; rel="next"$/.exec(first.headers.get('link') ?? '')?.[1] ?? 'no Link header'
    const second = await passes(next, { headers: auth() }, 200)
    expect(json(second).devices).toHaveLength(100)
    await passes(`/v1/users/100/devices?limit=1000&cursor=${String(json(second).nextCursor)}&type=SIP`, { headers: auth() }, 200)

    const details = await passes('/v1/devices/5', { headers: auth() }, 200)
    expect(json(details)).toMatchObject({ id: 5, userId: 2 })
    await passes('/v1/devices/5', { headers: { ...auth(), 'if-none-match': details.headers.get('etag') ?? '' } }, 304)
    expect(json(await passes('/v1/me/devices?limit=10', { headers: auth(KEY_SOLO) }, 200))).toMatchObject({ userId: 3 })
  })

  it('passes the operations that need no credential: health probes, and problem pages as text and HTML', async () => {
    expect(json(await passes('/health/live', {}, 200))).toStrictEqual({ status: 'ok' })
    expect(json(await passes('/health/ready', {}, 200))).toMatchObject({ status: 'ready' })
    expect((await passes('/problems/stale-cursor', {}, 200)).text).toMatch(/^Stale cursor\n/)
    expect((await passes('/problems/internal-error', { headers: { accept: 'text/html' } }, 200)).text).toMatch(/^<!doctype html>/)
  })

  it('passes the README\'s legacy example (curl posting a form), and the same call as JSON, as a multipart form and as a GET', async () => {
    const form = `u=${TEST_API_USER}&user_id=2&hash=${devicesGetHash(2, TEST_API_SECRET)}`
    // The real client the README shows: curl --compressed --data, headers dumped before the body.
    const { stdout } = await promisify(execFile)('curl', ['-s', '--compressed', '--data', form, '-D', '-', `${prism.url}/billing/api/devices_get`])
    const [head = '', body = ''] = stdout.split('\r\n\r\n')
    expect(head.split('\r\n')[0]).toMatch(/^HTTP\/1\.1 200/)
    expect(head).not.toMatch(/^sl-violations:/im)
    expect(body).toContain('<device_id>5</device_id>')

    const fields = Object.fromEntries(new URLSearchParams(form))
    const multipart = new FormData()
    for (const [name, value] of Object.entries(fields)) multipart.set(name, value)
    for (const init of [
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...fields, user_id: 2 }) },
      { method: 'POST', body: multipart },
      { method: 'POST', headers: FORM, body: `${form}&show_hidden_devices=0&an_unknown_field=x` }
    ]) expect((await passes('/billing/api/devices_get', init, 200)).headers.get('content-type')).toMatch(/^text\/xml/)
    expect((await passes(`/billing/api/devices_get?${form}`, {}, 200)).text).toContain('<device_id>5</device_id>')
  })

  it('passes the problems the gateway answers to requests the contract accepts: 400, 401, 403, 404 and a stale cursor\'s 409', async () => {
    await passes('/v1/users/2/devices', { headers: auth('not-a-key-of-this-gateway') }, 401)
    await passes('/v1/users/2/devices', { headers: auth(KEY_SOLO) }, 403)
    await passes('/v1/me/devices', { headers: auth() }, 400)
    await passes('/v1/users/9/devices', { headers: auth() }, 404)
    await passes('/v1/devices/1', { headers: auth() }, 404)

    const page = json(await passes('/v1/users/5/devices?limit=2', { headers: auth() }, 200))
    const stale = `/v1/users/5/devices?limit=2&cursor=${String(page.nextCursor)}`
    await passes(stale, { headers: auth() }, 200)
    // A device created through the passthrough (through Prism too) changes the list the cursor belongs to.
    const created = await passes('/billing/api/device_create', { method: 'POST', headers: FORM, body: `u=${TEST_API_USER}&user_id=5&hash=${signParams(['5'], TEST_API_SECRET)}` }, 200)
    expect(created.text).not.toContain('<error>')
    await waitFor(async () => (await fetch(`${gw.url}${stale}`, { headers: auth() }).then(async (res) => { await res.arrayBuffer(); return res.status })) === 409, { what: 'the stale cursor' })
    expect(json(await passes(stale, { headers: auth() }, 409)).type).toBe('/problems/stale-cursor')
  })

  it('refuses, as the gateway does, every request the contract forbids: ids with leading zeros or out of range, bad type lists, limits, primary or cursor', async () => {
    const forbidden: Array<[string, string]> = [
      ['/v1/users/02/devices', 'path.userid'],
      ['/v1/users/2147483648/devices', 'path.userid'],
      ['/v1/users/-1/devices', 'path.userid'],
      ['/v1/devices/007', 'path.deviceid'],
      ['/v1/devices/1e3', 'path.deviceid'],
      ['/v1/users/2/devices?type=SIP%20IAX2', 'query.type'],
      ['/v1/users/2/devices?type=SIP,,IAX2', 'query.type'],
      [`/v1/users/2/devices?type=${'x'.repeat(33)}`, 'query.type'],
      [`/v1/users/2/devices?type=${Array.from({ length: 21 }, (_, i) => `t${i}`).join(',')}`, 'query.type'],
      ['/v1/users/2/devices?limit=0', 'query.limit'],
      ['/v1/users/2/devices?limit=1001', 'query.limit'],
      ['/v1/users/2/devices?limit=0100', 'query.limit'],
      ['/v1/users/2/devices?limit=1e2', 'query.limit'],
      ['/v1/users/2/devices?primary=1', 'query.primary'],
      ['/v1/users/2/devices?primary=TRUE', 'query.primary'],
      ['/v1/users/2/devices?cursor=not.a.cursor', 'query.cursor'],
      [`/v1/users/2/devices?cursor=${'A'.repeat(513)}`, 'query.cursor']
    ]
    for (const [path, where] of forbidden) {
      const refused = await viaPrism(prism, path, { headers: auth() })
      expect({ path, status: refused.status, at: refusedAt(refused) }).toStrictEqual({ path, status: 422, at: [where] })
      const direct = await getJson(`${gw.url}${path}`, auth())
      expect({ path, status: direct.status, type: (direct.body as { type: string }).type }).toStrictEqual({ path, status: 400, type: '/problems/invalid-request' })
    }
    // Prism reads an empty value as no value (its deserializer drops it before validating), though
    // the contract's patterns refuse it: the gateway's 400 for it is the contract's.
    for (const path of ['/v1/users/2/devices?type=', '/v1/users/2/devices?limit=', '/v1/users/2/devices?cursor=']) {
      await passes(path, { headers: auth() }, 400)
    }
    // What no OpenAPI document can say, an unknown or repeated query parameter, the gateway alone
    // refuses. An unknown problem type: outside the contract's enum for Prism, no such page for the gateway.
    expect(refusedAt(await viaPrism(prism, '/problems/no-such-problem'))).toStrictEqual(['path.slug'])
    expect((await getJson(`${gw.url}/problems/no-such-problem`)).status).toBe(404)
  })

  it('passes the catalogue operations: users, a user, calls and payments, pages followed by their cursor, 304s and their problems', async () => {
    const DAY = 'from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z'
    const users = json(await passes('/v1/users?limit=3', { headers: auth() }, 200))
    expect((users.users as unknown[]).length).toBe(3)
    await passes(`/v1/users?limit=3&cursor=${String(users.nextCursor)}`, { headers: auth() }, 200)
    expect(json(await passes('/v1/users', { headers: auth(KEY_SOLO) }, 200))).toMatchObject({ users: [{ id: 3 }], nextCursor: null })
    const alice = await passes('/v1/users/2', { headers: auth() }, 200)
    expect(json(alice)).toMatchObject({ id: 2, username: 'alice' })
    await passes('/v1/users/2', { headers: { ...auth(), 'if-none-match': alice.headers.get('etag') ?? '' } }, 304)
    await passes('/v1/users/9', { headers: auth() }, 404)
    await passes('/v1/users/2', { headers: auth(KEY_SOLO) }, 403)
    const calls = json(await passes(`/v1/users/2/calls?${DAY}&limit=2`, { headers: auth() }, 200))
    expect((calls.calls as unknown[]).length).toBe(2)
    await passes(`/v1/users/2/calls?${DAY}&limit=2&cursor=${String(calls.nextCursor)}`, { headers: auth() }, 200)
    await passes(`/v1/users/2/calls?${DAY}&status=no-answer&deviceId=5&destinationPrefix=3706`, { headers: auth() }, 200)
    // A period the schema takes and the gateway refuses (longer than 31 days): its 400 is the contract's.
    await passes('/v1/users/2/calls?from=2026-10-01T00:00:00Z&to=2026-12-01T00:00:00Z', { headers: auth() }, 400)
    await passes('/v1/users/2/payments?limit=1', { headers: auth() }, 200)
    await passes('/v1/users/3/payments', { headers: auth(KEY_SOLO) }, 200)

    const forbidden: Array<[string, string]> = [
      ['/v1/users/007', 'path.userid'],
      ['/v1/users?limit=0', 'query.limit'],
      ['/v1/users/2/calls?to=2026-11-02T00:00:00Z', 'query'],
      ['/v1/users/2/calls?from=2026-11-01&to=2026-11-02T00:00:00Z', 'query.from'],
      [`/v1/users/2/calls?${DAY}&status=weird`, 'query.status'],
      [`/v1/users/2/calls?${DAY}&deviceId=05`, 'query.deviceid'],
      [`/v1/users/2/calls?${DAY}&destinationPrefix=%2B44`, 'query.destinationprefix'],
      ['/v1/users/2/payments?limit=1001', 'query.limit']
    ]
    for (const [path, where] of forbidden) {
      const refused = await viaPrism(prism, path, { headers: auth() })
      // A time both outside its pattern and not a date-time is one refusal per rule: one place.
      expect({ path, status: refused.status, at: [...new Set(refusedAt(refused))] }).toStrictEqual({ path, status: 422, at: [where] })
      const direct = await getJson(`${gw.url}${path}`, auth())
      expect({ path, status: direct.status, type: (direct.body as { type: string }).type }).toStrictEqual({ path, status: 400, type: '/problems/invalid-request' })
    }
  })

  it('refuses exactly the generated list queries the gateway refuses', async () => {
    // Empty values aside: Prism does not validate them (above).
    const queries = LIST_QUERY.filter((query) => Object.values(query).every((value) => value !== ''))
    await fc.assert(fc.asyncProperty(queries, async (query) => {
      const path = `/v1/users/2/devices?${new URLSearchParams(query).toString()}`
      const [proxied, direct] = await Promise.all([viaPrism(prism, path, { headers: auth() }), fetch(`${gw.url}${path}`, { headers: auth() })])
      await direct.arrayBuffer()
      const prismSays = proxied.status === 422 ? 'refused' : proxied.status
      const gatewaySays = direct.status === 400 ? 'refused' : direct.status
      expect({ path, prismSays }).toStrictEqual({ path, prismSays: gatewaySays })
      if (prismSays !== 'refused') expect(proxied.violations).toStrictEqual([])
    }), { seed: 26, numRuns: 60 })
  })
})
