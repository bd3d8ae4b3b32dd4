// Filters and paging of GET /v1/users/{userId}/devices (and /v1/me/devices) over real HTTP against
// the MOR simulator: pages cut from one cached list, Link headers, cursors bound to one version of
// the list, a 400 that names the parameter, and an ETag (and 304) per variant and coding.
import { describe, expect, it } from 'vitest'
import type { AddressInfo } from 'node:net'
import { findUser, LARGE_USER_ID, type SimUser } from '../../src/demo/data.js'
import { AUTH, getJson, type TestGateway } from '../helpers/gateway.js'
import { followLinks } from '../helpers/pages.js'
import { closeAfterTest, gateway, sharedGateway, simulator } from '../helpers/scoped.js'
import { startRedis } from '../helpers/redis-server.js'
import { waitFor } from '../helpers/wait.js'
import { problem } from '../helpers/expected.js'
import { rawRequest } from '../helpers/raw-http.js'
import { writeFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { withinOneTick } from '../helpers/one-tick.js'

interface Page { userId: number, devices: Array<{ id: number, type: string, primary: boolean | null }>, nextCursor: string | null }

const invalid = (detail: string) => problem('invalid-request', 'Invalid request', 400, detail)

async function laneAnswers (gw: TestGateway): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text()
  return Number(/^gateway_hit_lane_answers_total (\d+)$/m.exec(text)?.[1] ?? NaN)
}

