// What operators see, over real sockets: Prometheus metrics (main port or METRICS_PORT), liveness
// and readiness, the MOR circuit breaker end to end, and X-Request-Id.
import { describe, expect, it } from 'vitest'
import type { MorSimulator } from '../../src/demo/simulator.js'
import { devicesGetHash } from '../../src/mor/sign.js'
import { AUTH, getJson, NO_CACHE, TEST_API_KEY, TEST_API_SECRET, type TestGateway } from '../helpers/gateway.js'
import { startRedis } from '../helpers/redis-server.js'
import { refusedUrl } from '../helpers/fault-upstream.js'
import { rawRequest } from '../helpers/raw-http.js'
import { closeAfterTest, gateway, simulator } from '../helpers/scoped.js'
import { waitFor } from '../helpers/wait.js'
import { INSTANCE } from '../helpers/expected.js'
import { fakeWallClock } from '../helpers/clock.js'

/** A loopback port nothing listens on (yet). */
const freePort = async () => Number(new URL(await refusedUrl()).port)
const callsFor = (sim: MorSimulator, userId: number) => sim.calls.byUser.get(String(userId)) ?? 0

async function scrape (url: string): Promise<string> {
  const res = await fetch(url)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
  return res.text()
}

interface Sample { name: string, labels: Record<string, string>, value: number }

function samples (text: string): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match) continue
    const labels: Record<string, string> = {}
    for (const [, name, value] of (match[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[name ?? ''] = value ?? ''
    out.push({ name: match[1] ?? '', labels, value: Number(match[3]) })
  }
  return out
}

/** The value of the sample with exactly these labels, or undefined when there is none. */
function sample (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort())
  return samples(text).find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted)?.value
}

const DEVICES_ROUTE = '/v1/users/:userId/devices'

