// Browsers (CORS), load balancers (TRUST_PROXY) and the passthrough's address allowlist.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { devicesGetHash } from '../../src/mor/sign.js'
import { getJson, sendJson, startGateway, TEST_API_SECRET, TEST_API_USER, type TestGateway } from '../helpers/gateway.js'
import { startEchoUpstream, type Echo } from '../helpers/echo-upstream.js'
import { bearer, callerHarness, RATE_LIMITED, LEGACY_FORBIDDEN } from '../helpers/callers.js'

const h = callerHarness()
const { gateway, logged } = h

describe('CORS', () => {
  const ORIGIN = 'https://app.example.com'
  const EXPOSED = [
    'etag', 'cache-status', 'age', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'x-request-id',
    'location', 'idempotent-replayed', 'accept-patch'
  ]
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

  // A browser app that writes devices preflights each write: the methods, and the headers a write
  // sends (If-Match against a lost update, Idempotency-Key for a safe retry), must be allowed.
  it.each([
    ['PATCH', '/v1/devices/5'],
    ['DELETE', '/v1/devices/5'],
    ['POST', '/v1/users/2/devices']
  ])('allows a preflight for a %s to %s with the headers a write sends', async (method, path) => {
    const gw = await gateway({ CORS_ORIGINS: ORIGIN })
    const before = h.sim.calls.total
    const res = await fetch(`${gw.url}${path}`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type, if-match, idempotency-key' }
    })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(headerList(res.headers.get('access-control-allow-methods'))).toEqual(expect.arrayContaining(['get', 'post', 'patch', 'delete']))
    expect(headerList(res.headers.get('access-control-allow-headers'))).toEqual(expect.arrayContaining(['authorization', 'content-type', 'if-match', 'idempotency-key']))
    expect(h.sim.calls.total).toBe(before)
  })

  it('lets an allowed origin read Location, Idempotent-Replayed, ETag and Accept-Patch on the answers to its writes', async () => {
    const writer = 'cors-writer-0123456789abcdef'
    const keyFile = join(h.dir, 'cors-writer-keys')
    await writeFile(keyFile, `${writer} name=browser-app access=read,write\n`)
    const gw = await gateway({ CORS_ORIGINS: ORIGIN, GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: keyFile })
    const headers = { ...bearer(writer), origin: ORIGIN }
    const readable = (res: { headers: Headers }, name: string) => {
      expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
      expect(headerList(res.headers.get('access-control-expose-headers'))).toContain(name)
      return res.headers.get(name)
    }
    // User 4 has no devices: the device made here is removed at the end, leaving the shared simulator as it was.
    const create = () => sendJson('POST', `${gw.url}/v1/users/4/devices`, { type: 'SIP', description: 'Browser phone' }, { ...headers, 'idempotency-key': '"cors-create-1"' })
    const created = await create()
    expect(created.status).toBe(201)
    const location = readable(created, 'location')
    expect(location).toMatch(/^\/v1\/devices\/[0-9]+$/)
    expect(readable(created, 'etag')).toMatch(/^"[A-Za-z0-9_-]+"$/)
    const replayed = await create()
    expect(replayed.status).toBe(201)
    expect(readable(replayed, 'idempotent-replayed')).toBe('true')
    expect(replayed.text).toBe(created.text)
    const changed = await sendJson('PATCH', `${gw.url}${location}`, { description: 'Reception' }, { ...headers, 'if-match': readable(created, 'etag') ?? '' })
    expect(changed.status).toBe(200)
    expect(changed.body).toMatchObject({ userId: 4, description: 'Reception' })
    expect(readable(changed, 'etag')).toMatch(/^"[A-Za-z0-9_-]+"$/)
    // A PATCH in another format is refused, and Accept-Patch, which says which one would do, is readable too.
    const wrongType = await sendJson('PATCH', `${gw.url}${location}`, { description: 'Reception' }, headers, 'application/json')
    expect(wrongType.status).toBe(415)
    expect(readable(wrongType, 'accept-patch')).toBe('application/merge-patch+json')
    const removed = await sendJson('DELETE', `${gw.url}${location}`, undefined, headers)
    expect(removed.status).toBe(204)
    expect(removed.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect((await getJson(`${gw.url}/v1/users/4/devices`, bearer(writer))).body).toMatchObject({ devices: [] })
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

describe('CORS and the legacy passthrough', () => {
  const ORIGIN = 'https://app.example.com'
  let echo: Awaited<ReturnType<typeof startEchoUpstream>>
  let gw: TestGateway
  beforeAll(async () => {
    echo = await startEchoUpstream()
    gw = await startGateway(echo.url, { CORS_ORIGINS: ORIGIN })
  })
  afterAll(async () => {
    await gw.close()
    await echo.close()
  })
  const corsHeaders = (headers: Headers) => [...headers.keys()].filter((name) => name.startsWith('access-control-') || name === 'vary')

  it.each([
    ['no Origin', {}],
    ['an Origin alone', { origin: ORIGIN }],
    ['a whole preflight', { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }],
    ['a preflight from another origin', { origin: 'https://evil.example.net', 'access-control-request-method': 'POST' }]
  ])('relays an OPTIONS with %s to MOR and answers with MOR\'s answer alone', async (_what, headers: Record<string, string>) => {
    const before = echo.requests
    const res = await fetch(`${gw.url}/billing/api/devices_get?u=admin`, { method: 'OPTIONS', headers })
    const seen = await res.json() as Echo
    expect(res.status).toBe(200)
    expect(echo.requests).toBe(before + 1)
    expect({ method: seen.method, url: seen.url }).toStrictEqual({ method: 'OPTIONS', url: '/billing/api/devices_get?u=admin' })
    for (const [name, value] of Object.entries(headers)) expect(seen.headers[name]).toBe(value)
    expect(res.headers.get('x-upstream')).toBe('echo')
    expect(corsHeaders(res.headers)).toStrictEqual([])
  })

  it('answers a cross-origin GET on the passthrough with MOR\'s headers, none of the gateway\'s CORS ones', async () => {
    const res = await fetch(`${gw.url}/billing/api/devices_get`, { headers: { origin: ORIGIN } })
    expect((await res.json() as Echo).method).toBe('GET')
    expect(corsHeaders(res.headers)).toStrictEqual([])
  })

  it('still answers a preflight on /v1 itself, without calling MOR', async () => {
    const before = echo.requests
    const res = await fetch(`${gw.url}/v1/users/2/devices`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' }
    })
    expect(res.status).toBe(204)
    expect(Object.fromEntries([...res.headers].filter(([name]) => corsHeaders(res.headers).includes(name)))).toStrictEqual({
      'access-control-allow-origin': ORIGIN,
      'access-control-allow-methods': 'GET, HEAD, POST, PATCH, DELETE, OPTIONS',
      'access-control-allow-headers': 'Authorization, Content-Type, If-None-Match, If-Match, Idempotency-Key, Cache-Control, X-Request-Id',
      'access-control-expose-headers': 'ETag, Cache-Status, Age, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, X-Request-Id, ' +
        'Location, Idempotent-Replayed, Accept-Patch',
      'access-control-max-age': '600',
      vary: 'Origin'
    })
    expect(echo.requests).toBe(before)
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
    const before = h.sim.calls.total
    const res = await fetch(`${gw.url}${path}`)
    expect(res.status).toBe(403)
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8')
    expect(await res.json()).toStrictEqual(LEGACY_FORBIDDEN)
    expect(h.sim.calls.total).toBe(before)
  })

  it('passes a client inside the allowed blocks through to MOR', async () => {
    const gw = await gateway({ LEGACY_ALLOW_CIDRS: '10.0.0.0/8, 127.0.0.0/8' })
    const before = h.sim.calls.total
    const res = await fetch(`${gw.url}${path}`)
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('<devices>')
    expect(h.sim.calls.total).toBe(before + 1)
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
    const before = h.sim.calls.total
    const res = await fetch(`${gw.url}${path}`, { headers: { 'x-forwarded-for': '10.1.2.3, 203.0.113.50' } })
    expect(res.status).toBe(403)
    expect(await res.json()).toStrictEqual(LEGACY_FORBIDDEN)
    expect(h.sim.calls.total).toBe(before)
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
