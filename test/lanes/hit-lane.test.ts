// The hit lane over real sockets: a cache hit answered before the framework must be the answer the
// route gives (the same headers, body and rate-limit count), and every other request must reach
// the route untouched. The route's own answer comes from inject(), which bypasses the lane.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { AUTH, getJson, type TestGateway } from '../helpers/gateway.js'
import { gateway, simulator } from '../helpers/scoped.js'
import { startRedis } from '../helpers/redis-server.js'
import { closeAfterTest } from '../helpers/scoped.js'
import { waitFor } from '../helpers/wait.js'
import { withinOneTick } from '../helpers/one-tick.js'

// Headers only a socket answer has, and values that differ between any two answers.
const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding'])
const PER_REQUEST = new Set(['x-request-id', 'ratelimit-remaining'])

async function laneAnswers (gw: TestGateway): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text()
  return Number(/^gateway_hit_lane_answers_total (\d+)$/m.exec(text)?.[1] ?? NaN)
}

function comparable (headers: Record<string, string>) {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !TRANSPORT.has(name)).map(([name, value]) => [name, PER_REQUEST.has(name) ? '*' : value]))
}

describe('the hit lane', () => {
  it('answers a cache hit with exactly the headers and body the route gives', async () => {
    const gw = await gateway((await simulator()).url)
    const url = `${gw.url}/v1/users/3/devices`
    expect((await getJson(url)).headers.get('cache-status')).toBe('mor-gateway; fwd=miss; stored')
    expect(await laneAnswers(gw)).toBe(0)

    let attempts = 0
    const { res, laneBody, route, byLane, laneHeaders, routeHeaders } = await withinOneTick(async () => {
      attempts++
      const before = await laneAnswers(gw)
      const res = await fetch(url, { headers: AUTH })
      const laneBody = await res.text()
      const route = await gw.app.inject({ method: 'GET', url: '/v1/users/3/devices', headers: AUTH })
      return { res, laneBody, route, byLane: await laneAnswers(gw) - before, laneHeaders: comparable(Object.fromEntries(res.headers.entries())), routeHeaders: comparable(route.headers as Record<string, string>) }
    })
    // The socket's answer came from the lane; inject()'s did not.
    expect(byLane).toBe(1)

    expect(res.status).toBe(200)
    expect(route.statusCode).toBe(200)
    expect(laneBody).toBe(route.body)
    expect(laneHeaders).toStrictEqual(routeHeaders)
    expect(res.headers.get('cache-status')).toMatch(/^mor-gateway; hit; ttl=(59|60)$/)
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)

    // Both hits (of each attempt) count as hits, in the cache and request metrics alike.
    const metrics = await (await fetch(`${gw.url}/metrics`)).text()
    expect(metrics).toMatch(new RegExp(`^gateway_cache_results_total\\{result="hit"\\} ${2 * attempts}$`, 'm'))
    expect(metrics).toMatch(/^gateway_cache_results_total\{result="miss"\} 1$/m)
    expect(metrics).toMatch(new RegExp(`^gateway_http_request_duration_seconds_count\\{method="GET",route="/v1/users/:userId/devices",status="200"\\} ${1 + 2 * attempts}$`, 'm'))
  })

  it('keeps a sane X-Request-Id from the caller and logs the hit at debug without the key', async () => {
    const gw = await gateway((await simulator()).url)
    const url = `${gw.url}/v1/users/3/devices`
    await getJson(url)
    const res = await fetch(url, { headers: { ...AUTH, 'x-request-id': 'trace-lane-1' } })
    expect(res.headers.get('x-request-id')).toBe('trace-lane-1')
    expect(await laneAnswers(gw)).toBe(1)
    const lines = gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reqId === 'trace-lane-1')
    expect(lines).toMatchObject([
      { level: 20, msg: 'incoming request', req: { method: 'GET', url: '/v1/users/3/devices' } },
      { level: 20, msg: 'request completed', res: { statusCode: 200 }, req: { method: 'GET', url: '/v1/users/3/devices' } }
    ])
    expect(gw.logs.join('')).not.toContain(AUTH.authorization.slice(7))
  })

  it('counts every request once against the rate limit, whichever path answers it', async () => {
    const gw = await gateway((await simulator()).url, { RATE_LIMIT_PER_MINUTE: '6' })
    const url = `${gw.url}/v1/users/3/devices`
    const sent = [
      await getJson(url), // miss: counted by the lane, answered by the route
      await getJson(url), // hit: the lane
      await getJson(url, { 'cache-control': 'no-cache' }), // the route alone
      await getJson(url) // hit: the lane
    ]
    const etag = sent[0]?.headers.get('etag') ?? ''
    sent.push(await getJson(url, { 'if-none-match': etag })) // 304 from the route
    sent.push(await getJson(url)) // the last one allowed
    expect(sent.map((r) => [r.status, r.headers.get('ratelimit-remaining')])).toStrictEqual([
      [200, '5'], [200, '4'], [200, '3'], [200, '2'], [304, '1'], [200, '0']
    ])
    const limited = await getJson(url) // counted by the lane, refused by the route
    expect(limited.status).toBe(429)
    expect(limited.headers.get('ratelimit-remaining')).toBe('0')
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await laneAnswers(gw)).toBe(3)
  })

  it('hands every request it does not fully understand to the route', async () => {
    const gw = await gateway((await simulator()).url, { CORS_ORIGINS: 'https://app.example' })
    const url = `${gw.url}/v1/users/3/devices`
    const first = await getJson(url)
    const etag = first.headers.get('etag') ?? ''
    await getJson(`${gw.url}/v1/users/100/devices`) // 5,000 devices: big enough to compress
    const before = await laneAnswers(gw)

    expect((await getJson(url, { 'if-none-match': etag })).status).toBe(304)
    expect((await getJson(url, { 'cache-control': 'no-cache' })).headers.get('cache-status')).toBe('mor-gateway; fwd=request; stored')
    expect((await getJson(url, { pragma: 'no-cache' })).headers.get('cache-status')).toBe('mor-gateway; fwd=request; stored')
    expect((await getJson(url, { origin: 'https://app.example' })).headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect((await getJson(`${url}?fields=all`)).status).toBe(400)
    expect((await getJson(url, {}, { auth: false })).status).toBe(401)
    expect((await getJson(`${gw.url}/v1/users/03/devices`)).status).toBe(400)
    expect((await getJson(`${gw.url}/v1/users/2147483648/devices`)).status).toBe(400)
    expect((await fetch(url, { method: 'HEAD', headers: AUTH })).status).toBe(200)
    const big = await fetch(`${gw.url}/v1/users/100/devices`, { headers: { ...AUTH, 'accept-encoding': 'br' } })
    expect(big.headers.get('content-encoding')).toBe('br')
    await big.arrayBuffer()
    expect(await laneAnswers(gw)).toBe(before)

    // A plain hit still takes the lane, and says it varies by Origin like the route does.
    const hit = await fetch(url, { headers: AUTH })
    expect(hit.headers.get('vary')).toBe((await gw.app.inject({ url: '/v1/users/3/devices', headers: AUTH })).headers.vary)
    expect(await laneAnswers(gw)).toBe(before + 1)
  })
})

