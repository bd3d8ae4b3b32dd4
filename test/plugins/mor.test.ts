// The mor plugin on its own (with the metrics it reports to): device details and device lists go
// through the one circuit breaker and are timed in the one upstream metric.
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import metrics from '../../src/plugins/metrics.js'
import mor from '../../src/plugins/mor.js'
import { CircuitOpenError } from '../../src/mor/circuit.js'
import { DeviceNotFoundError, UpstreamUnavailableError } from '../../src/mor/errors.js'
import { startMorSimulator } from '../../src/demo/simulator.js'
import { TEST_API_KEY, TEST_API_SECRET, TEST_API_USER } from '../helpers/gateway.js'
import { refusedUrl } from '../helpers/fault-upstream.js'
import { failure } from '../helpers/failure.js'
import { ask } from '../helpers/ask.js'
import { deviceDetails, deviceList } from '../../src/catalogue/devices.js'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => { while (cleanups.length > 0) await cleanups.pop()?.() })

async function service (morUrl: string): Promise<FastifyInstance> {
  const config = loadConfig({
    MOR_URL: morUrl, MOR_API_USER: TEST_API_USER, MOR_API_SECRET: TEST_API_SECRET, GATEWAY_API_KEYS: TEST_API_KEY, CIRCUIT_FAILURES: '2', CIRCUIT_RESET_SECONDS: '60'
  })
  const app = Fastify()
  await app.register(metrics, { config })
  await app.register(mor, { config })
  await app.ready()
  cleanups.push(() => app.close())
  return app
}

async function calls (app: FastifyInstance): Promise<Record<string, number>> {
  const { values } = await app.metrics.upstream.get()
  return Object.fromEntries(values.filter((v) => v.metricName === 'gateway_mor_call_duration_seconds_count').map((v) => [String(v.labels.outcome), v.value]))
}

describe('fastify.mor.getResource', () => {
  it('answers a device\'s details and times each call by outcome', async () => {
    const sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
    cleanups.push(sim.close)
    const app = await service(sim.url)
    expect(await app.mor.getResource(deviceDetails, ask(6))).toMatchObject({ owner: 2 })
    expect(await failure(app.mor.getResource(deviceDetails, ask(4242)))).toBeInstanceOf(DeviceNotFoundError)
    expect(await calls(app)).toStrictEqual({ ok: 1, 'not-found': 1 })
  })

  it('opens the breaker the device lists use when MOR cannot be reached', async () => {
    const app = await service(await refusedUrl())
    for (let i = 0; i < 2; i++) expect(await failure(app.mor.getResource(deviceDetails, ask(5)))).toBeInstanceOf(UpstreamUnavailableError)
    expect(app.mor.breaker.state).toBe('open')
    expect(await failure(app.mor.getResource(deviceList, ask(2)))).toBeInstanceOf(CircuitOpenError)
    expect(await failure(app.mor.getResource(deviceDetails, ask(5)))).toBeInstanceOf(CircuitOpenError)
    expect(await calls(app)).toStrictEqual({ unavailable: 2, 'circuit-open': 2 })
  })

  it('fails fast once device list failures have opened the breaker', async () => {
    const app = await service(await refusedUrl())
    for (let i = 0; i < 2; i++) expect(await failure(app.mor.getResource(deviceList, ask(2)))).toBeInstanceOf(UpstreamUnavailableError)
    expect(await failure(app.mor.getResource(deviceDetails, ask(5)))).toBeInstanceOf(CircuitOpenError)
  })
})
