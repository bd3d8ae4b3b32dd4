// Request ids: the caller's X-Request-Id when it is sane (it goes into every log line), a fresh id
// otherwise. Decided once per request, at the front door (lanes/front-door.ts); Fastify's genReqId,
// the lanes and the log lines ask for the same one, and it goes back as X-Request-Id on every answer.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { handover } from '../http/handover.js'

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

// A fresh id is an RFC 9562 UUIDv8 (the vendor-specific version): 74 bits drawn at random once per
// process, then 48 bits counting up. Ids from different instances differ as random UUIDs do, and
// one id costs a string concatenation instead of a draw from the random pool, which on a cache hit
// was a measurable share of the answer. A request id correlates log lines; it guards nothing, so
// that the next one is predictable gives nothing away.
const COUNTER_LIMIT = 2 ** 48

/** Fresh ids: `random` (a v4 UUID) gives the random bits, `start` the first count. */
export function idSource (random: string = randomUUID(), start = 0): () => string {
  // xxxxxxxx-xxxx-Mxxx-Nxxx-: the version digit M becomes 8; randomUUID already set the variant N.
  const prefix = `${random.slice(0, 14)}8${random.slice(15, 24)}`
  let counter = start
  return () => {
    const id = prefix + counter.toString(16).padStart(12, '0')
    if (++counter === COUNTER_LIMIT) counter = 0
    return id
  }
}

const freshId = idSource()

/** The id a request would get: the caller's when sane, else a fresh one (nothing is kept). */
export function decideId (req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : freshId()
}

/**
 * The request's id, kept in its record: decided on first ask, then the same for everyone who asks
 * (Fastify's genReqId, the log lines). A lane that answers a request itself decides the id with
 * decideId and keeps it only if it hands the request over: a record per answered hit is garbage
 * for nothing.
 */
export function requestId (req: IncomingMessage): string {
  const record = handover(req)
  return (record.id ??= decideId(req))
}

/** The header that carries the id back to the client, on every answer. */
export const REQUEST_ID_HEADER = 'x-request-id'
