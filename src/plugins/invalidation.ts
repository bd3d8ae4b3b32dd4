// One truth across instances: what one instance learns makes every instance drop what it holds.
// A user's list or a device's details is invalidated (by a purge, or a write MOR confirmed through
// the passthrough) by deleting its Redis entry and telling every instance on a Redis pub/sub
// channel to drop its in-process copy; the invalidation is done when every instance known on the
// bus has said it did (src/cache/bus.ts). An entry freshly fetched from MOR (a refresh, a no-cache
// revalidation) makes the other instances drop their older copies, so they read the new one from
// Redis. Without Redis the one instance invalidates itself. Freshness comes from Redis TTLs and
// message order, never from comparing clocks.
import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import type { Subject } from '../cache/devices-cache.js'
import { CAUSES, createPeers, readMessage, writeMessage, type BusMessage, type InvalidationCause } from '../cache/bus.js'
import { upstreamKeyPrefix } from '../redis/namespace.js'
import { DeviceIdParamsSchema, UserIdParamsSchema } from '../schemas/device.js'

export type { InvalidationCause } from '../cache/bus.js'

/**
 * How long an invalidation waits for the other instances to say they dropped their copies. A
 * healthy bus answers in a millisecond or two; an instance that does not answer costs one wait
 * and is forgotten until it speaks again. Below the write's own bound (WRITE_SETTLE_MS).
 */
export const ACK_WAIT_MS = 500

const GREET_RETRY_MS = 200

export interface Invalidation {
  /**
   * Drops a user's list, or a device's details and its owner's list, in Redis and on every
   * instance; resolves once every instance this one knows has dropped its copies (or ACK_WAIT_MS).
   * `owner`: a device's owner, when the caller knows it (else it is looked up).
   */
  invalidate: (subject: Subject, cause: InvalidationCause, owner?: number) => Promise<void>
  /** How many other instances share the bus, as far as this one knows. */
  readonly peers: number
}