describe('paging and filters', () => {
  const shared = sharedGateway()

  it('pages a 5,000-device user by its Link headers with one MOR call in all, in MOR\'s order', async () => {
    const { gw, sim } = shared
    const whole = await getJson(`${gw.url}/v1/users/${LARGE_USER_ID}/devices`)
    const pages = await followLinks<Page>(gw, `/v1/users/${LARGE_USER_ID}/devices?limit=700`)
    expect(pages.map((p) => p.devices.length)).toStrictEqual([700, 700, 700, 700, 700, 700, 700, 100])
    expect(pages.flatMap((p) => p.devices)).toStrictEqual((whole.body as Page).devices)
    expect(sim.calls.byUser.get(String(LARGE_USER_ID))).toBe(1)
  })

  it('filters by type (any case) and primary before paging', async () => {
    const { gw } = shared
    const ids = async (query: string) => ((await getJson(`${gw.url}/v1/users/2/devices?${query}`)).body as Page).devices.map((d) => d.id)
    expect(await ids('type=fax')).toStrictEqual([7])
    expect(await ids('type=SIP,Fax')).toStrictEqual([5, 6, 7])
    expect(await ids('type=sip&primary=false')).toStrictEqual([6])
    expect(await ids('primary=true')).toStrictEqual([5])
    expect(await ids('type=h323')).toStrictEqual([])
    const pages = await followLinks<Page>(gw, '/v1/users/2/devices?type=sip&limit=1')
    expect(pages.map((p) => p.devices.map((d) => d.id))).toStrictEqual([[5], [6]])
  })

  it('answers 400 naming the parameter for unknown parameters, bad values and foreign cursors', async () => {
    const { gw } = shared
    const cases: Array<[string, string]> = [
      ['fields=all', 'Unknown query parameter "fields": this operation takes type, primary, limit, cursor'],
      ['limit=0', 'Query parameter "limit" must be an integer from 1 to 1000'],
      ['limit=1001', 'Query parameter "limit" must be an integer from 1 to 1000'],
      ['primary=yes', 'Query parameter "primary" must be true or false'],
      ['limit=2&limit=3', 'Query parameter "limit" is given more than once'],
      ['cursor=bm90LWEtY3Vyc29y', 'Query parameter "cursor" is not a cursor this gateway issued for this user']
    ]
    for (const [query, detail] of cases) {
      const res = await getJson(`${gw.url}/v1/users/2/devices?${query}`)
      expect(res.status, query).toBe(400)
      expect(res.body, query).toStrictEqual(invalid(detail))
    }
    // A cursor of one user is no cursor for another, nor for other filters.
    const cursor = ((await getJson(`${gw.url}/v1/users/2/devices?limit=1`)).body as Page).nextCursor
    expect((await getJson(`${gw.url}/v1/users/3/devices?limit=1&cursor=${cursor}`)).status).toBe(400)
    expect((await getJson(`${gw.url}/v1/users/2/devices?limit=1&type=sip&cursor=${cursor}`)).body)
      .toStrictEqual(invalid('Query parameter "cursor" was issued with other filters: send the same type and primary as the page it came from'))
    // The value of a mistyped parameter is never echoed: it may be a credential.
    const leak = await getJson(`${gw.url}/v1/users/2/devices?api_key=s3cr3t-k3y`)
    expect(JSON.stringify(leak.body)).not.toContain('s3cr3t')
  })

  it('gives each variant and coding its own ETag and its own 304', async () => {
    const { gw } = shared
    const base = `${gw.url}/v1/users/${LARGE_USER_ID}/devices`
    const whole = await getJson(base)
    const page = await getJson(`${base}?limit=100`)
    const filtered = await getJson(`${base}?limit=100&type=sip`)
    const tags = [whole, page, filtered].map((res) => res.headers.get('etag'))
    expect(new Set(tags).size).toBe(3)
    for (const [res, url] of [[page, `${base}?limit=100`], [filtered, `${base}?limit=100&type=sip`]] as const) {
      const tag = res.headers.get('etag') ?? ''
      expect((await getJson(url, { 'if-none-match': tag })).status).toBe(304)
      expect((await getJson(base, { 'if-none-match': tag })).status).toBe(200)
    }
    // A page over 1 KiB is compressed (fetch asks for br and gzip), with a tag of its own coding.
    const identity = await getJson(`${base}?limit=100`, { 'accept-encoding': 'identity' })
    const plainTag = identity.headers.get('etag') ?? ''
    expect(identity.body).toStrictEqual(page.body)
    expect([`${plainTag.slice(0, -1)}-br"`, `${plainTag.slice(0, -1)}-gzip"`]).toContain(tags[1])
    const gz = await fetch(`${base}?limit=100`, { headers: { ...AUTH, 'accept-encoding': 'gzip' } })
    const bytes = Buffer.from(await gz.arrayBuffer())
    expect(gz.headers.get('content-encoding')).toBe('gzip')
    const gzTag = gz.headers.get('etag') ?? ''
    expect(gzTag).toBe(`${plainTag.slice(0, -1)}-gzip"`)
    // fetch has undone the gzip already.
    expect(JSON.parse(bytes.toString())).toStrictEqual(page.body)
    expect((await fetch(`${base}?limit=100`, { headers: { ...AUTH, 'accept-encoding': 'gzip', 'if-none-match': gzTag } })).status).toBe(304)
    expect((await getJson(`${base}?limit=100`, { 'accept-encoding': 'identity', 'if-none-match': plainTag })).status).toBe(304)
  })

  it('serves page hits from the hit lane with the route\'s exact answer', async () => {
    const { gw } = shared
    const url = '/v1/users/2/devices?type=SIP&limit=1'
    await getJson(`${gw.url}${url}`)
    const comparable = (headers: Record<string, unknown>) => Object.fromEntries(Object.entries(headers)
      .filter(([name]) => !['date', 'connection', 'keep-alive', 'transfer-encoding', 'x-request-id', 'ratelimit-remaining'].includes(name)))
    const { res, laneBody, byLane, route, laneHeaders, routeHeaders } = await withinOneTick(async () => {
      const before = await laneAnswers(gw)
      const res = await fetch(`${gw.url}${url}`, { headers: AUTH })
      const laneBody = await res.text()
      const byLane = await laneAnswers(gw) - before
      const route = await gw.app.inject({ method: 'GET', url, headers: AUTH })
      return { res, laneBody, byLane, route, laneHeaders: comparable(Object.fromEntries(res.headers.entries())), routeHeaders: comparable(route.headers) }
    })
    expect(byLane).toBe(1)
    expect(laneBody).toBe(route.body)
    expect(laneHeaders).toStrictEqual(routeHeaders)
    expect(res.headers.get('link')).toMatch(/^<\/v1\/users\/2\/devices\?type=sip&limit=1&cursor=[A-Za-z0-9_-]+>; rel="next"$/)
  })

  it('refuses floods of parameters and oversized queries over a raw socket without trouble', async () => {
    const { gw } = shared
    const { port } = gw.app.server.address() as AddressInfo
    const repeated = Array.from({ length: 1500 }, () => 'type=sip').join('&')
    const flood = await rawRequest(port, `GET /v1/users/2/devices?${repeated} HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.authorization}\r\nConnection: close\r\n\r\n`)
    expect(flood.status).toBe(400)
    expect(flood.body).toContain('given more than once')
    const huge = await rawRequest(port, `GET /v1/users/2/devices?type=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.authorization}\r\nConnection: close\r\n\r\n`)
    expect(huge.status).toBe(431)
    expect((await getJson(`${gw.url}/v1/users/2/devices?limit=1`)).status).toBe(200)
  })
})

