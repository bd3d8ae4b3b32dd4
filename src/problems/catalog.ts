// Every problem type the gateway answers with: the slug clients match on, its title, and what it
// means to the person reading it. The one list behind the OpenAPI enum, the examples and the pages
// at GET /problems/{slug} that each problem's `type` points to.

/** Where problem types live; the slug after it is the stable part clients match on. */
export const PROBLEM_TYPE_BASE = '/problems/'

export const PROBLEM_TYPES = {
  'invalid-request': { title: 'Invalid request', text: 'The request is not one the gateway can answer: a user or device id that is not a decimal integer from 0 to 2147483647, a query parameter the operation does not take or with a bad value (a cursor from another user or other filters among them), a device write\'s body with an unknown field or a value its field does not take, a malformed Idempotency-Key, a passthrough path outside MOR\'s API, a call to one of MOR\'s write methods whose target the gateway cannot read (not forwarded, so MOR changed nothing) or sent as HEAD (405), malformed HTTP, headers over 16 KiB, or GET /v1/me/devices from a caller who may read several users. The detail says which. Fix the request; sending it again unchanged will fail again.' },
  unauthorized: { title: 'Unauthorized', text: 'No valid API key or token was sent. Send Authorization: Bearer <key or token>; an expired token must be renewed with the identity provider.' },
  forbidden: { title: 'Forbidden', text: 'The caller may not do this: the user is outside the users its API key or token may read (the same answer whether or not that user exists), the caller may read but not change devices (an API key without access=read,write, a token without the devices:write scope), or the client address may not use the legacy passthrough.' },
  'not-found': { title: 'Not found', text: 'No such route. The API is described at /docs and /openapi.json.' },
  'user-not-found': { title: 'User not found', text: 'MOR has no such user visible to the gateway\'s API user. The answer is cached briefly.' },
  'device-not-found': { title: 'Device not found', text: 'MOR has no such device visible to the gateway\'s API user, or the device belongs to a user outside the users the caller\'s API key or token may read (the two are answered alike). The answer is cached briefly.' },
  'device-in-use': { title: 'Device in use', text: 'MOR will not delete the device while something uses it: it has calls, forwarded calls, dial plans, a queue or location rules. The detail says which, in MOR\'s words. Nothing was changed; remove what uses the device first.' },
  'device-invalid': { title: 'Device values refused', text: 'MOR refused the values of a device write: a device type or group it does not know, a PIN already used by another device or not numeric, a caller ID that is not numeric, a password too short. The detail says which, in MOR\'s words. Nothing was changed; fix the values and send the request again.' },
  'precondition-failed': { title: 'Precondition failed', text: 'The device has changed since the ETag sent in If-Match was issued (or If-Match names no current ETag). Nothing was sent to MOR. Read the device again (GET /v1/devices/{deviceId}), apply the change to what it holds now, and send it with the new ETag.' },
  'idempotency-key-reused': { title: 'Idempotency key reused', text: 'This Idempotency-Key was already used by this caller for a different request (another method, path, body or If-Match) within the last 24 hours. Use a new key for a new request.' },
  'idempotency-key-in-use': { title: 'Request with this idempotency key in progress', text: 'The first request with this Idempotency-Key is still being carried out. Wait a moment and send the same request again: it will get the first request\'s answer.' },
  'idempotency-unavailable': { title: 'Idempotency keys unavailable', text: 'The shared store that remembers Idempotency-Keys across the gateway\'s instances (Redis) cannot be reached, so a retry could not be recognised on another instance. Nothing was sent to MOR. Retry after the seconds in Retry-After.' },
  'write-outcome-unknown': { title: 'Outcome of the write unknown', text: 'The write was sent to MOR but its answer never came (a timeout or a dropped connection), so it may or may not have been carried out. The gateway never sends a write twice by itself. Read the device or the user\'s devices to see whether it happened before you send it again; with the same Idempotency-Key the retry gets this same answer.' },
  'unsupported-media-type': { title: 'Unsupported media type', text: 'The request body is not in a format this operation takes: creating a device takes application/json, changing one application/merge-patch+json (RFC 7396), as the Accept-Post or Accept-Patch header says.' },
  'stale-cursor': { title: 'Stale cursor', text: 'The cursor belongs to an earlier version of the list (of devices, users, calls or payments): the list has changed since that page was served, so the next page could mix two versions. Start again from the first page (without cursor).' },
  'rate-limited': { title: 'Too many requests', text: 'The caller has sent its requests for this minute, or used its budget of calls to MOR. Wait the number of seconds in Retry-After.' },
  'payload-too-large': { title: 'Payload too large', text: 'The request body is larger than the passthrough forwards (LEGACY_MAX_BODY_BYTES; 64 KiB for MOR\'s write methods, whose bodies are read whole).' },
  'request-timeout': { title: 'Request timeout', text: 'The request did not arrive whole in time (REQUEST_TIMEOUT_MS, or HEADERS_TIMEOUT_MS for its headers).' },
  overloaded: { title: 'Gateway overloaded', text: 'The gateway is shedding load: its event loop is saturated, or every connection to MOR is busy with the queue behind them full. Retry after the seconds in Retry-After.' },
  'upstream-rejected': { title: 'MOR rejected the request', text: 'MOR answered with an error other than User not found (a bad login, an incorrect hash, access denied, the API disabled): a configuration problem between the gateway and MOR. Tell the gateway\'s operators.' },
  'upstream-bad-response': { title: 'Bad response from MOR', text: 'MOR\'s answer could not be used: a non-2xx status, broken compression, malformed or unexpected XML, a DOCTYPE, or an answer over the size cap.' },
  'upstream-unavailable': { title: 'MOR unavailable', text: 'MOR could not be reached (connection refused, reset or hung up), or calls to it are paused after repeated failures (Retry-After says for how long). Cached answers are still served.' },
  'upstream-timeout': { title: 'MOR timed out', text: 'MOR did not answer in full within UPSTREAM_TIMEOUT_MS.' },
  'internal-error': { title: 'Internal error', text: 'A bug in the gateway. The details are in its log under the request id in `instance`; quote it when you report the problem.' }
} as const satisfies Record<string, { title: string, text: string }>

export type ProblemSlug = keyof typeof PROBLEM_TYPES
export const PROBLEM_SLUGS = Object.keys(PROBLEM_TYPES) as ProblemSlug[]

export const isProblemSlug = (value: string): value is ProblemSlug => Object.hasOwn(PROBLEM_TYPES, value)

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * A problem's `instance`: the request id as a URN, so a user can quote it to support and an operator
 * can find every log line of that request. A UUID (the gateway's own ids) is `urn:uuid:`; an id the
 * caller chose (X-Request-Id) is not a UUID and is left out: the caller already knows it.
 */
export function problemInstance (requestId: string | undefined): string | undefined {
  return requestId !== undefined && UUID.test(requestId) ? `urn:uuid:${requestId.toLowerCase()}` : undefined
}