describe('GET /metrics', () => {
  it('counts a known sequence of requests exactly, by route, outcome and cache result', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    expect((await getJson(`${gw.url}/v1/users/3/devices`)).status).toBe(200) // miss
    expect((await getJson(`${gw.url}/v1/users/3/devices`)).status).toBe(200) // hit
    expect((await getJson(`${gw.url}/v1/users/9/devices`)).status).toBe(404) // negative, from MOR
    expect((await getJson(`${gw.url}/v1/users/9/devices`)).status).toBe(404) // negative, cached
    sim.options.delayMs = 200
    const concurrent = await Promise.all([1, 2, 3].map(() => getJson(`${gw.url}/v1/users/5/devices`)))
    expect(concurrent.map((r) => r.status)).toStrictEqual([200, 200, 200])
    expect((await getJson(`${gw.url}/v1/users/x/devices`)).status).toBe(400)

    const text = await scrape(`${gw.url}/metrics`)
    const requests = (status: string) => sample(text, 'gateway_http_request_duration_seconds_count', { method: 'GET', route: DEVICES_ROUTE, status })
    expect([requests('200'), requests('404'), requests('400')]).toStrictEqual([5, 2, 1])
    expect(sample(text, 'gateway_mor_call_duration_seconds_count', { outcome: 'ok' })).toBe(2)
    expect(sample(text, 'gateway_mor_call_duration_seconds_count', { outcome: 'not-found' })).toBe(1)
    const cache = (result: string) => sample(text, 'gateway_cache_results_total', { result })
    expect({ miss: cache('miss'), hit: cache('hit'), negative: cache('negative'), collapsed: cache('collapsed'), stale: cache('stale') })
      .toStrictEqual({ miss: 4, hit: 1, negative: 2, collapsed: 2, stale: undefined })
    expect(sample(text, 'gateway_circuit_state')).toBe(0)
    expect(text).toContain('# TYPE gateway_rate_limit_rejections_total counter')
    expect(callsFor(sim, 3) + callsFor(sim, 9) + callsFor(sim, 5)).toBe(3)
  })

  it('records the scrape itself under its route on the next scrape, without an API key', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    await scrape(`${gw.url}/metrics`)
    const text = await scrape(`${gw.url}/metrics`)
    expect(sample(text, 'gateway_http_request_duration_seconds_count', { method: 'GET', route: '/metrics', status: '200' })).toBe(1)
  })

  it('counts rate-limit rejections by limit: requests per key and the upstream budget', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url, { RATE_LIMIT_PER_MINUTE: '3', UPSTREAM_BUDGET_PER_MINUTE: '1' })
    expect((await getJson(`${gw.url}/v1/users/3/devices`)).status).toBe(200)
    expect((await getJson(`${gw.url}/v1/users/5/devices`)).status).toBe(429) // budget spent
    expect((await getJson(`${gw.url}/v1/users/3/devices`)).status).toBe(200) // cached: no budget needed
    expect((await getJson(`${gw.url}/v1/users/3/devices`)).status).toBe(429) // fourth request this minute
    const text = await scrape(`${gw.url}/metrics`)
    expect(sample(text, 'gateway_rate_limit_rejections_total', { limit: 'requests' })).toBe(1)
    expect(sample(text, 'gateway_rate_limit_rejections_total', { limit: 'upstream' })).toBe(1)
  })

  it('never carries user ids as label values, the API key, the MOR secret or a hash', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    const ids = [2, 3, 5, 9, 1234, 4321]
    for (const id of ids) await getJson(`${gw.url}/v1/users/${id}/devices`)
    await getJson(`${gw.url}/v1/users/2/devices`, { 'cache-control': 'no-cache' })
    await fetch(`${gw.url}/billing/api/devices_get?u=admin&user_id=2&hash=${devicesGetHash(2, TEST_API_SECRET)}`)
    const text = await scrape(`${gw.url}/metrics`)
    const labelValues = samples(text).filter((s) => s.name.startsWith('gateway_'))
      .flatMap((s) => Object.entries(s.labels).filter(([name]) => name !== 'le').map(([, value]) => value))
    for (const id of ids) {
      expect(labelValues).not.toContain(String(id))
      expect(text).not.toContain(`/v1/users/${id}`)
    }
    expect(labelValues.filter((value) => value.includes('billing/api/devices_get'))).toStrictEqual([])
    expect(text).not.toContain(TEST_API_KEY)
    expect(text).not.toContain(TEST_API_SECRET)
    for (const id of ids) expect(text).not.toContain(devicesGetHash(id, TEST_API_SECRET))
    expect(text).not.toMatch(/[0-9a-f]{40}/)
  })

  it('reports gateway_redis_up 1 while Redis is up and 0 once it has stopped', async () => {
    const redis = await startRedis()
    closeAfterTest(redis.close)
    const sim = await simulator()
    const gw = await gateway(sim.url, { REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '100' })
    await waitFor(() => gw.app.redisStore?.available === true)
    expect(sample(await scrape(`${gw.url}/metrics`), 'gateway_redis_up')).toBe(1)
    await redis.stop()
    await waitFor(() => gw.app.redisStore?.available === false)
    expect(sample(await scrape(`${gw.url}/metrics`), 'gateway_redis_up')).toBe(0)
  })

  it('has no gateway_redis_up sample without REDIS_URL', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    expect(sample(await scrape(`${gw.url}/metrics`), 'gateway_redis_up')).toBeUndefined()
  })

  it('is served on METRICS_PORT when set, and the main port answers 404 for /metrics', async () => {
    const sim = await simulator()
    const port = await freePort()
    const gw = await gateway(sim.url, { METRICS_PORT: String(port) })
    await getJson(`${gw.url}/v1/users/3/devices`)
    const text = await scrape(`http://127.0.0.1:${port}/metrics`)
    expect(sample(text, 'gateway_cache_results_total', { result: 'miss' })).toBe(1)
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404)
    const main = await fetch(`${gw.url}/metrics`)
    expect(main.status).toBe(404)
    expect(main.headers.get('content-type')).toBe('application/problem+json; charset=utf-8')
    expect(await main.json()).toStrictEqual({ type: '/problems/not-found', title: 'Not found', status: 404, detail: 'No route for GET /metrics', instance: INSTANCE })
  })
})

describe('health', () => {
  it('answers /health/live with 200 {status: ok} without an API key', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    const res = await getJson(`${gw.url}/health/live`, {}, { auth: false })
    expect(res.status).toBe(200)
    expect(res.body).toStrictEqual({ status: 'ok' })
  })

  it('is ready with MOR reachable, Redis disabled and the circuit closed', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    const res = await getJson(`${gw.url}/health/ready`, {}, { auth: false })
    expect(res.status).toBe(200)
    expect(res.body).toStrictEqual({ status: 'ready', checks: { config: 'ok', redis: 'disabled', mor: 'reachable', circuit: 'closed' } })
  })

  it('is degraded, still 200, when MOR refuses connections', async () => {
    const gw = await gateway(await refusedUrl())
    const res = await getJson(`${gw.url}/health/ready`, {}, { auth: false })
    expect(res.status).toBe(200)
    expect(res.body).toStrictEqual({ status: 'degraded', checks: { config: 'ok', redis: 'disabled', mor: 'unreachable', circuit: 'closed' } })
  })

  it('reports Redis up while it runs, and degraded with Redis down once it has stopped', async () => {
    const redis = await startRedis()
    closeAfterTest(redis.close)
    const sim = await simulator()
    const gw = await gateway(sim.url, { REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '100' })
    await waitFor(() => gw.app.redisStore?.available === true)
    expect((await getJson(`${gw.url}/health/ready`, {}, { auth: false })).body)
      .toStrictEqual({ status: 'ready', checks: { config: 'ok', redis: 'up', mor: 'reachable', circuit: 'closed' } })
    await redis.stop()
    await waitFor(() => gw.app.redisStore?.available === false)
    const res = await getJson(`${gw.url}/health/ready`, {}, { auth: false })
    expect(res.status).toBe(200)
    expect(res.body).toStrictEqual({ status: 'degraded', checks: { config: 'ok', redis: 'down', mor: 'reachable', circuit: 'closed' } })
  })
})

