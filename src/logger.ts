// Logger options shared by the server and the tests that capture logs. Credentials can reach a
// log line two ways: request headers and query strings (legacy clients put `hash` and `p` in the
// URL). Both are scrubbed here, once, for every route.
import type { FastifyRequest, FastifyServerOptions } from 'fastify'

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
