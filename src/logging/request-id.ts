// Request ids: the caller's X-Request-Id when it is sane (it goes into every log line), a fresh
// UUID otherwise. Used by Fastify (genReqId) and by the lanes alike.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

export function requestId (req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID()
}