describe('the MOR circuit breaker', () => {
  const CIRCUIT = { CIRCUIT_FAILURES: '3', CIRCUIT_RESET_SECONDS: '1' }
  const unavailable = { type: '/problems/upstream-unavailable', title: 'MOR unavailable', status: 502, detail: 'MOR could not be reached: connection refused', instance: INSTANCE }
  const paused = { type: '/problems/upstream-unavailable', title: 'MOR unavailable', status: 503, detail: 'MOR is failing; calls to it are paused for 1 s', instance: INSTANCE }

  it('opens after 3 refused calls, fails fast with 503 and Retry-After, and closes after a successful trial', async () => {
    let sim = await simulator()
    const port = sim.port
    const gw = await gateway(sim.url, { ...CIRCUIT, ...NO_CACHE })
    await sim.close()
    for (let i = 0; i < 3; i++) {
      const res = await getJson(`${gw.url}/v1/users/3/devices`)
      expect(res.status).toBe(502)
      expect(res.body).toStrictEqual(unavailable)
    }
    // MOR is back, but the open circuit does not try it.
    sim = await simulator(port)
    const fast = await getJson(`${gw.url}/v1/users/3/devices`)
    expect(fast.status).toBe(503)
    expect(fast.type).toBe('application/problem+json; charset=utf-8')
    expect(fast.body).toStrictEqual(paused)
    expect(fast.headers.get('retry-after')).toBe('1')
    expect(sim.calls.total).toBe(0)
    const open = await scrape(`${gw.url}/metrics`)
    expect(sample(open, 'gateway_circuit_state')).toBe(2)
    expect(sample(open, 'gateway_mor_call_duration_seconds_count', { outcome: 'unavailable' })).toBe(3)
    expect(sample(open, 'gateway_mor_call_duration_seconds_count', { outcome: 'circuit-open' })).toBe(1)

    await waitFor(() => gw.app.mor.breaker.state === 'half-open')
    const trial = await getJson(`${gw.url}/v1/users/3/devices`)
    expect(trial.status).toBe(200)
    expect(callsFor(sim, 3)).toBe(1)
    expect(sample(await scrape(`${gw.url}/metrics`), 'gateway_circuit_state')).toBe(0)
    expect((await getJson(`${gw.url}/health/ready`, {}, { auth: false })).body)
      .toStrictEqual({ status: 'ready', checks: { config: 'ok', redis: 'disabled', mor: 'reachable', circuit: 'closed' } })
    const transitions = gw.logs.map((line) => JSON.parse(line) as { msg: string }).map((l) => l.msg).filter((msg) => msg.startsWith('MOR circuit'))
    expect(transitions).toStrictEqual(['MOR circuit open', 'MOR circuit half-open', 'MOR circuit closed'])
  })

  it('serves cached data, fresh or stale, while the circuit is open', async () => {
    const clock = fakeWallClock()
    const sim = await simulator()
    const gw = await gateway(sim.url, { CIRCUIT_FAILURES: '3', CIRCUIT_RESET_SECONDS: '60', CACHE_TTL_SECONDS: '1', CACHE_STALE_SECONDS: '60' })
    const cached = await getJson(`${gw.url}/v1/users/3/devices`)
    expect(cached.status).toBe(200)
    await sim.close()
    for (const id of [1000, 1001, 1002]) expect((await getJson(`${gw.url}/v1/users/${id}/devices`)).status).toBe(502)
    expect((await getJson(`${gw.url}/v1/users/1003/devices`)).status).toBe(503)
    expect(gw.app.mor.breaker.state).toBe('open')

    const forced = await getJson(`${gw.url}/v1/users/3/devices`, { 'cache-control': 'no-cache' })
    expect(forced.status).toBe(200)
    expect(forced.body).toStrictEqual(cached.body)
    expect(forced.headers.get('cache-status')).toMatch(/detail=stale-if-error$/)

    clock.advance(1100)
    const stale = await getJson(`${gw.url}/v1/users/3/devices`)
    expect(stale.status).toBe(200)
    expect(stale.body).toStrictEqual(cached.body)
    expect(stale.headers.get('cache-status')).toMatch(/^mor-gateway; fwd=stale;/)
    expect(callsFor(sim, 3)).toBe(1)
  })
})

