// Who may call the passthrough, where to, and how much: the one decision the proxy route answers
// with a problem and the legacy lane hands to that route, so the two cannot admit differently.
import type { IncomingMessage } from 'node:http'
import { refusePath } from './confine.js'
import { InvalidLegacyPathError, LegacyForbiddenError, PayloadTooLargeError } from './errors.js'
import type { Passthrough } from './passthrough.js'

/** Why the passthrough refuses a request before reading or forwarding anything, or undefined. */
export function admissionRefusal ({ allowed, apiPrefix, relay }: Passthrough, req: IncomingMessage, ip: string): Error | undefined {
  if (allowed && !allowed(ip)) return new LegacyForbiddenError()
  const url = req.url ?? ''
  const query = url.indexOf('?')
  const reason = refusePath(query === -1 ? url : url.slice(0, query), apiPrefix)
  if (reason) return new InvalidLegacyPathError(reason)
  if (Number(req.headers['content-length']) > relay.maxBodyBytes) return new PayloadTooLargeError(relay.maxBodyBytes)
  return undefined
}
