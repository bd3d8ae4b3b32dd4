// The legacy passthrough over real sockets: byte-for-byte answers, faithful requests, hop-by-hop
// hygiene, size limits, MOR failures, and confinement to MOR's API path.
import { createHash, randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Readable } from 'node:stream'
import { gunzipSync } from 'node:zlib'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMorSimulator, SIM_ENCODINGS, type MorSimulator } from '../../src/demo/simulator.js'
import { devicesGetHash } from '../../src/mor/sign.js'
import { getJson, startGateway, TEST_API_SECRET, TEST_API_USER, type TestGateway } from '../helpers/gateway.js'
import { startEchoUpstream, type Echo } from '../helpers/echo-upstream.js'
import { rawRequest } from '../helpers/raw-http.js'
import { refusedUrl, startFaultUpstream } from '../helpers/fault-upstream.js'
import { problem } from '../helpers/expected.js'

const run = promisify(execFile)
const portOf = (url: string) => Number(new URL(url).port)

let sim: MorSimulator
let gw: TestGateway
let echo: Awaited<ReturnType<typeof startEchoUpstream>>
let viaEcho: TestGateway

beforeAll(async () => {
  sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
  gw = await startGateway(sim.url)
  echo = await startEchoUpstream()
  viaEcho = await startGateway(echo.url, { LEGACY_MAX_BODY_BYTES: String(6 * 1024 * 1024) })
})
afterAll(async () => {
  await Promise.all([gw.close(), viaEcho.close()])
  await Promise.all([sim.close(), echo.close()])
})

async function raw (url: string, opts: { method?: 'GET' | 'POST', body?: string, headers?: Record<string, string> } = {}) {
  const res = await request(url, { method: opts.method ?? 'GET', body: opts.body, headers: opts.headers })
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) }
}

describe('answers come back byte for byte', () => {
  const hash = devicesGetHash(2, TEST_API_SECRET)
  const calls = [
    ['GET devices', 'GET', `/api/devices_get?u=admin&user_id=2&hash=${hash}`, undefined],
    ['POST devices (form)', 'POST', '/api/device_list', `u=admin&user_id=2&hash=${hash}`],
    ['POST User not found', 'POST', '/api/devices_get', `u=admin&user_id=9&hash=${devicesGetHash(9, TEST_API_SECRET)}`],
    ['GET Incorrect hash', 'GET', '/api/devices_get?u=admin&user_id=2&hash=bad', undefined]
  ] as const
  for (const encoding of SIM_ENCODINGS) {
    for (const [name, method, path, body] of calls) {
      it(`${name}, ${encoding}`, async () => {
        sim.options.encoding = encoding
        const headers = body ? { 'content-type': 'application/x-www-form-urlencoded' } : undefined
        const direct = await raw(`${sim.url}${path}`, { method, body, headers })
        const proxied = await raw(`${gw.url}/billing${path}`, { method, body, headers })
        expect(proxied.status).toBe(direct.status)
        for (const header of ['content-type', 'content-encoding', 'content-disposition', 'set-cookie']) {
          expect(proxied.headers[header]).toStrictEqual(direct.headers[header])
        }
        expect(proxied.body.equals(direct.body)).toBe(true)
        expect(proxied.body.length).toBeGreaterThan(0)
      })
    }
  }
})

