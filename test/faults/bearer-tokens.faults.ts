// Bearer tokens tried as an attacker would, over raw sockets against the compiled gateway in its
// own process: huge and malformed tokens, a flood of invented key ids, clients that leave while
// their token is being verified, pipelined requests sharing one new token, and an identity
// provider that answers slowly or with garbage. Nothing may crash, wedge, answer 500 or hammer
// the provider. Run by `npm run test:faults`.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { TEST_API_SECRET, TEST_API_USER } from '../helpers/gateway.js'
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js'
import { inBatches, rawClient, sleep } from '../helpers/raw-client.js'
import { AUDIENCE, ISSUER, jwtEnv, signingKey, startIdentityProvider, token, type IdentityProvider, type SigningKey } from '../helpers/identity-provider.js'
import { waitFor } from '../helpers/wait.js'

let sim: MorSimulator
let idp: IdentityProvider
let key: SigningKey
let gw: GatewayProcess
let port: number

beforeAll(async () => {
  sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
  key = await signingKey('faults-1')
  idp = await startIdentityProvider([key])
  gw = await startGatewayProcess(sim.url, { ...jwtEnv(idp), LOG_LEVEL: 'debug' })
  port = Number(new URL(gw.url).port)
}, 180_000)

afterAll(async () => {
  await gw?.stop()
  await Promise.all([idp?.close(), sim?.close()])
})

const get = (value: string, path = '/v1/users/2/devices') => `GET ${path} HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${value}\r\n\r\n`
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')

async function statusOf (value: string): Promise<number> {
  const res = await fetch(`${gw.url}/v1/users/2/devices`, { headers: { authorization: `Bearer ${value}` } })
  await res.arrayBuffer()
  return res.status
}

describe('malformed and oversized tokens', () => {
  it('answers 401 to tokens that are not JSON, not base64url, or near the header limit, and stays up', async () => {
    const now = Math.floor(Date.now() / 1000)
    const bad = [
      'a.b.c',
      `${b64({ alg: 'RS256', kid: 'faults-1' })}.not-json.c2ln`,
      `${b64({ alg: 'RS256', kid: 'faults-1' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'x', exp: now + 60, mor_user_id: 'x'.repeat(12_000) })}.c2ln`,
      `${b64({ alg: 'RS256', kid: 'k'.repeat(8000) })}.${b64({})}.`,
      `${'e'.repeat(7000)}.${'e'.repeat(7000)}.${'e'.repeat(500)}`
    ]
    for (const value of bad) expect(await statusOf(value)).toBe(401)
    expect(await statusOf(await token(key))).toBe(200)
  })
})

describe('a flood of tokens naming key ids the provider never published', () => {
  it('refuses them all and asks the provider again at most once per 30 s', async () => {
    const before = idp.fetches
    const strangers = await Promise.all(Array.from({ length: 10 }, async (_, i) => await signingKey(`invented-${i}`)))
    const statuses = await inBatches(Array.from({ length: 200 }, (_, i) => i), 20, async (i) => statusOf(await token(strangers[i % 10] as SigningKey, { sub: `s${i}` })))
    expect(new Set(statuses)).toStrictEqual(new Set([401]))
    expect(idp.fetches - before).toBeLessThanOrEqual(1)
  })
})

describe('clients that leave while their token is verified', () => {
  it('leave nothing behind: the process answers the next caller at once', async () => {
    for (let i = 0; i < 50; i++) {
      const client = await rawClient(port)
      await client.send(get(await token(key, { sub: `leaver-${i}` })).slice(0, 40 + i * 7))
      if (i % 2 === 0) client.reset()
      else {
        await client.send(get(await token(key, { sub: `leaver-${i}` })).slice(40 + i * 7))
        client.reset()
      }
    }
    await sleep(100)
    expect(await statusOf(await token(key, { sub: 'after' }))).toBe(200)
    const loud = gw.logs().filter((line) => (JSON.parse(line) as { level: number }).level >= 50)
    expect(loud).toStrictEqual([])
  })
})

describe('pipelined requests sharing one new token', () => {
  it('answers each once, in order, the token verified once', async () => {
    const value = await token(key, { sub: 'pipeliner', mor_user_id: [2, 3] })
    const client = await rawClient(port)
    await client.send(get(value) + get(value, '/v1/users/3/devices') + get(value, '/v1/users/5/devices') + get(value, '/v1/me/devices'))
    await expect.poll(() => client.statuses().length, { timeout: 5000 }).toBe(4)
    expect(client.statuses()).toStrictEqual([200, 200, 403, 400])
    client.reset()
  })
})

describe('an identity provider that misbehaves', () => {
  let slow: Server
  let url: string
  let mode: 'hang' | 'garbage' | 'huge' | 'redirect' = 'hang'
  /** The key set requests the provider never answers, and whether the gateway has left each. */
  const held: Array<{ left: boolean }> = []
  beforeAll(async () => {
    slow = createServer((req, res) => {
      if (mode === 'hang') { // never answers
        const request = { left: false }
        held.push(request)
        req.socket.once('close', () => { request.left = true })
        return
      }
      if (mode === 'garbage') res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [{"kty": "nonsense"}')
      else if (mode === 'huge') res.writeHead(200, { 'content-type': 'application/json' }).end(`{"keys": [], "pad": "${'x'.repeat(2 * 1024 * 1024)}"}`)
      else res.writeHead(302, { location: idp.url }).end()
    })
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/jwks.json`
  })
  afterAll(async () => {
    slow.closeAllConnections()
    await new Promise((resolve) => slow.close(resolve))
  })

  it.each(['hang', 'garbage', 'huge', 'redirect'] as const)('answers 401 (never 500, never a hang) when it %s', async (how) => {
    mode = how
    const target = await startGatewayProcess(sim.url, { JWT_JWKS_URL: url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE })
    try {
      const res = await fetch(`${target.url}/v1/users/2/devices`, { headers: { authorization: `Bearer ${await token(key)}` } })
      await res.arrayBuffer()
      expect(res.status).toBe(401)
      // Never a hang: the gateway gives up a provider that does not answer (its fetch is bounded),
      // rather than holding the request on it; a gateway that waited would fail at the test's timeout.
      if (how === 'hang') await waitFor(() => held.length > 0 && held.every((r) => r.left), { what: 'the gateway to leave the silent provider' })
      expect((await fetch(`${target.url}/health/live`)).status).toBe(200)
    } finally {
      await target.stop()
    }
  }, 30_000)
})