describe('the hit lane on the Redis tier', () => {
  it('answers hits from Redis, and hands over to the route while Redis is down', async () => {
    const redis = await startRedis()
    closeAfterTest(redis.close)
    const sim = await simulator()
    const gw = await gateway(sim.url, { REDIS_URL: redis.url, CACHE_MAX_ENTRIES: '0', RATE_LIMIT_PER_MINUTE: '100' })
    await waitFor(() => gw.app.redisStore?.available === true)
    const url = `${gw.url}/v1/users/3/devices`
    expect((await getJson(url)).headers.get('cache-status')).toBe('mor-gateway; fwd=miss; stored')
    const hit = await getJson(url)
    expect(hit.headers.get('cache-status')).toMatch(/^mor-gateway; hit; ttl=/)
    expect(hit.headers.get('ratelimit-remaining')).toBe('98')
    expect(await laneAnswers(gw)).toBe(1)

    await redis.stop()
    await waitFor(() => gw.app.redisStore?.available === false)
    const without = await getJson(url)
    expect(without.status).toBe(200)
    expect(without.headers.get('cache-status')).toBe('mor-gateway; fwd=miss; stored')
    // Counted once, in this instance's own window while Redis cannot count.
    expect(without.headers.get('ratelimit-remaining')).toBe('99')
    expect(await laneAnswers(gw)).toBe(1)
  })
})

