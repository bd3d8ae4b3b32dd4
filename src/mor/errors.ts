// One typed error per way a MOR call can fail, each carrying its kind as data. Everything that
// treats failures differently reads the kind and this one table: the problem's slug, whether the
// circuit breaker counts it as an outage, whether stale data may answer instead, and the metric's
// outcome label. Messages are written for clients: they never carry the secret, a hash or
// upstream bytes.
import createError from '@fastify/error'
import type { ProblemSlug } from '../problems/catalog.js'
import { gatewayError } from '../problems/gateway-error.js'

/** How a call to MOR failed (also the `outcome` label of gateway_mor_call_duration_seconds). */
export type UpstreamKind = 'not-found' | 'rejected' | 'bad-response' | 'unavailable' | 'timeout' | 'circuit-open'

export interface UpstreamKindRules {
  slug: ProblemSlug
  /** MOR itself is down or too slow: the circuit breaker counts it. */
  outage: boolean
  /** A cached answer, even a stale one, may answer instead (stale-if-error). */
  staleIfError: boolean
}

export const UPSTREAM_KINDS: Record<UpstreamKind, UpstreamKindRules> = {
  'not-found': { slug: 'user-not-found', outage: false, staleIfError: false },
  rejected: { slug: 'upstream-rejected', outage: false, staleIfError: false },
  'bad-response': { slug: 'upstream-bad-response', outage: false, staleIfError: true },
  unavailable: { slug: 'upstream-unavailable', outage: true, staleIfError: true },
  timeout: { slug: 'upstream-timeout', outage: true, staleIfError: true },
  // The breaker's own refusal: never counted again as an outage.
  'circuit-open': { slug: 'upstream-unavailable', outage: false, staleIfError: true }
}

/** The kind of an upstream failure, or undefined for any other error. */
export function upstreamKind (err: unknown): UpstreamKind | undefined {
  return (err as { upstreamKind?: UpstreamKind } | undefined)?.upstreamKind
}

/** Marks a Fastify error class with its kind. */
export function withKind<T extends new (...args: any[]) => Error> (kind: UpstreamKind, Base: T) {
  return class extends Base {
    readonly upstreamKind: UpstreamKind = kind
  }
}

export const UserNotFoundError = withKind('not-found', createError('MOR_USER_NOT_FOUND', 'MOR has no user %s visible to the gateway\'s API user', 404))
// An upstream kind ('not-found') shared with User not found, with a problem of its own.
export const DeviceNotFoundError = withKind('not-found', gatewayError('device-not-found', 'MOR_DEVICE_NOT_FOUND', 'No device %s among the devices this caller may read', 404))
export const UpstreamRejectedError = withKind('rejected', createError('MOR_REJECTED', 'MOR refused the request: %s', 502))
const BAD_RESPONSE_PREFIX = 'MOR sent a response the gateway cannot use: '
export const UpstreamBadResponseError = withKind('bad-response', createError('MOR_BAD_RESPONSE', `${BAD_RESPONSE_PREFIX}%s`, 502))

/** What went wrong, without the prefix: lets the error cross a worker-thread boundary and back. */
export function badResponseDetail (err: Error): string {
  return err.message.startsWith(BAD_RESPONSE_PREFIX) ? err.message.slice(BAD_RESPONSE_PREFIX.length) : err.message
}
export const UpstreamUnavailableError = withKind('unavailable', createError('MOR_UNAVAILABLE', 'MOR could not be reached: %s', 502))

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
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'])

/**
 * Whether an unreachable MOR's failure (by the cause's code) came before the request left: a
 * connection never made. A write that failed so cannot have happened.
 */
export function failedBeforeSending (err: unknown): boolean {
  return NOT_CONNECTED.has(String((err as { cause?: { code?: unknown } } | undefined)?.cause?.code))
}

export const UpstreamTimeoutError = withKind('timeout', createError('MOR_TIMEOUT', 'MOR did not answer within %d ms', 504))

/** MOR's own error texts, as documented; anything else is reported without quoting it. */
const KNOWN_MOR_ERRORS = new Set([
  'Bad login',
  'Incorrect hash',
  'Access Denied',
  'API Requests are disabled',
  'GET Requests are disabled',
  'You are not authorized to use this functionality',
  'user_id is empty',
  'Device was not found'
])

export function rejectedError (morMessage: string) {
  const quoted = KNOWN_MOR_ERRORS.has(morMessage) ? `"${morMessage}"` : 'an unrecognised error message'
  return new UpstreamRejectedError(quoted)
}
