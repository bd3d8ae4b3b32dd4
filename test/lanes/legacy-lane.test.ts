// The legacy lane over real sockets: a legacy GET it relays must reach MOR and come back exactly as
// through the proxy route (inject() takes the route, bypassing the lane); everything else, and
// MOR's failures, must be the route's answers. test/legacy/proxy.test.ts (the route, src/routes/legacy.ts) runs the whole
// passthrough contract over sockets, so through the lane wherever it applies.
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { request } from 'undici'
import { describe, expect, it } from 'vitest'
import { SIM_ENCODINGS } from '../../src/demo/simulator.js'
import { devicesGetHash } from '../../src/mor/sign.js'
import { TEST_API_SECRET, TEST_API_USER, type TestGateway } from '../helpers/gateway.js'
import { gateway, simulator, closeAfterTest } from '../helpers/scoped.js'
import { startEchoUpstream, type Echo } from '../helpers/echo-upstream.js'
import { refusedUrl, startFaultUpstream } from '../helpers/fault-upstream.js'
import { rawRequest } from '../helpers/raw-http.js'

const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'x-request-id'])
const comparable = (headers: Record<string, unknown>) => Object.fromEntries(Object.entries(headers).filter(([name]) => !TRANSPORT.has(name)))

async function laneAnswers (gw: TestGateway): Promise<number> {
  const res = await gw.app.inject({ url: '/metrics' })
  return Number(/^gateway_legacy_lane_answers_total (\d+)$/m.exec(res.body)?.[1] ?? NaN)
}

async function viaSocket (url: string, opts: { method?: 'GET' | 'POST' | 'PUT' | 'HEAD', headers?: Record<string, string>, body?: string } = {}) {
  const res = await request(url, { method: opts.method ?? 'GET', headers: opts.headers, body: opts.body })
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) }
}

const devicesPath = (encoding: string) => `/billing/api/devices_get?u=${TEST_API_USER}&user_id=3&hash=${devicesGetHash(3, TEST_API_SECRET)}&sim_encoding=${encoding}`

