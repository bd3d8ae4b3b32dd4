// Prism as in prism.test.ts, in front of the gateway's answers to trouble: a MOR that is slow, then
// down (504, 502, the circuit's 503, then the rate limit's 429), and a gateway that sheds load (503
// on readiness and problem pages, never on liveness). And Prism itself: it reads nothing but the
// committed file, and it does catch an answer that breaks the contract.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { devicesGetHash } from '../../src/mor/sign.js'
import { AUTH, NO_CACHE, startGateway, TEST_API_SECRET, TEST_API_USER, type TestGateway } from '../helpers/gateway.js'
import { CONTRACT_PATH, startPrism, viaPrism, type Prism, type PrismAnswer } from '../helpers/prism.js'

const closers: Array<() => Promise<void>> = []
afterEach(async () => { while (closers.length > 0) await closers.pop()?.() })

async function simulator (): Promise<MorSimulator> {
  const sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
  closers.push(() => sim.close())
  return sim
}
async function gatewayBehindPrism (morUrl: string, env: Record<string, string>): Promise<{ gw: TestGateway, prism: Prism }> {
  const gw = await startGateway(morUrl, env)
  closers.push(() => gw.close())
  const prism = await startPrism(gw.url)
  closers.push(() => prism.close())
  return { gw, prism }
}

/** Status, problem type and what Prism found wrong (nothing, for an answer the contract allows). */
function outcome (answer: PrismAnswer) {
  const type = answer.headers.get('content-type')?.startsWith('application/problem+json') === true ? (JSON.parse(answer.text) as { type: string }).type : undefined
  return { status: answer.status, type, violations: answer.violations }
}
const allowed = (status: number, slug: string) => ({ status, type: `/problems/${slug}`, violations: [] })

describe('Prism in front of a gateway whose MOR is in trouble', () => {
  it('passes the timeouts, the failures, the open circuit and the rate limit', async () => {
    const sim = await simulator()
    const { prism } = await gatewayBehindPrism(sim.url, { ...NO_CACHE, UPSTREAM_TIMEOUT_MS: '300', CIRCUIT_FAILURES: '3', RATE_LIMIT_PER_MINUTE: '4' })
    const legacy = `/billing/api/devices_get?u=${TEST_API_USER}&user_id=2&hash=${devicesGetHash(2, TEST_API_SECRET)}`
    sim.options.delayMs = 2000
    expect(outcome(await viaPrism(prism, '/v1/devices/5', { headers: AUTH }))).toStrictEqual(allowed(504, 'upstream-timeout'))
    expect(outcome(await viaPrism(prism, legacy))).toStrictEqual(allowed(504, 'upstream-timeout'))
    sim.options.delayMs = 0
    await sim.close()
    expect(outcome(await viaPrism(prism, '/v1/users/2/devices', { headers: AUTH }))).toStrictEqual(allowed(502, 'upstream-unavailable'))
    expect(outcome(await viaPrism(prism, '/v1/users/3/devices', { headers: AUTH }))).toStrictEqual(allowed(502, 'upstream-unavailable'))
    const open = await viaPrism(prism, '/v1/users/5/devices', { headers: AUTH })
    expect(outcome(open)).toStrictEqual(allowed(503, 'upstream-unavailable'))
    expect(open.headers.get('retry-after')).toMatch(/^[0-9]+$/)
    expect(outcome(await viaPrism(prism, '/v1/users/2/devices', { headers: AUTH }))).toStrictEqual(allowed(429, 'rate-limited'))
    expect(outcome(await viaPrism(prism, legacy))).toStrictEqual(allowed(502, 'upstream-unavailable'))
    const ready = await viaPrism(prism, '/health/ready')
    expect({ ...outcome(ready), body: JSON.parse(ready.text) as unknown }).toMatchObject({ status: 200, violations: [], body: { status: 'degraded' } })
  })
})

describe('Prism in front of a gateway that sheds load', () => {
  it('passes 503 overloaded on readiness and problem pages, and liveness\'s 200', async () => {
    const sim = await simulator()
    const { prism } = await gatewayBehindPrism(sim.url, { MAX_EVENT_LOOP_DELAY_MS: '50' })
    // The gateway runs in this process: a blocked event loop here is its event loop (Prism's is its
    // own). Load shedding samples the mean delay once a second; the first block ends a sample
    // period, so the second is nearly all of the next one, whatever the phase Prism's start left.
    for (const block of [1, 2]) {
      const until = Date.now() + 1200
      while (Date.now() < until) { /* busy */ }
      if (block === 1) await new Promise((resolve) => setTimeout(resolve, 0))
    }
    let answers: PrismAnswer[] = []
    for (let i = 0; i < 20; i++) {
      answers = await Promise.all(['/health/ready', '/problems/stale-cursor', '/health/live'].map((path) => viaPrism(prism, path)))
      for (const answer of answers) expect(answer.violations).toStrictEqual([])
      if (answers[0]?.status === 503 && answers[1]?.status === 503) break
    }
    expect(answers.map(outcome)).toStrictEqual([allowed(503, 'overloaded'), allowed(503, 'overloaded'), { status: 200, type: undefined, violations: [] }])
  })
})

describe('Prism itself', () => {
  it('reads the contract from disk alone: every $ref in it points inside the document', () => {
    const refs: string[] = []
    JSON.parse(readFileSync(CONTRACT_PATH, 'utf8'), (key, value: unknown) => {
      if (key === '$ref' || key === '$id' || key === '$schema') refs.push(`${key}: ${String(value)}`)
      return value
    })
    expect(refs.length).toBeGreaterThan(10)
    expect(refs.filter((ref) => !ref.startsWith('$ref: #/components/schemas/'))).toStrictEqual([])
  })

  it('catches an answer that breaks the contract: a 409 of another problem type, details without their fields, an undocumented status', async () => {
    const answers: Record<string, [number, string, unknown]> = {
      '/v1/users/2/devices': [409, 'application/problem+json', { type: '/problems/overloaded', title: 'Gateway overloaded', status: 409, detail: 'x' }],
      '/v1/devices/5': [200, 'application/json', { id: 5 }],
      '/health/live': [503, 'application/problem+json', { type: '/problems/overloaded', title: 'Gateway overloaded', status: 503, detail: 'x' }]
    }
    const impostor: Server = createServer((req, res) => {
      const [status, type, body] = answers[req.url ?? ''] ?? [404, 'text/plain', '']
      res.writeHead(status, { 'content-type': type }).end(JSON.stringify(body))
    })
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve))
    closers.push(() => new Promise((resolve) => impostor.close(() => resolve())))
    const prism = await startPrism(`http://127.0.0.1:${(impostor.address() as AddressInfo).port}`)
    closers.push(() => prism.close())

    const where = (answer: PrismAnswer) => answer.violations.map(({ location, severity }) => `${severity} ${location.join('.')}`)
    const stale = await viaPrism(prism, '/v1/users/2/devices', { headers: AUTH })
    expect([stale.status, where(stale)]).toStrictEqual([500, ['Error response.body.type', 'Error response.body.title']])
    const details = await viaPrism(prism, '/v1/devices/5', { headers: AUTH })
    expect(details.status).toBe(500)
    expect(where(details)).toContain('Error response.body')
    // A status the operation does not list is only a warning to Prism: the test reads its violations.
    const live = await viaPrism(prism, '/health/live')
    expect([live.status, where(live)]).toStrictEqual([503, ['Warning response']])
  })
})