describe('the hit lane and the route give one answer and one log line', () => {
  const settings: Array<[string, Record<string, string>, Record<string, string>]> = [
    ['with CORS configured', { CORS_ORIGINS: 'https://app.example' }, {}],
    ['on the Redis tier', { CACHE_MAX_ENTRIES: '0' }, {}],
    ['behind TRUST_PROXY', { TRUST_PROXY: '1' }, { 'x-forwarded-for': '10.0.0.1, 198.51.100.7', 'x-forwarded-host': 'api.example', 'x-forwarded-proto': 'https' }],
    ['with all three', { CORS_ORIGINS: 'https://app.example', CACHE_MAX_ENTRIES: '0', TRUST_PROXY: '1' }, { 'x-forwarded-for': '198.51.100.8', 'x-forwarded-host': 'api.example' }]
  ]
  for (const [name, env, sent] of settings) {
    it(name, async () => {
      const redis = env.CACHE_MAX_ENTRIES === '0' ? await startRedis() : undefined
      if (redis) closeAfterTest(redis.close)
      const gw = await gateway((await simulator()).url, { ...env, ...(redis ? { REDIS_URL: redis.url } : {}) })
      if (redis) await waitFor(() => gw.app.redisStore?.available === true)
      const path = '/v1/users/3/devices'
      await getJson(gw.url + path)

      let attempt = 0
      const { lane, laneBody, byLane, route, byRoute, ids, laneHeaders, routeHeaders } = await withinOneTick(async () => {
        const ids = { lane: `via-lane-${++attempt}`, route: `via-route-${attempt}` }
        const before = await laneAnswers(gw)
        const lane = await fetch(gw.url + path, { headers: { ...AUTH, ...sent, 'x-request-id': ids.lane } })
        const laneBody = await lane.text()
        const byLane = await laneAnswers(gw) - before
        const route = await gw.app.inject({ url: path, headers: { ...AUTH, ...sent, host: new URL(gw.url).host, 'x-request-id': ids.route }, remoteAddress: '127.0.0.1' })
        return { lane, laneBody, byLane, route, byRoute: await laneAnswers(gw) - before - byLane, ids, laneHeaders: comparable(Object.fromEntries(lane.headers.entries())), routeHeaders: comparable(route.headers as Record<string, string>) }
      })
      expect(byLane).toBe(1)
      expect(byRoute).toBe(0)

      expect(lane.status).toBe(route.statusCode)
      expect(laneBody).toBe(route.body)
      expect(laneHeaders).toStrictEqual(routeHeaders)
      // The access log's lines, field by field: the client address and host as the trusted proxy gave them.
      const logged = (id: string) => gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reqId === id)
        .map(({ level, msg, req, res }) => ({ level, msg, req, res }))
      const viaLane = logged(ids.lane)
      expect(viaLane).toHaveLength(2)
      expect(viaLane).toStrictEqual(logged(ids.route))
      if (env.TRUST_PROXY) expect(viaLane[1]?.req).toMatchObject({ host: 'api.example', remoteAddress: sent['x-forwarded-for']?.split(', ').pop() })
    })
  }
})

/** The metric samples of a scrape, by series ("name{labels}"), for deltas between two scrapes. */
async function samples (gw: TestGateway): Promise<Map<string, number>> {
  const text = await (await fetch(`${gw.url}/metrics`)).text()
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    const match = /^(gateway_(?:http_request_duration_seconds_count|cache_results_total|caller_requests_total)(?:\{[^}]*\})?) (\d+)$/.exec(line)
    // The scrapes count themselves: not part of either answer.
    if (match && !match[1]?.includes('route="/metrics"')) out.set(match[1] as string, Number(match[2]))
  }
  return out
}

/** The series that changed between two scrapes, and by how much. */
function delta (before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [series, value] of after) if (value !== (before.get(series) ?? 0)) out[series] = value - (before.get(series) ?? 0)
  return out
}

/** A gateway whose one key may read user 5 alone (what /v1/me/devices serves), and that key's header. */
async function oneUserKey (): Promise<{ env: Record<string, string>, auth: Record<string, string> }> {
  const key = 'one-user-key-0123456789abcdef'
  const path = join(await mkdtemp(join(tmpdir(), 'hit-lane-')), 'keys')
  await writeFile(path, `${key} users=5\n`)
  return { env: { GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: path }, auth: { authorization: `Bearer ${key}` } }
}