declare module 'fastify' {
  interface FastifyInstance {
    invalidation: Invalidation
  }
}

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const cache = fastify.devicesCache
  const redis = fastify.redisStore
  const channel = `${upstreamKeyPrefix(config.mor)}:invalidate`
  const self = randomUUID()
  const counts = new Map<InvalidationCause, number>(CAUSES.map((cause) => [cause, 0]))
  const count = (cause: InvalidationCause) => { counts.set(cause, (counts.get(cause) ?? 0) + 1) }
  let sent = 0
  let receivedCount = 0
  for (const cause of CAUSES) {
    fastify.metrics.addCounter(`gateway_cache_invalidations_${cause.replace('-', '_')}_total`, `Cache subjects invalidated because of: ${cause}`, () => counts.get(cause) ?? 0)
  }
  fastify.metrics.addCounter('gateway_invalidation_messages_sent_total', 'Invalidation messages this instance published', () => sent)
  fastify.metrics.addCounter('gateway_invalidation_messages_received_total', 'Invalidation messages from other instances', () => receivedCount)

  /**
   * A device's invalidation covers its owner's list too, when the owner is known: by the caller
   * (a write that has just read the device from MOR), here, or in Redis.
   */
  async function ownersList (subject: Subject, known?: number): Promise<{ userId: number } | undefined> {
    if ('userId' in subject) return undefined
    const owner = known ?? await cache.ownerOf(subject.deviceId)
    return owner === undefined ? undefined : { userId: owner }
  }

  const peers = createPeers()
  let acksMissed = 0
  fastify.metrics.addGauge('gateway_invalidation_peers', 'Other instances this one knows on the invalidation bus', () => peers.size)
  fastify.metrics.addCounter('gateway_invalidation_acks_missed_total', 'Instances that did not confirm an invalidation in time (then forgotten until they speak again)', () => acksMissed)
  const send = (message: BusMessage) => redis?.publish(channel, writeMessage(message)) ?? Promise.resolve(false)

  async function invalidate (subject: Subject, cause: InvalidationCause, owner?: number): Promise<void> {
    count(cause)
    // The subject's own entry goes at once; a device's owner's list as soon as the owner is known.
    cache.forget(subject)
    const list = await ownersList(subject, owner)
    if (list) cache.forget(list)
    if (!redis) return
    await redis.del([subject, ...(list ? [list] : [])].map((s) => cache.keyOf(s)))
    // Expected before it is sent: an acknowledgement may come back before PUBLISH's own reply.
    const ack = randomUUID()
    const wait = peers.expect(ack, ACK_WAIT_MS)
    if (await send({ kind: 'invalidate', from: self, cause, subject, ...(list ? { owner: list.userId } : {}), ack })) sent++
    else wait.cancel()
    const missed = await wait.done
    acksMissed += missed.length
    if (missed.length > 0) fastify.log.warn({ instances: missed.length, cause }, 'instances did not confirm an invalidation in time; forgotten until they speak again')
  }

  /** Drops what another instance invalidated, then says so when it asked. */
  async function received (message: Extract<BusMessage, { kind: 'invalidate' }>): Promise<void> {
    receivedCount++
    const { subject, owner, ack } = message
    // A refresh elsewhere is no invalidation: a fetch under way here (perhaps waiting for that
    // very one through the Redis lock) stays, only the older copy in memory goes.
    if (message.cause === 'refresh') {
      count('refresh')
      cache.dropLocal(subject)
      return
    }
    cache.forget(subject)
    if (owner !== undefined) cache.forget({ userId: owner })
    else {
      const list = await ownersList(subject).catch(() => undefined)
      if (list) {
        cache.forget(list)
        // The sender did not know the device's owner; an instance that does drops that list in Redis too.
        if (redis) await redis.del([cache.keyOf(list)])
      }
    }
    if (ack !== undefined) await send({ kind: 'ack', from: self, of: ack })
  }

  // Said on every (re)subscription, until Redis takes it: the subscription can be up before the
  // connection that publishes is.
  let closing = false
  let greeting: NodeJS.Timeout | undefined
  function greet (): void {
    clearTimeout(greeting)
    send({ kind: 'hello', from: self, reply: false }).then((ok) => {
      if (!ok && !closing) (greeting = setTimeout(greet, GREET_RETRY_MS)).unref()
    }, () => {})
  }

  if (redis) {
    // A newer copy in Redis: the others drop theirs and read it from there.
    cache.onStored((subject) => {
      send({ kind: 'invalidate', from: self, cause: 'refresh', subject }).then((ok) => { if (ok) sent++ }, () => {})
    })
    redis.subscribe(channel, (text) => {
      const message = readMessage(text)
      if (message === undefined || message.from === self) return
      if (message.kind === 'bye') return peers.left(message.from)
      if (message.kind === 'ack') return peers.acked(message.from, message.of)
      peers.heard(message.from)
      // A newcomer learns who is already here from their answers.
      if (message.kind === 'hello') {
        if (!message.reply) send({ kind: 'hello', from: self, reply: true }).catch(() => {})
        return
      }
      received(message).catch(() => {})
    }, greet)
    // Peers stop waiting for this one at once, instead of after a missed acknowledgement.
    fastify.addHook('onClose', async () => {
      closing = true
      clearTimeout(greeting)
      await send({ kind: 'bye', from: self })
    })
  }

  fastify.decorate('invalidation', { invalidate, get peers () { return peers.size } })

  // Operators' purge, on the internal listener only; ids as the public routes take them.
  fastify.internalListener.addRoutes(async (internal) => {
    internal.delete('/admin/cache/users/:userId', { schema: { params: UserIdParamsSchema } }, async (request, reply) => {
      await invalidate({ userId: Number(request.params.userId) }, 'purge')
      return reply.code(204).send()
    })
    internal.delete('/admin/cache/devices/:deviceId', { schema: { params: DeviceIdParamsSchema } }, async (request, reply) => {
      await invalidate({ deviceId: Number(request.params.deviceId) }, 'purge')
      return reply.code(204).send()
    })
  })
}, { name: 'invalidation', dependencies: ['cache', 'redis', 'metrics', 'internal-listener'], fastify: '5.x' })
