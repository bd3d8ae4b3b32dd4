// One typed error per way a MOR call can fail. The problems plugin turns each into an RFC 9457
// answer; the cache (stale-if-error) and metrics tell them apart by class. Messages are written for
// clients: they never carry the secret, a hash or upstream bytes.
import createError from '@fastify/error'

export const UserNotFoundError = createError('MOR_USER_NOT_FOUND', 'MOR has no user %s visible to the gateway\'s API user', 404)
export const UpstreamRejectedError = createError('MOR_REJECTED', 'MOR refused the request: %s', 502)
const BAD_RESPONSE_PREFIX = 'MOR sent a response the gateway cannot use: '
export const UpstreamBadResponseError = createError('MOR_BAD_RESPONSE', `${BAD_RESPONSE_PREFIX}%s`, 502)

/** What went wrong, without the prefix: lets the error cross a worker-thread boundary and back. */
export function badResponseDetail (err: Error): string {
  return err.message.startsWith(BAD_RESPONSE_PREFIX) ? err.message.slice(BAD_RESPONSE_PREFIX.length) : err.message
}
export const UpstreamUnavailableError = createError('MOR_UNAVAILABLE', 'MOR could not be reached: %s', 502)

/** Why MOR could not be reached, in words: a client never sees a library's internal error code. */
export function unreachableReason (code: string | undefined): string {
  switch (code) {
    case 'ECONNREFUSED': return 'connection refused'
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'host name not found'
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'host unreachable'
    case 'ECONNRESET': case 'EPIPE': case 'UND_ERR_SOCKET': case 'UND_ERR_CLOSED': return 'the connection was closed'
    default: return 'network error'
  }
}
export const UpstreamTimeoutError = createError('MOR_TIMEOUT', 'MOR did not answer within %d ms', 504)

/** MOR's own error texts, as documented; anything else is reported without quoting it. */
const KNOWN_MOR_ERRORS = new Set([
  'Bad login',
  'Incorrect hash',
  'Access Denied',
  'API Requests are disabled',
  'GET Requests are disabled',
  'You are not authorized to use this functionality',
  'user_id is empty'
])

export function rejectedError (morMessage: string) {
  const quoted = KNOWN_MOR_ERRORS.has(morMessage) ? `"${morMessage}"` : 'an unrecognised error message'
  return new UpstreamRejectedError(quoted)
}
