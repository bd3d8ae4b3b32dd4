// One truth across instances: what one instance learns makes every instance drop what it holds.
// A user's list or a device's details is invalidated (by a purge, and later by writes through the
// passthrough) by deleting its Redis entry and telling every instance on a Redis pub/sub channel
// to drop its in-process copy; an entry freshly fetched from MOR (a refresh, a no-cache
// revalidation) makes the other instances drop their older copies, so they read the new one from
// Redis. Without Redis the one instance invalidates itself. Freshness comes from Redis TTLs and
// message order, never from comparing clocks.
import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import type { Subject } from '../cache/devices-cache.js'
import { upstreamKeyPrefix } from '../redis/namespace.js'
import { DeviceIdParamsSchema, idOf, UserIdParamsSchema } from '../schemas/device.js'

/** Why entries were dropped: a write through the passthrough, an operator's purge, or a newer copy elsewhere. */
export type InvalidationCause = 'legacy-write' | 'purge' | 'refresh'
const CAUSES: InvalidationCause[] = ['legacy-write', 'purge', 'refresh']

export interface Invalidation {
  /** Drops a user's list, or a device's details and its owner's list, on every instance and in Redis. */
  invalidate: (subject: Subject, cause: InvalidationCause) => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    invalidation: Invalidation
  }
}

interface Message { from: string, cause: InvalidationCause, userId?: number, deviceId?: number }

// Numbers only: gateways send ids as JSON numbers.
const isId = (value: unknown): value is number => typeof value === 'number' && idOf(value) !== undefined

/** A bus message as sent by a gateway, or undefined for anything else on the channel. */
export function readMessage (text: string): Message | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined
  const { from, cause, userId, deviceId } = parsed as Partial<Message>
  if (typeof from !== 'string' || !CAUSES.includes(cause as InvalidationCause)) return undefined
  if (isId(userId) === isId(deviceId)) return undefined // exactly one subject
  return isId(userId) ? { from, cause: cause as InvalidationCause, userId } : { from, cause: cause as InvalidationCause, deviceId: deviceId as number }
}

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const cache = fastify.devicesCache
  const redis = fastify.redisStore
  const channel = `${upstreamKeyPrefix(config.mor)}:invalidate`
  const self = randomUUID()
  const counts = new Map<InvalidationCause, number>(CAUSES.map((cause) => [cause, 0]))
  let sent = 0
  let received = 0
  for (const cause of CAUSES) {
    fastify.metrics.addCounter(`gateway_cache_invalidations_${cause.replace('-', '_')}_total`, `Cache subjects invalidated because of: ${cause}`, () => counts.get(cause) ?? 0)
  }
  fastify.metrics.addCounter('gateway_invalidation_messages_sent_total', 'Invalidation messages this instance published', () => sent)
  fastify.metrics.addCounter('gateway_invalidation_messages_received_total', 'Invalidation messages from other instances', () => received)

  /** A device's invalidation covers its owner's list too, when the owner is known here or in Redis. */
  async function ownersList (subject: Subject): Promise<Subject | undefined> {
    if ('userId' in subject) return undefined
    const owner = await cache.ownerOf(subject.deviceId)
    return owner === undefined ? undefined : { userId: owner }
  }

  async function invalidate (subject: Subject, cause: InvalidationCause): Promise<void> {
    counts.set(cause, (counts.get(cause) ?? 0) + 1)
    // The subject's own entry goes at once; a device's owner's list as soon as the owner is known.
    cache.forget(subject)
    const list = await ownersList(subject)
    if (list) cache.forget(list)
    if (!redis) return
    await redis.del([subject, ...(list ? [list] : [])].map((s) => cache.keyOf(s)))
    if (await redis.publish(channel, JSON.stringify({ from: self, cause, ...subject }))) sent++
  }

  if (redis) {
    // A newer copy in Redis: the others drop theirs and read it from there.
    cache.onStored((subject) => {
      redis.publish(channel, JSON.stringify({ from: self, cause: 'refresh', ...subject })).then((ok) => { if (ok) sent++ }, () => {})
    })
    redis.subscribe(channel, (text) => {
      const message = readMessage(text)
      if (message === undefined || message.from === self) return
      received++
      if (message.cause === 'refresh') counts.set('refresh', (counts.get('refresh') ?? 0) + 1)
      const subject: Subject = message.userId !== undefined ? { userId: message.userId } : { deviceId: message.deviceId as number }
      // A refresh elsewhere is no invalidation: a fetch under way here (perhaps waiting for that
      // very one through the Redis lock) stays, only the older copy in memory goes.
      if (message.cause === 'refresh') {
        cache.dropLocal(subject)
        return
      }
      cache.forget(subject)
      ownersList(subject).then((list) => {
        if (!list) return
        cache.forget(list)
        // The sender may not have known the device's owner; an instance that does drops that list in Redis too.
        return redis.del([cache.keyOf(list)])
      }).catch(() => {})
    })
  }

  fastify.decorate('invalidation', { invalidate })

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
