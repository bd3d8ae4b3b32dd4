// The trust boundary, tried as an attacker would: anonymous clients misbehaving over raw sockets
// against the compiled gateway in its own process. Each block is a defect that was seen (crash,
// wedge, unbounded uploads, redaction gaps, spoofed forwarding headers, doubled answers, noise in
// the logs); each test fails on the code that had it. Run by `npm run test:faults`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUTH, TEST_API_KEY } from '../helpers/gateway.js'
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js'
import { inBatches, rawClient, sleep, statusCodes } from '../helpers/raw-client.js'
import { waitFor } from '../helpers/wait.js'
import { BIG, startLegacyUpstream } from '../helpers/legacy-upstream.js'
import { INSTANCE } from '../helpers/expected.js'

let upstream: Awaited<ReturnType<typeof startLegacyUpstream>>
let gw: GatewayProcess
let port: number

const REQUEST_TIMEOUT_MS = 2000
const HEADERS_TIMEOUT_MS = 1000

beforeAll(async () => {
  upstream = await startLegacyUpstream()
  gw = await startGatewayProcess(upstream.url, {
    LOG_LEVEL: 'debug',
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS)
  })
  port = Number(new URL(gw.url).port)
}, 180_000)

afterAll(async () => {
  await gw?.stop()
  await upstream?.close()
})

const form = 'u=admin&user_id=7&hash=0123456789abcdef'
const legacyPost = (extra = '', body = form) =>
  `POST /billing/api/echo HTTP/1.1\r\nHost: gw\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`

