// The internal listener (METRICS_PORT), over real sockets: a Fastify instance of its own that serves
// Prometheus text and the purge API, answers what it cannot serve as problems, and closes with
// the app.
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { startGateway } from '../helpers/gateway.js'
import { freePort } from '../helpers/gateway-process.js'
import { problem } from '../helpers/expected.js'
import { gateway, simulator } from '../helpers/scoped.js'
import { startProblem } from '../../src/server.js'

async function withInternal () {
  const sim = await simulator()
  const port = await freePort()
  const gw = await gateway(sim.url, { METRICS_PORT: String(port) })
  return { gw, internal: `http://127.0.0.1:${port}` }
}

const PROBLEM_JSON = 'application/problem+json; charset=utf-8'
const ID_RULE = 'a decimal integer from 0 to 2147483647, without sign or leading zeros'

describe('the internal listener', () => {
  it('serves Prometheus text at GET /metrics', async () => {
    const { internal } = await withInternal()
    const res = await fetch(`${internal}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    const text = await res.text()
    expect(text).toMatch(/^# TYPE gateway_cache_results_total counter$/m)
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m)
  })

  it('answers an unknown path with a not-found problem', async () => {
    const { internal } = await withInternal()
    for (const [method, path] of [['GET', '/other'], ['DELETE', '/admin/cache/users'], ['POST', '/admin/cache/users/2'], ['DELETE', '/metrics']] as const) {
      const res = await fetch(`${internal}${path}`, { method })
      expect(res.status, `${method} ${path}`).toBe(404)
      expect(res.headers.get('content-type')).toBe(PROBLEM_JSON)
      expect(await res.json()).toStrictEqual(problem('not-found', 'Not found', 404, `No route for ${method} ${path}`))
    }
  })

  it('refuses a purge whose id is not a MOR id with an invalid-request problem, as the schema states the rule', async () => {
    const { internal } = await withInternal()
    const cases = [
      ['users/02', `Invalid userId. Expected MOR user id (0 is the admin): ${ID_RULE}`],
      ['users/x', `Invalid userId. Expected MOR user id (0 is the admin): ${ID_RULE}`],
      ['users/2147483648', `Invalid userId. Expected MOR user id (0 is the admin): ${ID_RULE}`],
      ['devices/-1', `Invalid deviceId. Expected MOR device id: ${ID_RULE}`],
      ['devices/1e3', `Invalid deviceId. Expected MOR device id: ${ID_RULE}`]
    ]
    for (const [what, detail] of cases) {
      const res = await fetch(`${internal}/admin/cache/${what}`, { method: 'DELETE' })
      expect(res.status, what).toBe(400)
      expect(res.headers.get('content-type')).toBe(PROBLEM_JSON)
      expect(await res.json()).toStrictEqual(problem('invalid-request', 'Invalid request', 400, detail as string))
    }
  })

  it('answers a purge with 204 and no body', async () => {
    const { internal } = await withInternal()
    const res = await fetch(`${internal}/admin/cache/users/2`, { method: 'DELETE' })
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
  })

  it('closes its port when the app closes', async () => {
    const sim = await simulator()
    const port = await freePort()
    const gw = await startGateway(sim.url, { METRICS_PORT: String(port) })
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200)
    await gw.close()
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow()
  })

  it('fails the start when its port is taken, in words that name METRICS_PORT', async () => {
    const sim = await simulator()
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port
    try {
      const failure: unknown = await startGateway(sim.url, { METRICS_PORT: String(port) }).then(() => undefined, (err: unknown) => err)
      expect(startProblem(failure, { metricsPort: port } as Parameters<typeof startProblem>[1]))
        .toBe(`port ${port} on 127.0.0.1 is already in use: set METRICS_PORT (or HOST) to a free one`)
    } finally {
      await new Promise((resolve) => taken.close(resolve))
    }
  })
})
