// What the passthrough's two entries (the proxy route and the legacy lane) share: where MOR is,
// whom the passthrough serves, one connection pool to MOR with its gate, and the count of calls
// whose client left. Created once, closed with the app after the calls in flight have ended.
import fp from 'fastify-plugin'
import { Pool } from 'undici'
import type { Config } from '../config.js'
import { allowList } from '../net/cidr.js'
import { createGate } from '../legacy/gate.js'
import type { Write } from '../legacy/relay-call.js'
import type { WriteMethod } from '../legacy/writes.js'
import type { WriteOutcome } from '../legacy/write-answer.js'
import type { Passthrough } from '../legacy/passthrough.js'

/** How long a write's answer waits for the cache to follow it; the invalidation goes on after. */
export const WRITE_SETTLE_MS = 1000

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
  // A write MOR confirmed: the cached answers it makes stale go, everywhere, before the client
  // has MOR's answer (bounded: a Redis that does not answer delays it by WRITE_SETTLE_MS at most).
  // Nothing else invalidates: an invalidation costs a MOR call, and anyone can send a request MOR refuses.
  const onWriteAnswered = async (write: Write, outcome: WriteOutcome, reqId: string): Promise<void> => {
    fastify.metrics.legacyWrites.inc({ outcome })
    if (outcome === 'unconfirmed') {
      // MOR may or may not have applied it (an answer cut short, a text never seen before): say so.
      fastify.log.warn({ reqId, method: write.method, ...write.subject }, 'legacy write not confirmed by MOR: cache left as it was')
    }
    if (outcome !== 'confirmed') return
    const invalidated = fastify.invalidation.invalidate(write.subject, 'legacy-write')
      .catch((err: unknown) => { fastify.log.warn({ err, reqId }, 'invalidation after a legacy write failed') })
    let timer: NodeJS.Timeout | undefined
    await Promise.race([invalidated, new Promise<void>((resolve) => { timer = setTimeout(resolve, WRITE_SETTLE_MS) })])
    clearTimeout(timer)
  }
  // Not forwarded, so MOR changed nothing; logged because a legacy client is failing.
  const onWriteRefused = (method: WriteMethod, reason: string, reqId: string) => {
    fastify.metrics.legacyWrites.inc({ outcome: 'not_forwarded' })
    fastify.log.warn({ reqId, method, reason }, 'legacy write not forwarded: its target cannot be read')
  }
  fastify.decorate('passthrough', {
    relay: { pool, origin: origin.origin, gate, maxBodyBytes, timeoutMs: config.mor.timeoutMs, apiPrefix, onWriteAnswered, onWriteRefused },
    origin,
    apiPrefix,
    allowed: allowCidrs ? allowList(allowCidrs) : undefined,
    clientGone: () => { gone++ }
  })
}, { name: 'legacy-upstream', dependencies: ['metrics', 'invalidation'], fastify: '5.x' })