describe('X-Request-Id', () => {
  // The gateway's own ids: RFC 9562 version 8 (random per instance, then a counter; logging/request-id.ts).
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
  const linesOf = (gw: TestGateway, reqId: string) => gw.logs.map((line) => JSON.parse(line) as { reqId?: string, msg: string }).filter((l) => l.reqId === reqId)

  it('is on every response: devices, problems, unknown routes, health, metrics and the passthrough', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    const answers = [
      await fetch(`${gw.url}/v1/users/3/devices`, { headers: AUTH }),
      await fetch(`${gw.url}/v1/users/3/devices`),
      await fetch(`${gw.url}/v1/users/x/devices`, { headers: AUTH }),
      await fetch(`${gw.url}/nowhere`),
      await fetch(`${gw.url}/health/live`),
      await fetch(`${gw.url}/metrics`),
      await fetch(`${gw.url}/billing/api/devices_get?u=admin&user_id=9&hash=x`)
    ]
    expect(answers.map((res) => res.status)).toStrictEqual([200, 401, 400, 404, 200, 200, 200])
    for (const res of answers) expect(res.headers.get('x-request-id')).toMatch(UUID)
    expect(new Set(answers.map((res) => res.headers.get('x-request-id'))).size).toBe(answers.length)
  })

  it('is on the problem answer to an undecodable URL too', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    const res = await fetch(`${gw.url}/%zz`, { headers: { 'x-request-id': 'abc-123' } })
    expect(res.status).toBe(400)
    expect(res.headers.get('x-request-id')).toBe('abc-123')
  })

  it('echoes a sane incoming id and logs the request under it', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    const res = await getJson(`${gw.url}/v1/users/3/devices`, { 'x-request-id': 'abc-123' })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-request-id')).toBe('abc-123')
    const messages = linesOf(gw, 'abc-123').map((l) => l.msg)
    expect(messages).toContain('incoming request')
    expect(messages).toContain('request completed')
    const longest = 'a'.repeat(128)
    expect((await getJson(`${gw.url}/v1/users/3/devices`, { 'x-request-id': longest })).headers.get('x-request-id')).toBe(longest)
    expect((await getJson(`${gw.url}/v1/users/3/devices`, { 'x-request-id': 'Trace_1.2:3' })).headers.get('x-request-id')).toBe('Trace_1.2:3')
  })

  for (const [name, insane] of [
    ['longer than 128 characters', 'a'.repeat(129)],
    ['300 characters long', 'b'.repeat(300)],
    ['holding a space', 'abc 123'],
    ['holding a tab', 'abc\t123'],
    ['holding markup', '<script>alert(1)</script>'],
    ['holding a quote and a slash', 'a"b/c'],
    ['holding non-ASCII', 'réq-1']
  ] as const) {
    it(`replaces an incoming id ${name} with a fresh UUID, in the answer and the log`, async () => {
      const sim = await simulator()
      const gw = await gateway(sim.url)
      const res = await getJson(`${gw.url}/v1/users/3/devices`, { 'x-request-id': insane })
      expect(res.status).toBe(200)
      const id = res.headers.get('x-request-id') ?? ''
      expect(id).toMatch(UUID)
      expect(linesOf(gw, id).map((l) => l.msg)).toContain('request completed')
      expect(gw.logs.filter((line) => line.includes(JSON.stringify(insane).slice(1, -1)))).toStrictEqual([])
    })
  }

  it('refuses a newline in X-Request-Id at the HTTP layer, before it could reach a log line', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    const port = Number(new URL(gw.url).port)
    const res = await rawRequest(port, 'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc\n{"level":60}\r\nConnection: close\r\n\r\n')
    expect(res.status).toBe(400)
    expect(gw.logs.filter((line) => line.includes('"level":60'))).toStrictEqual([])
  })
})

describe('overload', () => {
  it('answers 503 overloaded with Retry-After while the event loop is saturated', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url, { MAX_EVENT_LOOP_DELAY_MS: '50' })
    // The gateway runs in this process: a blocked event loop here is its event loop.
    const until = Date.now() + 1500
    while (Date.now() < until) { /* busy */ }
    let res = await fetch(`${gw.url}/v1/users/3/devices`, { headers: AUTH })
    for (let i = 0; i < 20 && res.status !== 503; i++) {
      await res.arrayBuffer()
      res = await fetch(`${gw.url}/v1/users/3/devices`, { headers: AUTH })
    }
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('1')
    expect(await res.json()).toStrictEqual({ type: '/problems/overloaded', title: 'Gateway overloaded', status: 503, detail: 'The gateway is overloaded; retry shortly', instance: INSTANCE })
    // Still under pressure: readiness sheds, liveness says the process is up (a restart would
    // only move the load onto the other instances).
    const [ready, live] = await Promise.all([fetch(`${gw.url}/health/ready`), fetch(`${gw.url}/health/live`)])
    expect([ready.status, live.status]).toStrictEqual([503, 200])
  })
})
