// The legacy lane: a plain legacy GET, or a POST with a small body (what MOR documents and legacy
// clients send: a short form), relayed to MOR before the framework, through the same relay as the
// proxy route (legacy/relay.ts). Relaying is all the passthrough does, and the framework's
// request and reply objects and hooks cost as much again as the relay itself. The lane forwards
// exactly what the route would (same confinement, same headers either way, same relay), and hands
// everything else to Fastify untouched: MOR's write methods, large or chunked bodies, other
// methods, CORS, Expect, refused paths and addresses, and anything while closing or overloaded. A
// failure before the answer has started is handed over too, marked, and the route answers it with
// its usual problem.
import type { IncomingMessage } from 'node:http'
import { upstreamRequestHeaders } from '../legacy/headers.js'
import { admissionRefusal } from '../legacy/admission.js'
import { relay, SMALL_BODY_BYTES } from '../legacy/relay.js'
import { writeMethodOf } from '../legacy/writes.js'
import type { Passthrough } from '../legacy/passthrough.js'
import { handover } from '../http/handover.js'
import { decideId, REQUEST_ID_HEADER } from '../logging/request-id.js'
import type { Lane } from './front-door.js'
import { clientView, forwardedFor, type ClientView, type Trust } from '../net/forwarded.js'

export interface LegacyLaneDeps {
  passthrough: Passthrough
  /** TRUST_PROXY's trust function: the client's address, host and scheme as the route sees them. */
  trust: Trust
  open: () => boolean
  /** The lane takes the request: the access log's incoming line. */
  arrived: (req: IncomingMessage, id: string, client: ClientView) => void
  /** Called once the answer has ended: the end of the request, as the framework's (plugins/request-end.ts). */
  served: (req: IncomingMessage, id: string, status: number, startedAt: number, client: ClientView) => void
}

/**
 * True when the request is of a kind the lane relays: a same-origin GET without a body or POST
 * with a small one (read whole by the relay), not to a write method. Whether the passthrough admits
 * it at all is the route's decision (legacy/admission.ts), asked as well.
 */
function relayable (req: IncomingMessage, apiPrefix: string, maxBody: number): boolean {
  const { method, headers } = req
  if (method !== 'GET' && method !== 'POST') return false
  if (headers['transfer-encoding'] !== undefined || headers.origin !== undefined || headers.expect !== undefined) return false
  const length = headers['content-length']
  if (length !== undefined && length !== '0' && !(method === 'POST' && Number(length) <= Math.min(SMALL_BODY_BYTES, maxBody))) return false
  const url = req.url ?? ''
  const query = url.indexOf('?')
  // Writes are rare, and the route reads every framing of their bodies and logs what it refuses.
  return writeMethodOf(apiPrefix, query === -1 ? url : url.slice(0, query)) === undefined
}

export function createLegacyLane (deps: LegacyLaneDeps): Lane {
  const { passthrough, trust, open, arrived, served } = deps
  const { apiPrefix, origin } = passthrough

  return function legacyLane (req, res, next) {
    if (!relayable(req, apiPrefix, passthrough.relay.maxBodyBytes) || !open()) return next()
    const client = clientView(req, trust)
    // Refused: the route answers it, with its problem.
    if (admissionRefusal(passthrough, req, client.ip) !== undefined) return next()
    const startedAt = performance.now()
    const id = decideId(req)
    arrived(req, id, client)
    relay(passthrough.relay, req, res, req.url ?? '/', {
      requestId: id,
      headers: upstreamRequestHeaders(req.headers, origin.host, { forwardedFor: forwardedFor(req, trust), protocol: client.protocol, host: client.host }),
      answerHeaders: () => [REQUEST_ID_HEADER, id],
      onStart: () => {},
      onFailure: (err) => {
        // The route answers it, with the problem it would give for this failure, under the same id.
        const record = handover(req)
        record.failure = err
        record.id = id
        next()
      },
      onEnd: (outcome) => {
        if (outcome === 'gone') passthrough.clientGone()
        else if (outcome === 'answered') served(req, id, res.statusCode, startedAt, client)
      }
    })
  }
}
