// Logger options shared by the server and the tests that capture logs. Credentials can reach a
// log line two ways: request headers and query strings (legacy clients put `hash` and `p` in the
// URL). Both are scrubbed here, once, for every route.
import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'

const SECRET_QUERY_PARAMS = /([?&](?:hash|p|password|secret|api_key|key|token)=)[^&#]*/gi

export function scrubUrl (url: string): string {
  return url.replace(SECRET_QUERY_PARAMS, '$1[redacted]')
}

export function loggerOptions (level: string): NonNullable<FastifyServerOptions['loggerInstance'] | object> {
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      censor: '[redacted]'
    },
    serializers: {
      req: (req: FastifyRequest) => ({
        method: req.method,
        url: scrubUrl(req.url),
        host: req.host,
        remoteAddress: req.ip
      })
    }
  }
}

/** A request this slow is logged at info even when it succeeded. */
export const SLOW_REQUEST_MS = 1000

/** The access log level of a finished request: what needs attention shows at the default level. */
export function completedLevel (status: number, responseTimeMs: number): 'error' | 'info' | 'debug' {
  return status >= 500 ? 'error' : status >= 400 || responseTimeMs >= SLOW_REQUEST_MS ? 'info' : 'debug'
}

/**
 * The access log: one line per request when it ends, at a level that follows its outcome (server
 * errors at error, client errors and slow requests at info, the rest at debug), and the incoming
 * line at debug. At the default LOG_LEVEL=info the log shows what needs attention and the hot path
 * serializes nothing: Fastify's two info lines per request halved the throughput of a cache hit.
 * LOG_LEVEL=debug gives the full access log; /metrics counts every request at any level.
 */
export class AccessLogController extends LogController {
  override incomingRequest (request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request')
  }

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode
    const responseTime = reply.elapsedTime
    if (error) {
      reply.log.error({ req: request, res: reply, err: error, responseTime }, 'request errored')
      return
    }
    reply.log[completedLevel(status, responseTime)]({ req: request, res: reply, responseTime }, 'request completed')
  }
}
