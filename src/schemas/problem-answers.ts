// Which problems each operation answers, by status: the one table behind every problem response
// of the contract. From a row come the response's description, its headers, its example, and its
// schema: the Problem component with `type`, `title` and `status` narrowed to that row, so a typed
// client can tell that a 409 is `stale-cursor`. The routes' schemas and the passthrough's operation
// (plugins/docs.ts) read it; the contract tests hold the gateway's real answers to it.
import { Type, type TSchema } from 'typebox'
import { PROBLEM_TYPE_BASE, PROBLEM_TYPES, type ProblemSlug } from '../problems/catalog.js'
import type { Problem } from './problem.js'
import { CACHE_HEADERS, NEGATIVE_CACHE_HEADERS, RATE_LIMIT_HEADERS, RETRY_AFTER, WWW_AUTHENTICATE } from './responses.js'

export interface ProblemAnswer {
  slugs: readonly ProblemSlug[]
  /** When it is answered, in words: the response's description after its slugs, and its example's detail. */
  when: string
  headers?: Record<string, TSchema>
}
type Answers = Readonly<Record<number, ProblemAnswer>>

const BUG = { slugs: ['internal-error'], when: 'a bug in the gateway; the details are only in its log, under the request id in `instance`' } as const
/** Load shedding (plugins/load-shedding.ts) answers on every route but liveness. */
const SHED = { slugs: ['overloaded'], when: 'the gateway is shedding load: its event loop is saturated', headers: RETRY_AFTER } as const

/** What every /v1 operation may answer. */
const V1 = {
  401: { slugs: ['unauthorized'], when: 'no valid API key or token in `Authorization: Bearer <value>`', headers: WWW_AUTHENTICATE },
  429: { slugs: ['rate-limited'], when: 'this caller\'s request rate, or its budget of calls to MOR, is spent', headers: { ...RETRY_AFTER, ...RATE_LIMIT_HEADERS } },
  500: BUG,
  502: { slugs: ['upstream-rejected', 'upstream-bad-response', 'upstream-unavailable'], when: 'MOR refused the gateway\'s call, sent an answer the gateway cannot use, or could not be reached' },
  503: {
    slugs: ['upstream-unavailable', 'overloaded'],
    when: 'MOR is failing and calls to it are paused (circuit open), or the gateway is shedding load (its event loop or its XML translation workers are saturated)',
    headers: RETRY_AFTER
  },
  504: { slugs: ['upstream-timeout'], when: 'MOR did not answer in time' }
} as const

const LIST = {
  ...V1,
  404: { slugs: ['user-not-found'], when: 'MOR says User not found (cached briefly)', headers: NEGATIVE_CACHE_HEADERS },
  409: { slugs: ['stale-cursor'], when: 'the list has changed since the cursor was issued; start again without cursor' }
} as const

const BAD_QUERY = 'or a query parameter is unknown, given twice or has a bad value (the detail names it)'

const BAD_WRITE = 'the body is not a JSON object of the fields this operation takes (the detail names the field), the request has a query, or its Idempotency-Key is malformed'

export const ACCEPT_PATCH = { 'Accept-Patch': Type.String({ enum: ['application/merge-patch+json'], description: 'the body type a PATCH takes' }) }
const ACCEPT_POST = { 'Accept-Post': Type.String({ enum: ['application/json'], description: 'the body type a POST takes' }) }

/** What every device write may answer, besides /v1's own. */
const WRITE = {
  ...V1,
  409: { slugs: ['idempotency-key-in-use'], when: 'the first request with this Idempotency-Key is still running; send it again in a moment' },
  413: { slugs: ['payload-too-large'], when: 'the body is over 16 KiB' },
  415: { slugs: ['unsupported-media-type'], when: 'the body is not application/json', headers: ACCEPT_POST },
  422: { slugs: ['idempotency-key-reused'], when: 'the Idempotency-Key was used for another request' },
  502: {
    slugs: ['upstream-rejected', 'upstream-bad-response', 'upstream-unavailable', 'write-outcome-unknown'],
    when: 'MOR refused the gateway\'s call, sent an answer the gateway cannot use, or could not be reached; `write-outcome-unknown` when its answer to the write said nothing certain, so the write may have happened'
  },
  503: {
    slugs: ['upstream-unavailable', 'overloaded', 'idempotency-unavailable'],
    when: 'calls to MOR are paused (circuit open), the gateway is shedding load, or the store of Idempotency-Keys (Redis) cannot be reached; nothing was sent to MOR',
    headers: RETRY_AFTER
  },
  504: { slugs: ['upstream-timeout', 'write-outcome-unknown'], when: 'MOR did not answer in time: reading the device first (nothing was changed), or the write itself (`write-outcome-unknown`: it may have happened)' }
} as const