describe('requests go out unchanged', () => {
  it('forwards method, path, raw query, headers and body bytes, with the gateway\'s own X-Forwarded-* in place of the client\'s', async () => {
    const body = randomBytes(64 * 1024)
    const query = '?a=1&a=2&b=%20x+y&c&d=%C3%A9&hash=h1&u=legacy'
    const res = await request(`${viaEcho.url}/billing/api/devices_get${query}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8', 'x-custom': 'v', cookie: 'k=v', 'x-forwarded-for': '203.0.113.9' }
    })
    const seen = await res.body.json() as Echo
    expect(seen.method).toBe('POST')
    expect(seen.url).toBe(`/billing/api/devices_get${query}`)
    expect(seen.bodyLength).toBe(body.length)
    expect(seen.bodySha256).toBe(createHash('sha256').update(body).digest('hex'))
    expect(seen.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=UTF-8')
    expect(seen.headers['x-custom']).toBe('v')
    expect(seen.headers.cookie).toBe('k=v')
    expect(seen.headers.host).toBe(echo.host)
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1')
    expect(seen.headers['x-forwarded-proto']).toBe('http')
    expect(seen.headers['x-forwarded-host']).toBe(new URL(viaEcho.url).host)
  })

  it('drops hop-by-hop request headers and those the client\'s Connection header names', async () => {
    const res = await rawRequest(portOf(viaEcho.url), 'GET /billing/api/devices_get HTTP/1.1\r\nHost: gw\r\n' +
      'Connection: keep-alive, X-Drop-Me\r\nX-Drop-Me: 1\r\nKeep-Alive: timeout=9\r\nTE: trailers\r\nProxy-Authorization: Basic eA==\r\nX-Keep: 1\r\n\r\n')
    const seen = JSON.parse(res.body) as Echo
    expect(res.status).toBe(200)
    expect(Object.keys(seen.headers).filter((h) => ['x-drop-me', 'keep-alive', 'te', 'proxy-authorization'].includes(h))).toStrictEqual([])
    expect(seen.headers['x-keep']).toBe('1')
  })

  it('streams a 5 MiB POST body through intact', async () => {
    const body = randomBytes(5 * 1024 * 1024)
    const res = await request(`${viaEcho.url}/billing/api/cdrs_get`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } })
    const seen = await res.body.json() as Echo
    expect(res.statusCode).toBe(200)
    expect(seen.bodyLength).toBe(body.length)
    expect(seen.bodySha256).toBe(createHash('sha256').update(body).digest('hex'))
  })

  it('never copies hop-by-hop response headers, and passes the others', async () => {
    const res = await request(`${viaEcho.url}/billing/api/devices_get`)
    await res.body.dump()
    expect(res.headers['x-hop']).toBeUndefined()
    expect(res.headers['keep-alive']).not.toBe('timeout=5')
    expect(res.headers['x-upstream']).toBe('echo')
    expect(res.headers['set-cookie']).toStrictEqual(['a=1; Path=/', 'b=2; Path=/'])
  })

  it('closes the client connection when the client sends Connection: close', async () => {
    const res = await rawRequest(portOf(viaEcho.url), 'GET /billing/api/devices_get HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n')
    expect(res.status).toBe(200)
    expect(res.closedByServer).toBe(true)
    expect(res.head).toMatch(/\r\nconnection: close/i)
  })

  it('adds no MOR credentials of its own', async () => {
    const res = await request(`${viaEcho.url}/billing/api/devices_get?user_id=2`)
    const seen = await res.body.json() as Echo
    expect(seen.url).toBe('/billing/api/devices_get?user_id=2')
    expect(seen.bodyLength).toBe(0)
  })
})

describe('limits and failures', () => {
  it('answers 413 without calling MOR when Content-Length is over LEGACY_MAX_BODY_BYTES', async () => {
    const before = echo.requests
    const res = await getJsonPost(`${viaEcho.url}/billing/api/devices_get`, Buffer.alloc(6 * 1024 * 1024 + 1))
    expect(res.status).toBe(413)
    expect(res.body).toStrictEqual(problem('payload-too-large', 'Payload too large', 413, `Request body exceeds ${6 * 1024 * 1024} bytes`))
    expect(echo.requests).toBe(before)
  })

  it('answers 413 when a chunked body grows over the limit', async () => {
    const small = await startGateway(echo.url, { LEGACY_MAX_BODY_BYTES: '100000' })
    try {
      async function * chunks () { for (let i = 0; i < 20; i++) yield Buffer.alloc(10_000, 1) }
      const res = await request(`${small.url}/billing/api/devices_get`, { method: 'POST', body: Readable.from(chunks()), headers: { 'content-type': 'application/octet-stream' } })
      expect(res.statusCode).toBe(413)
      expect(await res.body.json()).toStrictEqual(problem('payload-too-large', 'Payload too large', 413, 'Request body exceeds 100000 bytes'))
    } finally {
      await small.close()
    }
  })

  it('answers 502 upstream-unavailable when MOR refuses connections', async () => {
    const down = await startGateway(await refusedUrl())
    try {
      const res = await getJson(`${down.url}/billing/api/devices_get?user_id=1`)
      expect(res.status).toBe(502)
      expect(res.body).toStrictEqual(problem('upstream-unavailable', 'MOR unavailable', 502, 'MOR could not be reached: connection refused'))
    } finally {
      await down.close()
    }
  })

  it('answers 504 upstream-timeout when MOR does not answer in time', async () => {
    const slow = await startFaultUpstream()
    slow.handle(() => {})
    const gwSlow = await startGateway(slow.url, { UPSTREAM_TIMEOUT_MS: '300' })
    try {
      const res = await getJson(`${gwSlow.url}/billing/api/devices_get?user_id=1`)
      expect(res.status).toBe(504)
      expect(res.body).toStrictEqual(problem('upstream-timeout', 'MOR timed out', 504, 'MOR did not answer within 300 ms'))
    } finally {
      await gwSlow.close()
      await slow.close()
    }
  })

  it('is switched off by LEGACY_PASSTHROUGH=false', async () => {
    const off = await startGateway(sim.url, { LEGACY_PASSTHROUGH: 'false' })
    try {
      // Not getJson: the committed contract documents the passthrough, which this gateway has not.
      const res = await fetch(`${off.url}/billing/api/devices_get?user_id=1`)
      expect(res.status).toBe(404)
      expect(await res.json()).toStrictEqual(problem('not-found', 'Not found', 404, 'No route for GET /billing/api/devices_get'))
    } finally {
      await off.close()
    }
  })

  it('keeps hash, p and bodies out of the logs', async () => {
    await request(`${viaEcho.url}/billing/api/devices_get?u=admin&user_id=5&hash=hash-marker-1a2b&p=pw-marker-3c4d`, {
      method: 'POST', body: 'u=admin&p=body-pw-marker&hash=body-hash-marker', headers: { 'content-type': 'application/x-www-form-urlencoded' }
    }).then((res) => res.body.dump())
    const logs = viaEcho.logs.join('')
    expect(logs).toContain('/billing/api/devices_get')
    for (const marker of ['hash-marker-1a2b', 'pw-marker-3c4d', 'body-pw-marker', 'body-hash-marker']) expect(logs).not.toContain(marker)
  })
})

describe('confinement to the MOR API path', () => {
  const probes = [
    '/billing/api/../x', '/billing/api/..', '/billing/api/%2e%2e/x', '/billing/api/%2E%2E/admin', '/billing/api/.%2e/x',
    '/billing/api/a%2fb', '/billing/api/a%2F..%2F..%2Fx', '/billing/api/%252e%252e/x', '/billing/api/a\\..\\..\\x',
    '/billing/api//etc/passwd', '/billing/api/./devices_get', '/billing/api/devices_get/..', '/billing/api/..;/x',
    '/billing/api/%00', '/billing/api/%', '/billing/api/%zz', '/billing/api/dev%C0%AEices', '/billing/api/', '/billing/api', '/billing//api/x', '/billing/apix', '/billing/x',
    'http://127.0.0.1:1/billing/api/devices_get', '//evil.example/billing/api/x', '*'
  ]
  for (const path of probes) {
    it(`never forwards ${JSON.stringify(path)}`, async () => {
      const before = echo.requests
      const res = await rawRequest(portOf(viaEcho.url), `GET ${path} HTTP/1.1\r\nHost: gw\r\n\r\n`)
      expect([400, 404]).toContain(res.status)
      if (res.body !== '') expect((JSON.parse(res.body) as { type: string }).type).toMatch(/^\/problems\/(invalid-request|not-found)$/)
      expect(echo.requests).toBe(before)
    })
  }
})

describe('curl as a legacy client', () => {
  it('gets the same gzipped file through the gateway as from MOR, and --compressed decodes it', async () => {
    sim.options.encoding = 'gzip-file'
    const args = (base: string) => ['-s', '--data', `u=admin&user_id=3&hash=${devicesGetHash(3, TEST_API_SECRET)}`, `${base}/api/devices_get`]
    const direct = await run('curl', args(sim.url), { encoding: 'buffer' })
    const proxied = await run('curl', args(`${gw.url}/billing`), { encoding: 'buffer' })
    expect(proxied.stdout.equals(direct.stdout)).toBe(true)
    expect(gunzipSync(proxied.stdout).toString()).toContain('<device_id>55</device_id>')
    sim.options.encoding = 'gzip'
    const decoded = await run('curl', ['-s', '--compressed', ...args(`${gw.url}/billing`)])
    expect(decoded.stdout).toContain('<device_type>IAX2</device_type>')
  })
})

async function getJsonPost (url: string, body: Buffer) {
  const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } })
  return { status: res.statusCode, body: await res.body.json() }
}