describe('the legacy lane', () => {
  it('relays a legacy GET with the bytes and headers the proxy route gives, in every encoding', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    for (const [n, encoding] of SIM_ENCODINGS.entries()) {
      const lane = await viaSocket(`${gw.url}${devicesPath(encoding)}`)
      expect(await laneAnswers(gw)).toBe(n + 1)
      const route = await gw.app.inject({ method: 'GET', url: devicesPath(encoding) })
      expect(await laneAnswers(gw)).toBe(n + 1)
      expect(lane.status).toBe(200)
      expect(route.statusCode).toBe(200)
      expect(lane.body.equals(route.rawPayload)).toBe(true)
      expect(comparable(lane.headers)).toStrictEqual(comparable(route.headers))
      expect(lane.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    }
    // Counted in the request metrics under the proxy's route, like the route's own answers.
    const metrics = (await gw.app.inject({ url: '/metrics' })).body
    expect(metrics).toMatch(new RegExp(`^gateway_http_request_duration_seconds_count\\{method="GET",route="/billing/api/\\*",status="200"\\} ${SIM_ENCODINGS.length * 2}$`, 'm'))
  })

  it('sends MOR the request the route sends: same headers, hop-by-hop ones dropped, the client\'s X-Forwarded-For replaced', async () => {
    const echo = await startEchoUpstream()
    closeAfterTest(echo.close)
    const gw = await gateway(echo.url)
    const headers = {
      host: 'gateway.example',
      'x-forwarded-for': '203.0.113.7',
      connection: 'keep-alive, x-secret-hop',
      'x-secret-hop': 'must not pass',
      te: 'trailers',
      'x-client': 'legacy',
      'user-agent': 'legacy-client/1.0'
    }
    // Written by hand: HTTP clients will not send a Connection header naming other headers.
    const path = '/billing/api/user_details_get?u=admin&hash=abc'
    const lane = await rawRequest(Number(new URL(gw.url).port), `GET ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`)
    const route = await gw.app.inject({ method: 'GET', url: path, headers, remoteAddress: '127.0.0.1' })
    expect(await laneAnswers(gw)).toBe(1)
    const laneEcho = JSON.parse(lane.body) as Echo
    const routeEcho = JSON.parse(route.body) as Echo
    expect(laneEcho.url).toBe('/billing/api/user_details_get?u=admin&hash=abc')
    expect(laneEcho.headers).toMatchObject({ host: echo.host, 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'gateway.example', 'x-client': 'legacy' })
    for (const name of ['x-secret-hop', 'te']) expect(laneEcho.headers[name]).toBeUndefined()
    expect(comparable(laneEcho.headers)).toStrictEqual(comparable(routeEcho.headers))
    // And back: MOR's hop-by-hop headers stay on MOR's side, both cookies come through.
    const back = await viaSocket(`${gw.url}${path}`)
    expect(back.headers['x-hop']).toBeUndefined()
    expect(back.headers['set-cookie']).toStrictEqual(['a=1; Path=/', 'b=2; Path=/'])
    // The route over a socket too (an Origin makes the lane hand over): inject() folds repeated
    // headers written as a flat list, which a real client never sees.
    const backViaRoute = await viaSocket(`${gw.url}${path}`, { headers: { origin: 'http://app.example' } })
    expect(await laneAnswers(gw)).toBe(2)
    expect(comparable(back.headers)).toStrictEqual(comparable(backViaRoute.headers))
  })

  it('logs the relayed call at debug like the route, with hash and p redacted', async () => {
    const echo = await startEchoUpstream()
    closeAfterTest(echo.close)
    const gw = await gateway(echo.url)
    const res = await viaSocket(`${gw.url}/billing/api/devices_get?u=admin&user_id=5&hash=hash-marker-9z&p=pw-marker-8y`, { headers: { 'x-request-id': 'legacy-lane-1' } })
    expect(res.headers['x-request-id']).toBe('legacy-lane-1')
    expect(await laneAnswers(gw)).toBe(1)
    const logs = gw.logs.join('')
    for (const marker of ['hash-marker-9z', 'pw-marker-8y']) expect(logs).not.toContain(marker)
    const lines = gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reqId === 'legacy-lane-1')
    expect(lines).toMatchObject([
      { level: 20, msg: 'incoming request', req: { method: 'GET', url: '/billing/api/devices_get?u=admin&user_id=5&hash=[redacted]&p=[redacted]' } },
      { level: 20, msg: 'request completed', res: { statusCode: 200 } }
    ])
  })

  it('relays a small form POST as the route does: same upstream request, body and answer', async () => {
    const echo = await startEchoUpstream()
    closeAfterTest(echo.close)
    const gw = await gateway(echo.url)
    const api = `${gw.url}/billing/api/devices_get?x=1`
    const form = { method: 'POST' as const, body: 'u=admin&user_id=3&hash=abc', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-client': 'legacy' } }
    const lane = await viaSocket(api, form)
    expect(await laneAnswers(gw)).toBe(1)
    // An Origin makes the lane hand the same request to the route.
    const route = await viaSocket(api, { ...form, headers: { ...form.headers, origin: 'http://app.example' } })
    expect(await laneAnswers(gw)).toBe(1)
    const [laneEcho, routeEcho] = [lane, route].map((a) => JSON.parse(a.body.toString()) as Echo)
    expect(lane.status).toBe(200)
    expect(laneEcho.method).toBe('POST')
    expect(laneEcho.bodyLength).toBe(form.body.length)
    expect(laneEcho.bodySha256).toBe(routeEcho?.bodySha256)
    const { origin: _origin, ...routeHeaders } = routeEcho?.headers ?? {}
    expect(comparable(laneEcho.headers)).toStrictEqual(comparable(routeHeaders))
    expect(comparable(lane.headers)).toStrictEqual(comparable(route.headers))
  })

  it('hands the route everything but a plain GET or a small POST to an allowed path', async () => {
    const echo = await startEchoUpstream()
    closeAfterTest(echo.close)
    const gw = await gateway(echo.url, { LEGACY_MAX_BODY_BYTES: '100000' })
    const api = `${gw.url}/billing/api/user_details_get`
    const answers = [
      await viaSocket(api, { method: 'POST', body: 'x'.repeat(70_000) }), // over the size read whole
      await viaSocket(api, { method: 'PUT', body: 'u=admin' }),
      await viaSocket(api, { method: 'HEAD' }),
      await viaSocket(api, { headers: { origin: 'https://app.example' } }),
      await viaSocket(api, { headers: { 'content-length': '3' }, body: 'a=1' }) // a GET with a body
    ]
    expect(answers.map((a) => a.status)).toStrictEqual([200, 200, 200, 200, 200])
    // Refused paths get the route's problem, and never reach MOR.
    const before = echo.requests
    const refused = await viaSocket(`${gw.url}/billing/api/a..b`)
    expect(refused.status).toBe(400)
    expect(JSON.parse(refused.body.toString())).toMatchObject({ status: 400, detail: expect.stringContaining('Not forwarded to MOR') })
    expect(echo.requests).toBe(before)
    expect(await laneAnswers(gw)).toBe(0)
  })

  it('behind TRUST_PROXY forwards and checks the client address as the route resolves it', async () => {
    const echo = await startEchoUpstream()
    closeAfterTest(echo.close)
    const gw = await gateway(echo.url, { TRUST_PROXY: '1', LEGACY_ALLOW_CIDRS: '198.51.100.0/24' })
    const headers = { 'x-forwarded-for': '10.9.9.9, 198.51.100.9', 'x-forwarded-host': 'legacy.example', 'x-forwarded-proto': 'https' }
    const lane = await viaSocket(`${gw.url}/billing/api/user_details_get`, { headers })
    expect(await laneAnswers(gw)).toBe(1)
    const route = await viaSocket(`${gw.url}/billing/api/user_details_get`, { headers: { ...headers, origin: 'http://app.example' } })
    expect(await laneAnswers(gw)).toBe(1)
    const [laneEcho, routeEcho] = [lane, route].map((a) => (JSON.parse(a.body.toString()) as Echo).headers)
    // The trusted proxy (the test itself) said 198.51.100.9; its own hop follows. 10.9.9.9 was the client's claim.
    expect(laneEcho?.['x-forwarded-for']).toBe('198.51.100.9, 127.0.0.1')
    expect(laneEcho?.['x-forwarded-host']).toBe('legacy.example')
    expect(laneEcho?.['x-forwarded-proto']).toBe('https')
    for (const name of ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']) expect(laneEcho?.[name]).toBe(routeEcho?.[name])
    // An address outside LEGACY_ALLOW_CIDRS, as the proxy reports it, is refused either way.
    const refused = await viaSocket(`${gw.url}/billing/api/user_details_get`, { headers: { 'x-forwarded-for': '203.0.113.1' } })
    expect(refused.status).toBe(403)
  })

  it('refuses addresses outside LEGACY_ALLOW_CIDRS through the route', async () => {
    const echo = await startEchoUpstream()
    closeAfterTest(echo.close)
    const gw = await gateway(echo.url, { LEGACY_ALLOW_CIDRS: '10.0.0.0/8' })
    const res = await viaSocket(`${gw.url}/billing/api/user_details_get`)
    expect(res.status).toBe(403)
    expect(echo.requests).toBe(0)
  })

  it('answers MOR failures with the route\'s problems, calling MOR once', async () => {
    const refused = await gateway(await refusedUrl())
    const down = await viaSocket(`${refused.url}/billing/api/user_details_get`)
    expect(down.status).toBe(502)
    expect(JSON.parse(down.body.toString())).toMatchObject({ type: '/problems/upstream-unavailable', status: 502 })

    const slow = await startFaultUpstream()
    closeAfterTest(slow.close)
    slow.handle(() => { /* never answers */ })
    const gw = await gateway(slow.url, { UPSTREAM_TIMEOUT_MS: '300' })
    const timedOut = await viaSocket(`${gw.url}/billing/api/user_details_get`)
    expect(timedOut.status).toBe(504)
    expect(JSON.parse(timedOut.body.toString())).toMatchObject({ type: '/problems/upstream-timeout', status: 504 })
    // One call: the route answers the lane's failure without trying MOR again.
    expect(slow.requests).toBe(1)
    expect(await laneAnswers(gw)).toBe(0)
  })

  it('streams a large answer through unchanged', async () => {
    const big = randomBytes(3 * 1024 * 1024 + 17)
    const upstream = await startFaultUpstream()
    closeAfterTest(upstream.close)
    upstream.handle((_req, res) => { res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(big.length) }).end(big) })
    const gw = await gateway(upstream.url)
    const res = await viaSocket(`${gw.url}/billing/api/export_get`)
    expect(res.status).toBe(200)
    expect(res.body.equals(big)).toBe(true)
    expect(await laneAnswers(gw)).toBe(1)
  })

  it('holds MOR back while the client is not reading, instead of buffering the answer', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x')
    const total = 512 // chunks: 32 MiB in all, far beyond what socket buffers hold
    let accepted = 0
    const upstream = await startFaultUpstream()
    closeAfterTest(upstream.close)
    upstream.handle((_req, res) => {
      res.writeHead(200, { 'content-length': String(chunk.length * total) })
      const pump = () => {
        while (accepted < total) {
          accepted++
          if (!res.write(chunk)) { res.once('drain', pump); return }
        }
        res.end()
      }
      pump()
    })
    const gw = await gateway(upstream.url)
    const socket = connect(Number(new URL(gw.url).port), '127.0.0.1', () => { socket.write('GET /billing/api/export_get HTTP/1.1\r\nHost: x\r\n\r\n') })
    socket.pause() // the client reads nothing
    await new Promise((resolve) => setTimeout(resolve, 500))
    // What is out is what the sockets' buffers hold; MOR is waiting for the rest.
    expect(accepted).toBeGreaterThan(0)
    expect(accepted).toBeLessThan(total / 2)
    // Once the client reads, the whole answer flows.
    let received = 0
    socket.on('data', (data: Buffer) => { received += data.length })
    socket.resume()
    await expect.poll(() => received, { timeout: 10_000 }).toBeGreaterThan(chunk.length * total)
    socket.destroy()
  })

  it('cuts the connection when MOR fails after the answer has started', async () => {
    const cut = await startFaultUpstream()
    closeAfterTest(cut.close)
    cut.handle((_req, res) => {
      res.writeHead(200, { 'content-length': '100000' })
      res.write(Buffer.alloc(1000, 'x'))
      setTimeout(() => res.socket?.destroy(), 50)
    })
    const gw = await gateway(cut.url)
    await expect(viaSocket(`${gw.url}/billing/api/user_details_get`)).rejects.toThrow()
    expect(await laneAnswers(gw)).toBe(0)
  })

  it('aborts the call to MOR when the client goes away first', async () => {
    const slow = await startFaultUpstream()
    closeAfterTest(slow.close)
    let upstreamClosed!: () => void
    const closed = new Promise<void>((resolve) => { upstreamClosed = resolve })
    slow.handle((req) => { req.socket.once('close', upstreamClosed) })
    const gw = await gateway(slow.url)
    const { port } = new URL(gw.url)
    const socket = connect(Number(port), '127.0.0.1', () => { socket.write('GET /billing/api/user_details_get HTTP/1.1\r\nHost: x\r\n\r\n') })
    await expect.poll(() => slow.requests).toBe(1)
    socket.destroy()
    await closed
  })
})
