// Every problem type the gateway answers with: the slug clients match on, its title, and what it
// means to the person reading it. The one list behind the OpenAPI enum, the examples and the pages
// at GET /problems/{slug} that each problem's `type` points to.

/** Where problem types live; the slug after it is the stable part clients match on. */
export const PROBLEM_TYPE_BASE = '/problems/'

export const PROBLEM_TYPES = {
  'invalid-request': { title: 'Invalid request', text: 'The request is not one the gateway can answer: a user or device id that is not a decimal integer from 0 to 2147483647, a query parameter the operation does not take or with a bad value (a cursor from another user or other filters among them), a passthrough path outside MOR\'s API, a call to one of MOR\'s write methods whose target the gateway cannot read (not forwarded, so MOR changed nothing) or sent as HEAD (405), malformed HTTP, headers over 16 KiB, or GET /v1/me/devices from a caller who may read several users. The detail says which. Fix the request; sending it again unchanged will fail again.' },
  unauthorized: { title: 'Unauthorized', text: 'No valid API key or token was sent. Send Authorization: Bearer <key or token>; an expired token must be renewed with the identity provider.' },
  forbidden: { title: 'Forbidden', text: 'The caller may not do this: the user is outside the users its API key or token may read (the same answer whether or not that user exists), or the client address may not use the legacy passthrough.' },
  'not-found': { title: 'Not found', text: 'No such route. The API is described at /docs and /openapi.json.' },
  'user-not-found': { title: 'User not found', text: 'MOR has no such user visible to the gateway\'s API user. The answer is cached briefly.' },
  'device-not-found': { title: 'Device not found', text: 'MOR has no such device visible to the gateway\'s API user, or the device belongs to a user outside the users the caller\'s API key or token may read (the two are answered alike). The answer is cached briefly.' },
  'stale-cursor': { title: 'Stale cursor', text: 'The cursor belongs to an earlier version of the device list: the list has changed since that page was served, so the next page could mix two versions. Start again from the first page (without cursor).' },
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
