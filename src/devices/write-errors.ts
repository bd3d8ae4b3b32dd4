// How a device write ends when it does not succeed: the gateway's own refusals (the write right,
// the body, If-Match, Idempotency-Key) and MOR's, each an error that names its problem. MOR's
// words are quoted only when they are plain words, and nothing a client sent (a PIN, a password)
// or the gateway signed (the hash, `p`) is ever quoted back.
import { gatewayError } from '../problems/gateway-error.js'
import { DeviceNotFoundError, rejectedError, UserNotFoundError } from '../mor/errors.js'
import type { WriteResult } from '../mor/client.js'

export const ForbiddenWriteError = gatewayError('forbidden', 'FORBIDDEN_WRITE', 'This caller may read devices but not change them (an API key needs access=read,write; a token the devices:write scope)', 403)
export const InvalidBodyError = gatewayError('invalid-request', 'INVALID_BODY', '%s', 400)
export const UnsupportedBodyTypeError = gatewayError('unsupported-media-type', 'UNSUPPORTED_BODY_TYPE', 'This operation takes a body of type %s', 415)
export const InvalidIdempotencyKeyError = gatewayError('invalid-request', 'INVALID_IDEMPOTENCY_KEY', '%s', 400)
export const IdempotencyKeyReusedError = gatewayError('idempotency-key-reused', 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different request; use a new key for a new request', 422)
export const IdempotencyKeyInUseError = gatewayError('idempotency-key-in-use', 'IDEMPOTENCY_KEY_IN_USE', 'The first request with this Idempotency-Key is still running; send it again in a moment to get its answer', 409)
export const PreconditionFailedError = gatewayError('precondition-failed', 'PRECONDITION_FAILED', 'The device has changed since the ETag in If-Match; nothing was sent to MOR', 412)
export const DeviceInUseError = gatewayError('device-in-use', 'DEVICE_IN_USE', 'MOR will not delete the device: %s; nothing was changed', 409)
export const DeviceInvalidError = gatewayError('device-invalid', 'DEVICE_INVALID', 'MOR refused the values: %s; nothing was changed', 422)
/** The answer never came (504), or came and said nothing certain (502): the write may have happened. */
export const OutcomeUnknownError = gatewayError('write-outcome-unknown', 'WRITE_OUTCOME_UNKNOWN', 'The write was sent to MOR, but %s, so it may or may not have been carried out. The gateway does not send it again; read the device or the user\'s devices before you do', 504)
export const OutcomeUnclearError = gatewayError('write-outcome-unknown', 'WRITE_OUTCOME_UNCLEAR', 'The write was sent to MOR, but %s, so it may or may not have been carried out. The gateway does not send it again; read the device or the user\'s devices before you do', 502)

/** Why MOR keeps a device, in plain words, from its documented refusals. */
export function inUseReason (message: string): string {
  if (/forwarded calls/i.test(message)) return 'calls are forwarded to it'
  if (/dial ?plans?/i.test(message)) return 'dial plans use it'
  if (/queue/i.test(message)) return 'it is assigned to a queue'
  if (/location/i.test(message)) return 'location rules use it'
  if (/calls/i.test(message)) return 'it has calls on record'
  return 'something in MOR still uses it'
}

const MAX_QUOTED = 200
const MAX_DETAILS = 5
/**
 * A line of MOR's that may be quoted: words and punctuation, as MOR's validation messages are
 * ("Pin is already used", "Name has already been taken"). No digits, `=`, `&` or `%`: a line with
 * them may echo what was sent (a PIN, the form with its hash and `p`), and is left out.
 */
const PLAIN_WORDS = /^[A-Za-z][A-Za-z '_,.:()-]*$/

/** Every spelling of a value in a form MOR may echo: raw, percent-encoded, and form-encoded. */
const spellings = (value: string) => [value, encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2)]

/**
 * MOR's texts as a client may read them: only plain-word lines (at most five, each at most 200
 * characters), and none holding, in any spelling, a credential the request sent.
 */
export function quotable (texts: string[], credentials: Array<string | null | undefined>): string {
  const secrets = credentials.filter((value): value is string => typeof value === 'string' && value !== '').flatMap(spellings)
  return texts
    .map((text) => text.trim())
    .filter((text) => text.length <= MAX_QUOTED && PLAIN_WORDS.test(text) && !secrets.some((secret) => text.includes(secret)))
    .slice(0, MAX_DETAILS)
    .join('; ')
}

export type WriteTarget = { userId: number } | { deviceId: number }

/** The error for a write MOR refused; `credentials` are the values the request sent that must not be quoted. */
export function refusalError (result: Extract<WriteResult, { kind: 'refused' }>, target: WriteTarget, credentials: Array<string | null | undefined>): Error {
  switch (result.refusal) {
    case 'not-found': return 'userId' in target ? new UserNotFoundError(target.userId) : new DeviceNotFoundError(target.deviceId)
    case 'in-use': return new DeviceInUseError(inUseReason(result.message))
    case 'invalid': return new DeviceInvalidError(quotable([result.message, ...result.details], credentials) || 'MOR gave no reason the gateway can quote')
    case 'rejected': return rejectedError(result.message)
  }
}