/** A write on an existing device: its owner is read first, and If-Match is checked against it. */
const DEVICE_WRITE = {
  403: { slugs: ['forbidden'], when: 'this caller may not change devices' },
  404: { slugs: ['device-not-found'], when: 'MOR has no such device, or it belongs to a user this caller may not read (the two are answered alike)' },
  412: { slugs: ['precondition-failed'], when: 'the device has changed since the ETag in If-Match; nothing was sent to MOR' }
} as const

/** The passthrough's own refusals; MOR's answers, whatever their status, are MOR's. */
const PASSTHROUGH = {
  400: {
    slugs: ['invalid-request'],
    when: 'the path is not a plain MOR API method, the request is not valid HTTP, or it calls one of MOR\'s write methods ' +
      '(device_create, device_update, device_delete) without a target the gateway can read'
  },
  403: { slugs: ['forbidden'], when: 'the client address is outside LEGACY_ALLOW_CIDRS' },
  408: { slugs: ['request-timeout'], when: 'the request did not arrive within REQUEST_TIMEOUT_MS' },
  413: { slugs: ['payload-too-large'], when: 'the body is over LEGACY_MAX_BODY_BYTES, or a write method\'s body is over what the gateway reads' },
  500: BUG,
  502: { slugs: ['upstream-unavailable'], when: 'MOR could not be reached' },
  503: {
    slugs: ['overloaded'],
    when: 'every connection to MOR is busy and the queue behind them is full (LEGACY_CONNECTIONS + LEGACY_QUEUE), or the gateway is shedding load',
    headers: RETRY_AFTER
  },
  504: { slugs: ['upstream-timeout'], when: 'MOR did not answer in time' }
} as const

export const ALLOW = { Allow: Type.String({ enum: ['GET, POST'], description: 'the methods a write method may be called with' }) }