/** An ordinary legacy client: one form POST on its own connection, and its status. */
async function ordinaryPost (): Promise<number> {
  const res = await fetch(`${gw.url}/billing/api/echo`, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  await res.arrayBuffer()
  return res.status
}

const inFlight = async () => await gw.metric('gateway_legacy_calls_in_flight')
/** Log lines at warn or above (pino levels 40+). */
const loudLines = (lines: string[]) => lines.filter((line) => (JSON.parse(line) as { level: number }).level >= 40)

describe('a client resetting a partly sent upload while the pool is busy', () => {
  it('leaves the process up and answering, with every pool place back', async () => {
    // Its own process: a crash here must not take the other tests' gateway with it.
    const target = await startGatewayProcess(upstream.url)
    const targetPort = Number(new URL(target.url).port)
    // 64 large uploads sent one byte at a time take every connection to MOR (the pool's size).
    const slow = await Promise.all(Array.from({ length: 64 }, async () => {
      const client = await rawClient(targetPort)
      await client.send(`POST /billing/api/echo HTTP/1.1\r\nHost: gw\r\nContent-Type: application/octet-stream\r\nContent-Length: ${1024 * 1024}\r\n\r\n`)
      return client
    }))
    const trickle = setInterval(() => { for (const client of slow) client.send('a').catch(() => {}) }, 200)
    try {
      await waitFor(() => upstream.state.active === 64, { what: '64 uploads reaching MOR' })
      // Then clients that queue behind them send part of a body and reset, at many offsets.
      await Promise.all(Array.from({ length: 40 }, async (_, i) => {
        const client = await rawClient(targetPort)
        const chunked = i % 2 === 1
        await client.send(`POST /billing/api/echo HTTP/1.1\r\nHost: gw\r\n${chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${i % 4 === 0 ? 100 : 200_000}`}\r\n\r\n`)
        if (i % 3 !== 0) await client.send(chunked ? `${(i * 3).toString(16)}\r\n${'b'.repeat(i * 3)}\r\n` : 'b'.repeat(i * 3))
        await sleep(i * 5)
        client.reset()
      }))
      await sleep(300)
      expect(target.proc.exitCode).toBeNull()
      expect((await fetch(`${target.url}/health/live`)).status).toBe(200)
      for (const client of slow) client.reset()
      await waitFor(async () => await target.metric('gateway_legacy_calls_in_flight') === 0, { what: 'every pool place back' })
      expect((await fetch(`${target.url}/billing/api/echo?after=1`)).status).toBe(200)
      expect(target.proc.exitCode).toBeNull()
    } finally {
      clearInterval(trickle)
      for (const client of slow) client.reset()
      await target.stop()
    }
  })
})

describe('Expect: 100-continue', () => {
  it('is answered by the gateway and never forwarded: 200 ordinary POSTs still succeed after 200 of them', async () => {
    const expecting = await inBatches(Array.from({ length: 200 }, (_, i) => i), 25, async () => {
      const client = await rawClient(port)
      await client.send(legacyPost('Expect: 100-continue\r\nConnection: close\r\n'))
      await client.closed
      return { text: client.received(), statuses: client.statuses() }
    })
    for (const { text, statuses } of expecting) {
      expect(statuses).toStrictEqual([200])
      const echo = JSON.parse(text.slice(text.lastIndexOf('\r\n\r\n') + 4)) as { headers: Record<string, string> }
      expect(echo.headers.expect).toBeUndefined()
    }
    const ordinary = await inBatches(Array.from({ length: 200 }, (_, i) => i), 25, ordinaryPost)
    expect(ordinary.every((status) => status === 200)).toBe(true)
  })
})

describe('uploads and headers held open', () => {
  it('cuts a slow upload at REQUEST_TIMEOUT_MS with a 408 problem and frees its place', async () => {
    for (const length of [100, 1024 * 1024]) { // read whole first, and streamed
      const client = await rawClient(port)
      await client.send(`POST /billing/api/echo HTTP/1.1\r\nHost: gw\r\nContent-Length: ${length}\r\n\r\n`)
      const trickle = setInterval(() => { client.send('a').catch(() => {}) }, 100)
      await client.closed
      clearInterval(trickle)
      // The request timeout's own problem: not an idle cut (bytes kept coming) nor the headers' (they were whole).
      expect(client.statuses()).toStrictEqual([408])
      const text = client.received()
      expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toStrictEqual({
        type: '/problems/request-timeout', title: 'Request timeout', status: 408, detail: 'The request did not arrive in time', instance: INSTANCE
      })
      await waitFor(async () => await inFlight() === 0, { what: 'the upload\'s place back' })
    }
  })

  it('answers 408 to headers that do not arrive within HEADERS_TIMEOUT_MS', async () => {
    const client = await rawClient(port)
    await client.send('GET /v1/users/7/devices HTTP/1.1\r\nHost: gw\r\n')
    const trickle = setInterval(() => { client.send('X-A: b\r\n').catch(() => {}) }, 100)
    await client.closed
    clearInterval(trickle)
    expect(client.statuses()).toStrictEqual([408])
  })

  it('answers 503 at once, not an unbounded wait, when every connection and queue place is taken', async () => {
    const small = await startGatewayProcess(upstream.url, { LEGACY_CONNECTIONS: '2', LEGACY_QUEUE: '1', REQUEST_TIMEOUT_MS: '3000', HEADERS_TIMEOUT_MS: '1000' })
    const smallPort = Number(new URL(small.url).port)
    const holders = await Promise.all([0, 1, 2].map(async () => {
      const client = await rawClient(smallPort)
      await client.send(`POST /billing/api/echo HTTP/1.1\r\nHost: gw\r\nContent-Length: ${1024 * 1024}\r\n\r\nabc`)
      return client
    }))
    try {
      await waitFor(async () => await small.metric('gateway_legacy_calls_in_flight') === 3, { what: 'three places taken' })
      const res = await fetch(`${small.url}/billing/api/echo?x=1`)
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('1')
      expect(await res.json()).toStrictEqual({ type: '/problems/overloaded', title: 'Gateway overloaded', status: 503, detail: 'Every connection to MOR is busy; retry shortly', instance: INSTANCE })
      // The request timeout frees the places; then the passthrough serves again.
      await Promise.all(holders.map(async (client) => { await client.closed }))
      await waitFor(async () => await small.metric('gateway_legacy_calls_in_flight') === 0, { what: 'places back' })
      expect((await fetch(`${small.url}/billing/api/echo?x=2`)).status).toBe(200)
    } finally {
      for (const client of holders) client.reset()
      await small.stop()
    }
  })
})

describe('credentials in URLs, whatever their spelling', () => {
  it('never logs an API key given as access_token, nor hash spelled %68ash, ;hash, hash[] or HASH', async () => {
    const marks = ['mark-hash-a1', 'mark-hash-b2', 'mark-hash-c3', 'mark-hash-d4', 'mark-p-e5', 'mark-key-f6', 'mark-token-g7', 'mark-hash-h8']
    const res = await fetch(`${gw.url}/v1/users/7/devices?access_token=${TEST_API_KEY}`)
    expect(res.status).toBe(401)
    await res.arrayBuffer()
    const query = `u=admin&%68ash=${marks[0]};hash=${marks[1]}&hash[]=${marks[2]}&HASH=${marks[3]}&p=${marks[4]}&api_key=${marks[5]}&token=${marks[6]}&hash%5B%5D=${marks[7]}`
    for (const path of [`/billing/api/echo?${query}`, `/billing/api/nope..x?${query}`]) {
      const answer = await fetch(`${gw.url}${path}`, { method: 'POST', body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      await answer.arrayBuffer()
    }
    const client = await rawClient(port)
    await client.send(`GET /billing/api/echo?${query} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n`)
    await client.closed
    await sleep(200)
    const logs = gw.logs().join('\n')
    expect(logs).toContain('/billing/api/echo')
    expect(logs).toContain('access_token=[redacted]')
    for (const secret of [TEST_API_KEY, ...marks]) expect(logs).not.toContain(secret)
  })
})

describe('forwarding headers at the edge', () => {
  const spoofed = 'X-Forwarded-For: 10.0.0.1\r\nForwarded: for=10.0.0.2\r\nX-Real-IP: 10.0.0.3\r\nTrue-Client-IP: 10.0.0.4\r\n' +
    'X-Forwarded-Port: 8443\r\nX-Original-URL: /admin\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https\r\n'

  for (const method of ['GET', 'POST']) {
    it(`sends MOR only the gateway's own view of the client (${method})`, async () => {
      const client = await rawClient(port)
      await client.send(`${method} /billing/api/echo HTTP/1.1\r\nHost: gw.example\r\n${spoofed}Content-Length: 0\r\nConnection: close\r\n\r\n`)
      await client.closed
      const text = client.received()
      const seen = (JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string> }).headers
      expect(seen['x-forwarded-for']).toBe('127.0.0.1')
      expect(seen['x-forwarded-proto']).toBe('http')
      expect(seen['x-forwarded-host']).toBe('gw.example')
      for (const name of ['forwarded', 'x-real-ip', 'true-client-ip', 'x-forwarded-port', 'x-original-url']) expect(seen[name]).toBeUndefined()
    })
  }

  it('behind a trusted proxy, keeps what the proxy said and appends its hop, dropping the client\'s own claims', async () => {
    const behind = await startGatewayProcess(upstream.url, { TRUST_PROXY: '1' })
    try {
      const res = await fetch(`${behind.url}/billing/api/echo`, { headers: { 'x-forwarded-for': '10.0.0.1, 198.51.100.7', 'x-real-ip': '10.0.0.3' } })
      const seen = (await res.json() as { headers: Record<string, string> }).headers
      expect(seen['x-forwarded-for']).toBe('198.51.100.7, 127.0.0.1')
      expect(seen['x-real-ip']).toBeUndefined()
    } finally {
      await behind.stop()
    }
  })
})

describe('one answer per request', () => {
  it('a malformed chunk after a 404 gets no second answer', async () => {
    const client = await rawClient(port)
    await client.send('POST /v1/users/100/unknown HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n')
    await waitFor(() => client.statuses().length > 0, { what: 'the 404' })
    await client.send('ZZZ\r\nnot a chunk\r\n\r\n')
    await Promise.race([client.closed, sleep(2000)])
    expect(client.statuses()).toStrictEqual([404])
  })

  it('garbage pipelined behind a large passthrough answer gets no answer of its own, and the answer arrives whole', async () => {
    const client = await rawClient(port)
    await client.send('GET /billing/api/big HTTP/1.1\r\nHost: gw\r\n\r\nGARBAGE\x01 / HTTP/9\r\n\r\n')
    await Promise.race([client.closed, sleep(5000)])
    const text = client.received()
    expect(statusCodes(text)).toStrictEqual([200])
    expect(text.length - text.indexOf('\r\n\r\n') - 4).toBe(BIG)
  })

  it('a malformed chunk in a passthrough upload is answered once, with 400', async () => {
    const client = await rawClient(port)
    await client.send('POST /billing/api/echo HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n')
    await sleep(100)
    await client.send('ZZZ\r\n')
    await Promise.race([client.closed, sleep(2000)])
    expect(client.statuses()).toStrictEqual([400])
  })
})

describe('clients that leave', () => {
  it('are never logged as errors or upstream failures, and never trip the circuit', async () => {
    const before = gw.logs().length
    const abortsBefore = await gw.metric('gateway_legacy_client_aborts_total')
    await Promise.all(Array.from({ length: 30 }, async (_, i) => {
      const client = await rawClient(port)
      if (i % 3 === 0) {
        // Leaves mid-answer: it reads nothing, so the 3 MB answer cannot have gone out whole before
        // it leaves (a client that read along could take all of it within the wait, some runs).
        client.socket.pause()
        await client.send('GET /billing/api/big HTTP/1.1\r\nHost: gw\r\n\r\n')
      } else if (i % 3 === 1) {
        await client.send(`POST /billing/api/echo HTTP/1.1\r\nHost: gw\r\nContent-Length: ${1024 * 1024}\r\n\r\n${'u'.repeat(1000)}`) // mid-upload
      } else {
        await client.send(`GET /v1/users/${1000 + i}/devices HTTP/1.1\r\nHost: gw\r\nAuthorization: ${AUTH.authorization}\r\n\r\n`) // while MOR is called
      }
      await sleep(30 + i)
      client.reset()
    }))
    await sleep(500)
    expect(loudLines(gw.logs().slice(before))).toStrictEqual([])
    expect(await gw.metric('gateway_legacy_client_aborts_total')).toBeGreaterThanOrEqual(abortsBefore + 10)
    const failures = await gw.metric('gateway_mor_call_duration_seconds_count{outcome="unavailable"}')
    expect(Number.isNaN(failures) ? 0 : failures).toBe(0)
    expect(await gw.metric('gateway_circuit_state')).toBe(0)
    expect(await inFlight()).toBe(0)
  })
})
