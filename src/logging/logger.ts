// Logger options shared by the server and the tests that capture logs. Credentials can reach a
// log line two ways: request headers and query strings (legacy clients put `hash` and `p` in the
// URL). Both are scrubbed here, once, for every route.
import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'

/** Parameter names whose values never reach a log line, after decoding, lower-cased, `[...]` cut off. */
const SECRET_PARAMS = new Set(['hash', 'p', 'pass', 'passwd', 'password', 'pin', 'secret', 'api_secret', 'api_key', 'apikey', 'key', 'token', 'access_token', 'refresh_token', 'id_token', 'auth', 'authorization', 'signature', 'sig'])
const SECRET_WORDS = /secret|passw|token/

/** The name Rails and Rack read: percent-decoded, `+` as a space, `hash[]` and `hash[x]` as `hash`. */
function paramName (raw: string): string {
  let name = raw.replace(/\+/g, ' ')
  try { name = decodeURIComponent(name) } catch {}
  const bracket = name.indexOf('[')
  return (bracket === -1 ? name : name.slice(0, bracket)).trim().toLowerCase()
}

const isSecretParam = (name: string) => SECRET_PARAMS.has(name) || SECRET_WORDS.test(name)

/**
 * The URL with the value of every credential parameter replaced, whatever its spelling: the query
 * is split on `&` and `;` (Rack accepts both) and each name is decoded before it is judged, so
 * `%68ash=`, `;hash=` and `hash[]=` are caught as `hash` is.
 */
export function scrubUrl (url: string): string {
  const query = url.indexOf('?')
  if (query === -1) return url
  const parts = url.slice(query + 1).split(/([&;])/)
  for (let i = 0; i < parts.length; i += 2) {
    const part = parts[i] as string
    const eq = part.indexOf('=')
    if (isSecretParam(paramName(eq === -1 ? part : part.slice(0, eq)))) parts[i] = `${eq === -1 ? part : part.slice(0, eq)}=[redacted]`
  }
  return `${url.slice(0, query + 1)}${parts.join('')}`
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

/**
 * The access log level of a finished request: what needs attention shows at the default level. A
 * 500 is a bug (error); other 5xx are known conditions (MOR down or slow, the gateway shedding
 * load) that metrics count and a warning names; client errors and slow requests are info.
 */
export function completedLevel (status: number, responseTimeMs: number): 'error' | 'warn' | 'info' | 'debug' {
  return status === 500 ? 'error' : status > 500 ? 'warn' : status >= 400 || responseTimeMs >= SLOW_REQUEST_MS ? 'info' : 'debug'
}

/**
 * Fastify's own access log lines, turned off: the incoming and completed lines are written by
 * plugins/request-end.ts, once for every request whoever answers it (a route or a lane), at a
 * level that follows the outcome (server errors at error, client errors and slow requests at
 * info, the rest at debug). At the default LOG_LEVEL=info the log shows what needs attention and
 * the hot path serializes nothing: Fastify's two info lines per request halved the throughput of a
 * cache hit. What is left here is the one thing only Fastify sees: a response stream that failed.
 */
export class AccessLogController extends LogController {
  override incomingRequest (): void {}

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored')
  }
}