export const OPERATION_PROBLEMS = {
  listUserDevices: {
    ...LIST,
    400: { slugs: ['invalid-request'], when: `userId is not a decimal integer from 0 to 2147483647, ${BAD_QUERY}` },
    403: { slugs: ['forbidden'], when: 'this caller may not read this user (the same answer whether or not the user exists)' }
  },
  listMyDevices: {
    ...LIST,
    400: { slugs: ['invalid-request'], when: `this caller may read more than one user, so it must name one, ${BAD_QUERY}` }
  },
  getDevice: {
    ...V1,
    400: { slugs: ['invalid-request'], when: 'deviceId is not a decimal integer from 0 to 2147483647, or the request has a query' },
    404: {
      slugs: ['device-not-found'],
      when: 'MOR has no such device, or it belongs to a user this caller may not read (cached briefly)',
      headers: { 'Cache-Control': CACHE_HEADERS['Cache-Control'] }
    }
  },
  createDevice: {
    ...WRITE,
    400: { slugs: ['invalid-request'], when: `userId is not a decimal integer from 0 to 2147483647, ${BAD_WRITE}` },
    403: { slugs: ['forbidden'], when: 'this caller may not change devices, or may not read this user (the same answer whether or not the user exists)' },
    404: { slugs: ['user-not-found'], when: 'MOR has no such user' },
    409: { slugs: ['idempotency-key-in-use'], when: WRITE[409].when },
    422: { slugs: ['device-invalid', 'idempotency-key-reused'], when: 'MOR refused the values (the detail says which), or the Idempotency-Key was used for another request' }
  },
  updateDevice: {
    ...WRITE,
    ...DEVICE_WRITE,
    400: { slugs: ['invalid-request'], when: `deviceId is not a decimal integer from 0 to 2147483647, ${BAD_WRITE}` },
    415: { slugs: ['unsupported-media-type'], when: 'the body is not application/merge-patch+json', headers: ACCEPT_PATCH },
    422: { slugs: ['device-invalid', 'idempotency-key-reused'], when: 'MOR refused the values (the detail says which), or the Idempotency-Key was used for another request' }
  },
  deleteDevice: {
    ...WRITE,
    ...DEVICE_WRITE,
    400: { slugs: ['invalid-request'], when: 'deviceId is not a decimal integer from 0 to 2147483647, the request has a query, or its Idempotency-Key is malformed' },
    409: { slugs: ['device-in-use', 'idempotency-key-in-use'], when: 'MOR keeps the device while something uses it (the detail says what), or the first request with this Idempotency-Key is still running' }
  },
  listUsers: {
    ...V1,
    400: { slugs: ['invalid-request'], when: 'a query parameter is unknown, given twice or has a bad value (the detail names it)' },
    409: LIST[409]
  },
  getUser: {
    ...V1,
    400: { slugs: ['invalid-request'], when: 'userId is not a decimal integer from 0 to 2147483647, or the request has a query' },
    403: { slugs: ['forbidden'], when: 'this caller may not read this user (the same answer whether or not the user exists)' },
    404: LIST[404]
  },
  listUserCalls: {
    ...LIST,
    400: { slugs: ['invalid-request'], when: `userId is not a decimal integer from 0 to 2147483647, the period is missing, reversed or longer than 31 days, ${BAD_QUERY}` },
    403: { slugs: ['forbidden'], when: 'this caller may not read this user (the same answer whether or not the user exists)' }
  },
  listUserPayments: {
    ...LIST,
    400: { slugs: ['invalid-request'], when: `userId is not a decimal integer from 0 to 2147483647, ${BAD_QUERY}` },
    403: { slugs: ['forbidden'], when: 'this caller may not read this user (the same answer whether or not the user exists)' }
  },
  // Liveness is never shed: a busy process is alive.
  getLiveness: { 500: BUG },
  getReadiness: { 500: BUG, 503: SHED },
  getProblemType: { 404: { slugs: ['not-found'], when: 'no such problem type' }, 500: BUG, 503: SHED },
  legacyPassthroughGet: PASSTHROUGH,
  legacyPassthroughPost: PASSTHROUGH,
  legacyPassthroughHead: {
    ...PASSTHROUGH,
    405: { slugs: ['invalid-request'], when: 'HEAD on one of MOR\'s write methods, which would run the write and drop the answer that confirms it', headers: ALLOW }
  }
} as const satisfies Record<string, Answers>

export type OperationId = keyof typeof OPERATION_PROBLEMS

/** The Problem component (by `ref`) with `type`, `title` and `status` narrowed to one answer. */
export function narrowedProblem (slugs: readonly ProblemSlug[], status: number, ref = 'Problem#') {
  return Type.Unsafe<Problem>({
    allOf: [{ $ref: ref }, {
      required: ['type', 'title', 'status'],
      // Values only: the types and every other rule are the component's. An enum, not a const:
      // fast-json-stringify writes a const whatever the value is.
      properties: {
        type: { enum: slugs.map((slug) => PROBLEM_TYPE_BASE + slug) },
        title: { enum: [...new Set(slugs.map((slug) => PROBLEM_TYPES[slug].title))] },
        status: { enum: [status] }
      }
    }]
  })
}

const listed = (slugs: readonly string[]) => slugs.map((slug) => `\`${slug}\``).join(slugs.length > 2 ? ', ' : ' or ').replace(/, (?=[^,]*$)/, ' or ')

/** One row as a response object: the description, headers, narrowed schema and an example. */
export function problemAnswer (status: number, { slugs, when, headers }: ProblemAnswer, ref = 'Problem#') {
  const [first] = slugs as [ProblemSlug]
  const example = {
    type: PROBLEM_TYPE_BASE + first,
    title: PROBLEM_TYPES[first].title,
    status,
    detail: `${when.charAt(0).toUpperCase()}${when.slice(1)}`,
    instance: 'urn:uuid:3f0c2a57-9a1e-4c1d-8b2f-6f4e2d1c0b9a'
  }
  return {
    description: `${listed(slugs)}: ${when}`,
    ...(headers ? { headers } : {}),
    content: { 'application/problem+json': { schema: narrowedProblem(slugs, status, ref), example } }
  }
}

/** Every problem response of one operation, by status, for its route schema. */
export function problemResponses (operation: OperationId, ref = 'Problem#') {
  return Object.fromEntries(Object.entries(OPERATION_PROBLEMS[operation] as Answers).map(([status, answer]) => [status, problemAnswer(Number(status), answer, ref)]))
}
