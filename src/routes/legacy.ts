// The legacy passthrough: everything under MOR_URL's path + /api/ goes to MOR unchanged, and MOR's
// answer comes back unchanged (gzipped files stay the same bytes). It lives in its own
// encapsulated scope, so its body handling (none: the relay reads the raw request) never reaches
// the JSON routes. The relay (legacy/relay.ts) does the call, legacy/admission.ts decides who may
// call, where to and how much; this route answers every refusal and failure as a problem.
import type { FastifyInstance, FastifyReply } from 'fastify'
import { upstreamRequestHeaders } from '../legacy/headers.js'
import { admissionRefusal } from '../legacy/admission.js'
import { relay } from '../legacy/relay.js'
import { handedOver } from '../http/handover.js'
import { forwardedFor } from '../net/forwarded.js'

/** The headers set on the reply (X-Request-Id, Connection), as a flat list. */
function replyHeaders (reply: FastifyReply): string[] {
  const out: string[] = []
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value === undefined) continue
    if (Array.isArray(value)) for (const one of value) out.push(name, one)
    else out.push(name, String(value))
  }
  return out
}

export default async function legacyProxy (fastify: FastifyInstance) {
  const { passthrough, trust } = fastify
  const { apiPrefix } = passthrough

  // Before anything is read or forwarded: who may call, where to, and how much.
  fastify.addHook('onRequest', (request, _reply, done) => {
    // The legacy lane met a failure before it answered: the same problem this route would give.
    done(handedOver(request.raw)?.failure ?? admissionRefusal(passthrough, request.raw, request.ip))
  })
  // An answer given while the body is still arriving: the rest of it cannot be taken for the next request.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (!request.raw.complete) reply.header('connection', 'close')
    done(null, payload)
  })

  // The body is left unread for the relay, whatever its type.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', (_request, _payload, done) => { done(null) })

  fastify.all(`${apiPrefix}/*`, { schema: { hide: true } }, (request, reply) => new Promise<void>((resolve, reject) => {
    relay(passthrough.relay, request.raw, reply.raw, request.url, {
      requestId: request.id,
      headers: upstreamRequestHeaders(request.headers, passthrough.origin.host, {
        forwardedFor: forwardedFor(request.raw, trust),
        protocol: request.protocol,
        host: request.host
      }),
      answerHeaders: () => replyHeaders(reply),
      // Fastify's hooks have run; metrics and the access log still follow the raw response's end.
      onStart: () => { reply.hijack(); resolve() },
      onFailure: reject,
      onEnd: (outcome) => {
        if (outcome === 'gone') {
          passthrough.clientGone()
          request.log.debug('client closed the connection before the answer ended')
          reply.hijack()
        }
        resolve()
      }
    })
  }))
}
