// What the passthrough's two entries (the proxy route and the legacy lane) share: where MOR is,
// whom the passthrough serves, one connection pool to MOR with its gate, and the count of calls
// whose client left. Created once, closed with the app after the calls in flight have ended.
import fp from 'fastify-plugin'
import { Pool } from 'undici'
import type { Config } from '../config.js'
import { allowList } from '../net/cidr.js'
import { createGate } from './gate.js'
import type { RelayDeps } from './relay.js'
import type { LegacyWrite } from './writes.js'

export interface Passthrough {
  relay: RelayDeps
  /** MOR's origin; the Host sent upstream is its host. */
  origin: URL
  /** MOR_URL's path + /api: the only path prefix forwarded. */
  apiPrefix: string
  /** LEGACY_ALLOW_CIDRS as a predicate on the client's address, if configured. */
  allowed: ((ip: string) => boolean) | undefined
  /** Counts a call whose client left before the answer ended (info, never an upstream failure). */
  clientGone: () => void
}

declare module 'fastify' {
  interface FastifyInstance {
    passthrough: Passthrough
  }
}

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const mor = new URL(config.mor.baseUrl)
  const origin = new URL(mor.origin)
  const { connections, queue, maxBodyBytes, allowCidrs } = config.legacy
  const pool = new Pool(origin, {
    connections,
    pipelining: 1,
    headersTimeout: config.mor.timeoutMs,
    bodyTimeout: config.mor.timeoutMs,
    connectTimeout: config.mor.timeoutMs
  })
  fastify.addHook('onClose', async () => { await pool.close() })
  const gate = createGate(connections + queue)
  let gone = 0
  fastify.metrics.addGauge('gateway_legacy_calls_in_flight', `Passthrough calls holding a connection to MOR or queued for one (at most LEGACY_CONNECTIONS + LEGACY_QUEUE = ${connections + queue})`, () => gate.inUse)
  fastify.metrics.addCounter('gateway_legacy_client_aborts_total', 'Passthrough calls whose client closed the connection before the answer ended', () => gone)

  const apiPrefix = `${mor.pathname.replace(/\/+$/, '')}/api`
  // A device written through the passthrough: the cached answers it makes stale go, everywhere.
  const onWrite = (write: LegacyWrite) => {
    const subject = write.method === 'device_create' ? { userId: write.userId } : { deviceId: write.deviceId }
    fastify.invalidation.invalidate(subject, 'legacy-write').catch((err: unknown) => { fastify.log.warn({ err }, 'invalidation after a legacy write failed') })
  }
  fastify.decorate('passthrough', {
    relay: { pool, origin: origin.origin, gate, maxBodyBytes, timeoutMs: config.mor.timeoutMs, apiPrefix, onWrite },
    origin,
    apiPrefix,
    allowed: allowCidrs ? allowList(allowCidrs) : undefined,
    clientGone: () => { gone++ }
  })
}, { name: 'legacy-upstream', dependencies: ['metrics', 'invalidation'], fastify: '5.x' })