describe('every resource the hit lane serves: one answer, one log line, one count', () => {
  const resources: Array<[string, string, string, 'one-user'?]> = [
    ['a whole list', '/v1/users/5/devices', '/v1/users/:userId/devices'],
    ['a page', '/v1/users/5/devices?limit=2', '/v1/users/:userId/devices'],
    ['a filtered view', '/v1/users/5/devices?primary=true', '/v1/users/:userId/devices'],
    ['a device\'s details', '/v1/devices/5', '/v1/devices/:deviceId'],
    ['the caller\'s own devices', '/v1/me/devices', '/v1/me/devices', 'one-user'],
    ['a page of the caller\'s own devices', '/v1/me/devices?limit=2', '/v1/me/devices', 'one-user'],
    // The catalogue's resources (src/catalogue/), through the same lane. Each answer is under
    // COMPRESS_MIN_BYTES: fetch() takes gzip, and a compressed answer is the route's to give.
    ['a page of users', '/v1/users?limit=3', '/v1/users'],
    ['a user\'s details', '/v1/users/2', '/v1/users/:userId'],
    ['a user\'s calls in a settled period', '/v1/users/2/calls?from=2026-11-01T00:00:00Z&to=2026-11-01T06:00:00Z', '/v1/users/:userId/calls'],
    ['a page of a user\'s calls', '/v1/users/2/calls?from=2026-11-01T00:00:00Z&to=2026-11-08T00:00:00Z&status=answered&limit=2', '/v1/users/:userId/calls'],
    ['a page of a user\'s payments', '/v1/users/2/payments?limit=2', '/v1/users/:userId/payments']
  ]
  for (const [name, path, route, caller] of resources) {
    it(name, async () => {
      const { env, auth } = caller === 'one-user' ? await oneUserKey() : { env: {}, auth: AUTH }
      // Load from other tests must not shed these requests (503): only the answers are compared.
      const gw = await gateway((await simulator()).url, { MAX_EVENT_LOOP_DELAY_MS: '60000', ...env })
      expect((await getJson(gw.url + path, auth, { auth: false })).status).toBe(200) // the miss that fills the cache

      let attempt = 0
      const made = await withinOneTick(async () => {
        const ids = { lane: `lane-${++attempt}`, route: `route-${attempt}` }
        const start = await samples(gw)
        const before = await laneAnswers(gw)
        const lane = await fetch(gw.url + path, { headers: { ...auth, 'x-request-id': ids.lane } })
        const laneBody = await lane.text()
        const byLane = await laneAnswers(gw) - before
        const middle = await samples(gw)
        // inject() goes past the front door, so the route answers.
        const routed = await gw.app.inject({ url: path, headers: { ...auth, host: new URL(gw.url).host, 'x-request-id': ids.route }, remoteAddress: '127.0.0.1' })
        const byRoute = await laneAnswers(gw) - before - byLane
        const end = await samples(gw)
        return {
          ids,
          lane,
          laneBody,
          byLane,
          routed,
          byRoute,
          counted: { lane: delta(start, middle), route: delta(middle, end) },
          laneHeaders: comparable(Object.fromEntries(lane.headers.entries())),
          routeHeaders: comparable(routed.headers as Record<string, string>)
        }
      })
      expect(made.byLane).toBe(1)
      expect(made.byRoute).toBe(0)
      expect(made.lane.status).toBe(200)
      expect(made.routed.statusCode).toBe(200)
      expect(made.laneBody).toBe(made.routed.body)
      expect(made.laneHeaders).toStrictEqual(made.routeHeaders)

      // The same series counted by the same amounts: the request, the cache hit and the caller.
      expect(made.counted.lane).toStrictEqual(made.counted.route)
      expect(made.counted.lane).toMatchObject({
        [`gateway_http_request_duration_seconds_count{method="GET",route="${route}",status="200"}`]: 1,
        'gateway_cache_results_total{result="hit"}': 1
      })
      expect(Object.keys(made.counted.lane).some((series) => series.startsWith('gateway_caller_requests_total{'))).toBe(true)

      // The same access log lines, field by field, apart from the id and the time taken.
      const logged = (id: string) => gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reqId === id)
        .map(({ reqId: _id, time: _time, responseTime, ...line }) => ({ ...line, responseTime: typeof responseTime }) as Record<string, unknown>)
      const viaLane = logged(made.ids.lane)
      expect(viaLane.map((l) => l.msg)).toStrictEqual(['incoming request', 'request completed'])
      expect(viaLane).toStrictEqual(logged(made.ids.route))
    })
  }
})
