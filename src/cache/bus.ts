// The invalidation bus between instances sharing Redis: what its messages say, and who has to
// answer. Redis pub/sub tells every subscriber, but a PUBLISH's reply only says Redis took the
// message, not that the others have read it: an instance can still answer a read from its own
// memory a moment later. So an invalidation asks for an acknowledgement, and the sender waits for
// one from every instance it knows (bounded), which is what lets a writer's next read, on any
// instance, see its write. Instances make themselves known by greeting on the bus; one that
// stops answering is forgotten after one missed acknowledgement, until it speaks again.
// (PUBLISH's receiver count would not do: a Cluster counts only the node it reached, and any
// other subscriber, a redis-cli say, would be waited for and never answer.)
import type { Subject } from './devices-cache.js'
import { idOf } from '../schemas/device.js'

/** Why entries were dropped: a write through the passthrough or the JSON API, an operator's purge, or a newer copy elsewhere. */
export type InvalidationCause = 'legacy-write' | 'api-write' | 'purge' | 'refresh'
export const CAUSES: readonly InvalidationCause[] = ['legacy-write', 'api-write', 'purge', 'refresh']

/** What travels on the bus. The wire form is JSON with `from` the sender's id. */
export type BusMessage =
  /** Drop `subject` (and `owner`'s list, when the sender knew it); `ack` asks for an acknowledgement. */
  | { kind: 'invalidate', from: string, cause: InvalidationCause, subject: Subject, owner?: number, ack?: string }
  | { kind: 'ack', from: string, of: string }
  /** A new or reconnected instance (`reply` false), or an answer to one (`reply` true). */
  | { kind: 'hello', from: string, reply: boolean }
  | { kind: 'bye', from: string }

// Numbers only: gateways send ids as JSON numbers.
const isId = (value: unknown): value is number => typeof value === 'number' && idOf(value) !== undefined
// A token or an instance id: a UUID as sent, never anything long.
const isToken = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 64

/** The JSON a message travels as; readMessage reads it back. */
export function writeMessage (message: BusMessage): string {
  switch (message.kind) {
    case 'invalidate': {
      const { from, cause, subject, owner, ack } = message
      return JSON.stringify({ from, cause, ...subject, ...(owner !== undefined ? { owner } : {}), ...(ack !== undefined ? { ack } : {}) })
    }
    case 'ack': return JSON.stringify({ from: message.from, ackOf: message.of })
    case 'hello': return JSON.stringify({ from: message.from, [message.reply ? 'here' : 'hello']: true })
    case 'bye': return JSON.stringify({ from: message.from, bye: true })
  }
}

/** A bus message as a gateway sends it (this one, or an older one without acknowledgements), or undefined for anything else. */
export function readMessage (text: string): BusMessage | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined
  const { from, cause, userId, deviceId, owner, ack, ackOf, hello, here, bye } = parsed as Record<string, unknown>
  if (!isToken(from)) return undefined
  if (isToken(ackOf)) return { kind: 'ack', from, of: ackOf }
  if (hello === true || here === true) return { kind: 'hello', from, reply: here === true }
  if (bye === true) return { kind: 'bye', from }
  if (!CAUSES.includes(cause as InvalidationCause)) return undefined
  if (isId(userId) === isId(deviceId)) return undefined // exactly one subject
  if (owner !== undefined && !(isId(owner) && isId(deviceId))) return undefined // an owner only beside a device
  if (ack !== undefined && !isToken(ack)) return undefined
  return {
    kind: 'invalidate',
    from,
    cause: cause as InvalidationCause,
    subject: isId(userId) ? { userId } : { deviceId: deviceId as number },
    ...(isId(owner) ? { owner } : {}),
    ...(isToken(ack) ? { ack } : {})
  }
}

/** The other instances on the bus, and the acknowledgements this one waits for. */
export interface Peers {
  /** How many other instances this one knows. */
  readonly size: number
  /** A message from `from`: it is on the bus. */
  heard: (from: string) => void
  /** `from` said goodbye: nobody waits for it any more. */
  left: (from: string) => void
  acked: (from: string, token: string) => void
  /**
   * Waits until every instance known now has acknowledged `token`, or `ms` passed; resolves with
   * those that did not, who are forgotten until they speak again. `cancel` ends the wait at once
   * (the message never went out).
   */
  expect: (token: string, ms: number) => { done: Promise<string[]>, cancel: () => void }
}

export function createPeers (): Peers {
  const known = new Set<string>()
  const waits = new Map<string, { missing: Set<string>, finish: () => void }>()
  const settle = (wait: { missing: Set<string>, finish: () => void }) => { if (wait.missing.size === 0) wait.finish() }
  return {
    get size () { return known.size },
    heard: (from) => { known.add(from) },
    left (from) {
      known.delete(from)
      for (const wait of waits.values()) { wait.missing.delete(from); settle(wait) }
    },
    acked (from, token) {
      known.add(from)
      const wait = waits.get(token)
      if (wait === undefined) return
      wait.missing.delete(from)
      settle(wait)
    },
    expect (token, ms) {
      const missing = new Set(known)
      let finish = () => {}
      const done = new Promise<string[]>((resolve) => {
        const timer = setTimeout(() => { finish() }, ms)
        timer.unref()
        finish = () => {
          clearTimeout(timer)
          waits.delete(token)
          for (const from of missing) known.delete(from)
          resolve([...missing])
        }
      })
      const wait = { missing, finish }
      waits.set(token, wait)
      settle(wait)
      return { done, cancel: () => { missing.clear(); finish() } }
    }
  }
}
