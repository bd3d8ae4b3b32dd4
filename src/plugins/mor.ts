// Decorates the app with the MOR client, behind the circuit breaker and measured by outcome, and
// closes its connection pool when the app closes.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { createMorClient } from '../mor/client.js'
import { createTranslator } from '../mor/translate-pool.js'
import { createCircuitBreaker, type CircuitBreaker } from '../mor/circuit.js'
import { upstreamKind } from '../mor/errors.js'
import type { MorClient } from '../mor/client.js'

export interface MorService {
  /** A catalogue method's answer as JSON (mor/client.ts): a device list, a device, a user, ... */
  getResource: MorClient['getResource']
  /** The device writes: one call each, never retried (mor/client.ts). */
  createDevice: MorClient['createDevice']
  updateDevice: MorClient['updateDevice']
  deleteDevice: MorClient['deleteDevice']
  breaker: CircuitBreaker
}

declare module 'fastify' {
  interface FastifyInstance {
    mor: MorService
  }
}

const CIRCUIT_GAUGE = { closed: 0, 'half-open': 1, open: 2 } as const

/** The call's outcome label: ok, the failure's kind, or error for anything else. */
export function outcomeOf (err: unknown): string {
  return err === undefined ? 'ok' : upstreamKind(err) ?? 'error'
}

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const client = createMorClient(config.mor, createTranslator({ threads: config.translateThreads }))
  const breaker = createCircuitBreaker({
    failures: config.circuit.failures,
    resetMs: config.circuit.resetSeconds * 1000,
    onChange: (state) => {
      const log = state === 'open' ? fastify.log.warn.bind(fastify.log) : fastify.log.info.bind(fastify.log)
      log({ circuit: state }, `MOR circuit ${state}`)
    }
  })
  fastify.metrics.addGauge('gateway_circuit_state', 'MOR circuit breaker: 0 closed, 1 half-open, 2 open', () => CIRCUIT_GAUGE[breaker.state])

  /** Every MOR call goes through the one breaker and is timed by outcome in the one metric. */
  async function guarded<T> (call: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint()
    let failure: unknown
    try {
      return await breaker.run(call)
    } catch (err) {
      failure = err
      throw err
    } finally {
      fastify.metrics.upstream.observe({ outcome: outcomeOf(failure) }, Number(process.hrtime.bigint() - started) / 1e9)
    }
  }

  const getResource: MorClient['getResource'] = (resource, ask, trace) => guarded(() => client.getResource(resource, ask, trace))

  const createDevice: MorClient['createDevice'] = (userId, fields, trace) => guarded(() => client.createDevice(userId, fields, trace))
  const updateDevice: MorClient['updateDevice'] = (deviceId, fields, trace) => guarded(() => client.updateDevice(deviceId, fields, trace))
  const deleteDevice: MorClient['deleteDevice'] = (deviceId, trace) => guarded(() => client.deleteDevice(deviceId, trace))

  fastify.decorate('mor', { getResource, createDevice, updateDevice, deleteDevice, breaker })
  fastify.addHook('onClose', async () => { await client.close() })
}, { name: 'mor', dependencies: ['metrics'], fastify: '5.x' })