describe('cursors and list versions', () => {
  it('answers 409 stale-cursor once the list has changed, and keeps cursors across an unchanged refresh', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    const url = `${gw.url}/v1/users/2/devices`
    const first = (await getJson(`${url}?limit=1`)).body as Page
    // Revalidated with MOR, unchanged: the cursor still pages on.
    await getJson(url, { 'cache-control': 'no-cache' })
    const second = await getJson(`${url}?limit=1&cursor=${first.nextCursor}`)
    expect(second.status).toBe(200)
    expect((second.body as Page).devices.map((d) => d.id)).toStrictEqual([6])
    // MOR's list changes; after a refresh the old cursor is refused, never mixed with the new list.
    const alice = findUser(2) as SimUser
    sim.options.users = (id) => (id === 2 ? { ...alice, devices: alice.devices.slice(1) } : findUser(id))
    await getJson(url, { 'cache-control': 'no-cache' })
    const stale = await getJson(`${url}?limit=1&cursor=${first.nextCursor}`)
    expect(stale.status).toBe(409)
    expect(stale.body).toStrictEqual(problem('stale-cursor', 'Stale cursor', 409, 'The list has changed since this cursor was issued: start again from the first page'))
    expect(sim.calls.byUser.get('2')).toBe(3)
  })

  it('pages /v1/me/devices with Links to its own path', async () => {
    const sim = await simulator()
    const keyFile = join(await mkdtemp(join(tmpdir(), 'paging-')), 'keys')
    await writeFile(keyFile, 'alice-key-0123456789abcdef users=2\n')
    const gw = await gateway(sim.url, { GATEWAY_API_KEYS_FILE: keyFile })
    const headers = { authorization: 'Bearer alice-key-0123456789abcdef' }
    const pages = await followLinks<Page>(gw, '/v1/me/devices?limit=2', headers)
    expect(pages.map((p) => p.devices.map((d) => d.id))).toStrictEqual([[5, 6], [7]])
    const bad = await getJson(`${gw.url}/v1/me/devices?limit=x`, headers)
    expect(bad.body).toStrictEqual(invalid('Query parameter "limit" must be an integer from 1 to 1000'))
  })

  it('pages across instances from the list in Redis: one MOR call, cursors valid on either', async () => {
    const redis = await startRedis()
    closeAfterTest(() => redis.close())
    const sim = await simulator()
    // In-process tier off on both, so every page is cut from the entry read back from Redis.
    const env = { REDIS_URL: redis.url, CACHE_MAX_ENTRIES: '0' }
    const [a, b] = [await gateway(sim.url, env), await gateway(sim.url, env)]
    await waitFor(() => a.app.redisStore?.available === true && b.app.redisStore?.available === true)
    const first = await getJson(`${a.url}/v1/users/${LARGE_USER_ID}/devices?limit=1000&type=sip`)
    const cursor = (first.body as Page).nextCursor
    expect(cursor).toEqual(expect.any(String))
    const onB = await getJson(`${b.url}/v1/users/${LARGE_USER_ID}/devices?limit=1000&type=sip&cursor=${cursor}`)
    expect(onB.status).toBe(200)
    const whole = ((await getJson(`${b.url}/v1/users/${LARGE_USER_ID}/devices?type=sip`)).body as Page).devices
    expect([...(first.body as Page).devices, ...(onB.body as Page).devices]).toStrictEqual(whole.slice(0, 2000))
    expect(sim.calls.byUser.get(String(LARGE_USER_ID))).toBe(1)
  })
})
