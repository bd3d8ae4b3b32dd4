// The legacy passthrough: everything under MOR_URL's path + /api/ goes to MOR unchanged, and MOR's
// answer comes back unchanged (gzipped files stay the same bytes). It lives in its own
// encapsulated scope, so its raw-body parser never reaches the JSON routes.
import { Transform, type TransformCallback } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import createError from '@fastify/error'
import httpProxy from '@fastify/http-proxy'
import type { Config } from '../config.js'
import { headersObject, upstreamRequestHeaders, withoutHopByHop } from './headers.js'
import { refusePath } from './confine.js'
import { allowList } from '../net/cidr.js'
import { UpstreamTimeoutError, UpstreamUnavailableError } from '../mor/errors.js'
import { laneFailure } from '../lanes/legacy-lane.js'

export const InvalidLegacyPathError = createError('LEGACY_INVALID_PATH', 'Not forwarded to MOR: %s', 400)
export const LegacyForbiddenError = createError('LEGACY_FORBIDDEN', 'This client address may not use the legacy passthrough', 403)
export const LegacyBodyTooLargeError = createError('LEGACY_BODY_TOO_LARGE', 'Request body exceeds %d bytes', 413)

const TIMEOUT_CODES = new Set(['FST_REPLY_FROM_TIMEOUT', 'FST_REPLY_FROM_GATEWAY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])
const kTooLarge = Symbol('legacy body too large')

/** Passes the body through while counting it; fails once it exceeds the limit. */
function limitBody (maxBytes: number, onOverflow: () => void): Transform {
  let seen = 0
  return new Transform({
    transform (chunk: Buffer, _enc, done: TransformCallback) {
      seen += chunk.length
      if (seen > maxBytes) {
        onOverflow()
        done(new LegacyBodyTooLargeError(maxBytes))
        return
      }
      done(null, chunk)
    }
  })
}

function errorCode (error: unknown): string {
  let current = error as { code?: string, cause?: unknown } | undefined
  let code = current?.code ?? ''
  // reply-from wraps undici's error; the innermost code says what happened.
  while (current?.cause) {
    current = current.cause as { code?: string, cause?: unknown }
    if (current.code) code = current.code
  }
  return code
}

/** What MOR's failure to answer is to the client: a timeout (504) or unreachable (502). */
function upstreamError (error: unknown, timeoutMs: number): Error {
  const code = errorCode(error)
  return TIMEOUT_CODES.has(code)
    ? new UpstreamTimeoutError(timeoutMs, { cause: error })
    : new UpstreamUnavailableError(code || 'network error', { cause: error })
}

/** Where the passthrough forwards to and whom it serves (shared with the legacy lane). */
export function legacyTarget (config: Config) {
  const mor = new URL(config.mor.baseUrl)
  return {
    origin: new URL(mor.origin),
    apiPrefix: `${mor.pathname.replace(/\/+$/, '')}/api`,
    allowed: config.legacy.allowCidrs ? allowList(config.legacy.allowCidrs) : undefined
  }
}

/** The connection pool to MOR for the passthrough, the proxy's and the lane's alike. */
export function legacyPoolOptions (config: Config) {
  return {
    connections: 64,
    pipelining: 1,
    headersTimeout: config.mor.timeoutMs,
    bodyTimeout: config.mor.timeoutMs,
    connectTimeout: config.mor.timeoutMs
  }
}

export default async function legacyProxy (fastify: FastifyInstance, { config }: { config: Config }) {
  const { origin, apiPrefix, allowed } = legacyTarget(config)
  const maxBody = config.legacy.maxBodyBytes

  // Before anything is read or forwarded: who may call, where to, and how much.
  fastify.addHook('onRequest', (request, reply, done) => {
    // MOR failed the legacy lane before it answered: the same problem the proxy would give.
    const failure = laneFailure(request.raw)
    if (failure) return done(upstreamError(failure, config.mor.timeoutMs))
    if (allowed && !allowed(request.ip)) return done(new LegacyForbiddenError())
    const reason = refusePath(request.url.split('?')[0] ?? '', apiPrefix)
    if (reason) return done(new InvalidLegacyPathError(reason))
    if (Number(request.headers['content-length']) > maxBody) {
      reply.header('connection', 'close') // the unread body must not be taken for the next request
      return done(new LegacyBodyTooLargeError(maxBody))
    }
    done()
  })

  // The raw body streams to MOR as it arrives (no buffering, no re-encoding), counted on the way.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', (request, payload, done) => {
    const limited = limitBody(maxBody, () => { (request as unknown as Record<symbol, boolean>)[kTooLarge] = true })
    payload.on('error', (err) => limited.destroy(err))
    done(null, payload.pipe(limited))
  })

  await fastify.register(httpProxy, {
    upstream: origin.origin,
    prefix: apiPrefix,
    rewritePrefix: apiPrefix,
    internalRewriteLocationHeader: false,
    proxyPayloads: false,
    disableRequestLogging: true,
    undici: legacyPoolOptions(config),
    replyOptions: {
      rewriteRequestHeaders: (request, headers) => headersObject(upstreamRequestHeaders(headers, String(headers.host), {
        ip: request.ip, protocol: request.protocol, host: request.host
      })),
      rewriteHeaders: (headers) => withoutHopByHop(headers),
      onError: (reply, { error }) => {
        if ((reply.request as unknown as Record<symbol, boolean>)[kTooLarge]) {
          // The rest of the body is still on the wire: this connection cannot carry another request.
          reply.header('connection', 'close').send(new LegacyBodyTooLargeError(maxBody))
          return
        }
        reply.send(upstreamError(error, config.mor.timeoutMs))
      }
    }
  })
}
