// Property: whatever anonymous clients do (stop at any byte, reset, half-close, stall, trickle,
// send Expect, Connection and Transfer-Encoding in any mix) to the passthrough and the JSON API,
// the compiled gateway lives, ordinary clients calling meanwhile get their answers, no request gets
// two answers, nothing is logged as an error, and every pool place and the memory come back.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUTH } from '../helpers/gateway.js'
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js'
import { rawClient, sleep } from '../helpers/raw-client.js'
import { waitFor } from '../helpers/wait.js'
import { startLegacyUpstream } from '../helpers/legacy-upstream.js'

const RUNS = 25
/** Far above what the runs need, far below what a leak per misbehaving client would reach. */
const RSS_GROWTH_LIMIT = 96 * 1024 * 1024

let upstream: Awaited<ReturnType<typeof startLegacyUpstream>>
let gw: GatewayProcess
let port: number

beforeAll(async () => {
  upstream = await startLegacyUpstream()
  gw = await startGatewayProcess(upstream.url, { LOG_LEVEL: 'info', REQUEST_TIMEOUT_MS: '2000', HEADERS_TIMEOUT_MS: '1000' })
  port = Number(new URL(gw.url).port)
}, 180_000)

afterAll(async () => {
  await gw?.stop()
  await upstream?.close()
})

const misbehaviour = fc.record({
  target: fc.constantFrom('/billing/api/echo', '/billing/api/big', '/v1/users/7/devices', '/v1/users/8/devices'),
  method: fc.constantFrom('GET', 'POST'),
  expect: fc.boolean(),
  connection: fc.constantFrom(undefined, 'close', 'keep-alive', 'keep-alive, x-named'),
  framing: fc.constantFrom('length', 'chunked', 'none'),
  bodyLength: fc.oneof(fc.integer({ min: 0, max: 512 }), fc.integer({ min: 60_000, max: 300_000 })),
  /** Where the client stops, as a fraction of the whole request's bytes (1: all of it). */
  stopAt: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(1)),
  pieces: fc.integer({ min: 1, max: 8 }),
  pauseMs: fc.integer({ min: 0, max: 40 }),
  leave: fc.constantFrom('reset', 'half-close', 'stall-then-reset', 'wait-for-answer')
})
type Misbehaviour = typeof misbehaviour extends fc.Arbitrary<infer T> ? T : never

function requestBytes (m: Misbehaviour): Buffer {
  const body = Buffer.alloc(m.method === 'POST' || m.framing !== 'none' ? m.bodyLength : 0, 'q')
  const head = [`${m.method} ${m.target} HTTP/1.1`, 'Host: gw', `Authorization: ${AUTH.authorization}`]
  if (m.expect) head.push('Expect: 100-continue')
  if (m.connection) head.push(`Connection: ${m.connection}`)
  if (m.framing === 'length') head.push(`Content-Length: ${body.length}`)
  if (m.framing === 'chunked') head.push('Transfer-Encoding: chunked')
  const framed = m.framing === 'chunked'
    ? Buffer.concat([Buffer.from(body.length > 0 ? `${body.length.toString(16)}\r\n` : ''), body, Buffer.from(body.length > 0 ? '\r\n0\r\n\r\n' : '0\r\n\r\n')])
    : m.framing === 'length' ? body : Buffer.alloc(0)
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), framed])
}

/** Plays one misbehaving client; returns how many final answers its one request got. */
async function play (m: Misbehaviour): Promise<number> {
  const client = await rawClient(port)
  const bytes = requestBytes(m)
  const stop = Math.floor(bytes.length * m.stopAt)
  const step = Math.max(1, Math.ceil(stop / m.pieces))
  for (let at = 0; at < stop && !client.isClosed(); at += step) {
    await client.send(bytes.subarray(at, Math.min(stop, at + step)))
    if (m.pauseMs > 0) await sleep(m.pauseMs)
  }
  if (m.leave === 'reset') client.reset()
  else if (m.leave === 'half-close') client.socket.end()
  else if (m.leave === 'stall-then-reset') { await sleep(300); client.reset() }
  await Promise.race([client.closed, sleep(m.leave === 'wait-for-answer' ? 3000 : 500)])
  const answers = client.statuses().length
  client.reset()
  return answers
}

/** Ordinary clients: a cached JSON answer, a form POST through the passthrough, a legacy GET. */
async function ordinary (): Promise<number[]> {
  const calls = [
    fetch(`${gw.url}/v1/users/7/devices`, { headers: AUTH }),
    fetch(`${gw.url}/billing/api/echo`, { method: 'POST', body: 'u=admin&user_id=7&hash=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    fetch(`${gw.url}/billing/api/echo?u=admin`)
  ]
  return await Promise.all(calls.map(async (call) => {
    const res = await call
    await res.arrayBuffer()
    return res.status
  }))
}

describe('random client misbehaviour', () => {
  it('never takes the gateway down, doubles an answer, or keeps a place or memory', async () => {
    expect(await ordinary()).toStrictEqual([200, 200, 200])
    const baseline = await gw.rss()
    await fc.assert(fc.asyncProperty(fc.array(misbehaviour, { minLength: 1, maxLength: 6 }), async (clients) => {
      const [answers, statuses] = await Promise.all([Promise.all(clients.map(play)), ordinary()])
      expect(statuses).toStrictEqual([200, 200, 200])
      for (const count of answers) expect(count).toBeLessThanOrEqual(1)
      expect(gw.proc.exitCode).toBeNull()
    }), { numRuns: RUNS, interruptAfterTimeLimit: 150_000 })
    await waitFor(async () => await gw.metric('gateway_legacy_calls_in_flight') === 0, { timeoutMs: 10_000, what: 'every passthrough place back' })
    expect(gw.proc.exitCode).toBeNull()
    expect(await ordinary()).toStrictEqual([200, 200, 200])
    expect(await gw.rss()).toBeLessThan(baseline + RSS_GROWTH_LIMIT)
    const errors = gw.logs().filter((line) => (JSON.parse(line) as { level: number }).level >= 50)
    expect(errors).toStrictEqual([])
  }, 240_000)
})
