// The passthrough's own failures, and how MOR's failure to answer reads to a legacy client.
import { gatewayError } from '../problems/gateway-error.js'
import { retryAfterError } from '../problems/retry-after.js'
import { UpstreamTimeoutError, UpstreamUnavailableError, unreachableReason } from '../mor/errors.js'

export const InvalidLegacyPathError = gatewayError('invalid-request', 'LEGACY_INVALID_PATH', 'Not forwarded to MOR: %s', 400)
export const LegacyForbiddenError = gatewayError('forbidden', 'LEGACY_FORBIDDEN', 'This client address may not use the legacy passthrough', 403)
export const PayloadTooLargeError = gatewayError('payload-too-large', 'LEGACY_BODY_TOO_LARGE', 'Request body exceeds %d bytes', 413)
/** A call to one of MOR's write methods whose target the gateway cannot read: never forwarded. */
export const UnreadableWriteError = gatewayError('invalid-request', 'LEGACY_WRITE_UNREADABLE', 'Not forwarded to MOR: %s', 400)
/** HEAD on a write method: MOR would run the write and strip the answer that confirms it. */
export class WriteAsHeadError extends gatewayError('invalid-request', 'LEGACY_WRITE_AS_HEAD', 'Not forwarded to MOR: %s is one of MOR\'s write methods; send it with GET or POST', 405) {
  /** The Allow header the problems handler sends. */
  readonly allow = 'GET, POST'
}
/** Every connection to MOR is busy and the queue behind them is full. */
export const PassthroughBusyError = retryAfterError('overloaded', 'LEGACY_BUSY', 'Every connection to MOR is busy; retry shortly', 503)
/** The client went away: ends the call to MOR, and is never an upstream failure. */
export class ClientGoneError extends Error {
  override name = 'ClientGoneError'
  constructor () { super('the client closed the connection') }
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

/** What MOR's failure to answer is to the client: a timeout (504) or unreachable (502). */
export function upstreamError (error: Error, timeoutMs: number): Error {
  const code = (error as { code?: string }).code
  return code !== undefined && TIMEOUT_CODES.has(code)
    ? new UpstreamTimeoutError(timeoutMs, { cause: error })
    : new UpstreamUnavailableError(unreachableReason(code), { cause: error })
}
