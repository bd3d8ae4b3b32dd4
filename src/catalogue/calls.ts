// A user's calls (CDRs) in a period, as the catalogue describes MOR's user_calls_get: the period
// as RFC 3339 times (MOR wants Unix seconds), MOR's filters, and each call's start as a UTC time
// (MOR sends a local `YYYY-MM-DD HH:MM:SS` and a separate `timezone`). A period that ended a while
// ago does not change, so it is cached for much longer than today's.
import { Type } from 'typebox'
import type { Lifetimes } from '../cache/entry.js'
import { choice, currency, integer, money, text, time } from './fields.js'
import { PAGING_QUERY } from './query.js'
import { defineResource, type Ask } from './resource.js'
import { decimalPattern } from '../schemas/decimal.js'
import { MAX_USER_ID } from '../schemas/device.js'

/** The longest period one request may ask for. */
export const MAX_PERIOD_DAYS = 31
/** A period that ended more than this long ago is settled: MOR's late CDRs have arrived. */
export const SETTLED_AFTER_SECONDS = 3600
/** How long a settled period's calls stay fresh, and may then be served stale. */
export const SETTLED_TTL_SECONDS = 86_400

/** RFC 3339 with seconds and an offset (Z or ±hh:mm), as the query takes it. */
const RFC3339 = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$'

/** The API's statuses and MOR's s_call_type for each. */
const STATUS_FILTER: Readonly<Record<string, string>> = { answered: 'answered', 'no-answer': 'no answer', busy: 'busy', failed: 'failed' }

const CallsQuery = Type.Object({
  from: Type.String({ format: 'date-time', pattern: RFC3339, maxLength: 35, description: 'start of the period, RFC 3339 (e.g. `2026-12-01T00:00:00Z`); required', examples: ['2026-12-01T00:00:00Z'] }),
  to: Type.String({ format: 'date-time', pattern: RFC3339, maxLength: 35, description: `end of the period, RFC 3339, after \`from\` and at most ${MAX_PERIOD_DAYS} days after it; required`, examples: ['2026-12-08T00:00:00Z'] }),
  status: Type.Optional(Type.String({ enum: Object.keys(STATUS_FILTER), description: 'only calls with this outcome' })),
  deviceId: Type.Optional(Type.String({ pattern: decimalPattern(MAX_USER_ID), maxLength: 10, description: 'only calls of this device (a decimal device id)', examples: ['5'] })),
  destinationPrefix: Type.Optional(Type.String({ pattern: '^[0-9]{1,20}$', maxLength: 20, description: 'only calls to numbers starting with these digits', examples: ['3706'] })),
  ...PAGING_QUERY
}, { additionalProperties: false })

/** The period's ends in Unix seconds (the query's times are checked by their pattern before this). */
function period (ask: Ask): { start: number, end: number } {
  return { start: Math.floor(Date.parse(String(ask.query.from)) / 1000), end: Math.floor(Date.parse(String(ask.query.to)) / 1000) }
}

/** MOR's disposition words (in `ANSWERED(16)`, `NO ANSWER(19)`) as the API's statuses. */
const DISPOSITION_WORDS: Readonly<Record<string, string>> = { answered: 'answered', 'no answer': 'no-answer', busy: 'busy', failed: 'failed' }

/** A call's outcome from MOR's `dispod` (`ANSWERED(16)`, `NO ANSWER(19)`), the cause code left out. */
const status = choice('dispod', DISPOSITION_WORDS, {
  description: 'answered, no-answer, busy or failed; null for anything else MOR sends',
  word: (text) => text.replace(/\([0-9]*\)\s*$/, '')
})

const NUMBER = 64

export const userCalls = defineResource({
  name: 'calls',
  mor: {
    name: 'user_calls_get',
    oldNames: ['user_calls', 'calls'],
    hashed: ['period_start', 'period_end', 's_user', 's_call_type', 's_device', 's_provider', 's_hgc', 's_did', 's_destination', 'order_by', 'order_desc', 'only_did'],
    subject: 's_user',
    notFound: ['User was not found', 'User not found'],
    credentials: []
  },
  route: {
    path: '/v1/users/:userId/calls',
    operationId: 'listUserCalls',
    apiTag: 'users',
    idParam: 'userId',
    summary: 'List a MOR user\'s calls in a period',
    description: `A user's calls (CDRs) from MOR's \`user_calls_get\`, in MOR's order, for a period of at most ${MAX_PERIOD_DAYS} days given as RFC 3339 times. ` +
      'Filter with `status`, `deviceId` and `destinationPrefix`; page with `limit`, then `cursor` set to the answer\'s `nextCursor`. ' +
      `A period that ended more than an hour ago is cached for ${SETTLED_TTL_SECONDS / 3600} hours; today's calls as device lists are.`
  },
  query: CallsQuery,
  paged: true,
  whose: 'path',
  refuse (ask) {
    const { start, end } = period(ask)
    if (!Number.isFinite(start) || !Number.isFinite(end)) return 'Query parameters "from" and "to" must be RFC 3339 times that exist'
    if (end <= start) return 'Query parameter "to" must be at least a whole second after "from" (MOR counts in seconds)'
    if (end - start > MAX_PERIOD_DAYS * 86_400) return `The period from "from" to "to" must be at most ${MAX_PERIOD_DAYS} days`
    if (start < 0) return 'Query parameter "from" must not be before 1970'
    return undefined
  },
  params (ask) {
    const { start, end } = period(ask)
    const params: Record<string, string> = { period_start: String(start), period_end: String(end), s_user: String(ask.id), s_call_type: 'all', s_device: 'all' }
    const wanted = ask.query.status
    if (typeof wanted === 'string') params.s_call_type = STATUS_FILTER[wanted] ?? 'all'
    if (typeof ask.query.deviceId === 'string') params.s_device = ask.query.deviceId
    if (typeof ask.query.destinationPrefix === 'string') params.s_destination = ask.query.destinationPrefix
    return params
  },
  key (ask) {
    const { start, end } = period(ask)
    const { status: wanted, deviceId, destinationPrefix } = ask.query
    return `${ask.id}:${start}:${end}:${String(wanted ?? '')}:${String(deviceId ?? '')}:${String(destinationPrefix ?? '')}`
  },
  life (ask, now, defaults): Lifetimes {
    const settled = period(ask).end * 1000 <= now - SETTLED_AFTER_SECONDS * 1000
    return settled ? { ...defaults, ttlSeconds: Math.max(defaults.ttlSeconds, SETTLED_TTL_SECONDS), staleSeconds: Math.max(defaults.staleSeconds, SETTLED_TTL_SECONDS) } : defaults
  },
  head: {
    userId: integer('userid', { description: 'MOR user id' }),
    currency: currency('currency', { description: 'ISO 4217 code of every call\'s rate and price' }),
    totalCalls: integer('total_calls', { description: 'MOR\'s count of the calls in the period, with the filters' })
  },
  list: {
    key: 'calls',
    at: [['calls']],
    tag: 'call',
    maxItems: 1_000_000,
    item: {
      id: text('uniqueid', NUMBER, { description: 'MOR\'s unique id of the call' }),
      startedAt: time('calldate2', 'timezone', { description: 'when the call started, UTC (from MOR\'s local time and its timezone)' }),
      source: text('src', NUMBER, { description: 'the calling number' }),
      callerId: text('clid', 255),
      destination: text('dst', NUMBER, { description: 'the number called' }),
      destinationName: text('destination', 255, { description: 'MOR\'s name of the destination, e.g. a country and network' }),
      status,
      billedSeconds: integer('nice_billsec', { maximum: 2_147_483_647, description: 'billed duration in seconds' }),
      rate: money('user_rate', { page: 'currency' }, { description: 'the rate per minute the user pays' }),
      price: money('user_price', { page: 'currency' }, { description: 'what the call cost the user' })
    }
  },
  schemaId: 'CallList',
  description: 'A user\'s calls in a period, all or one page',
  example: {
    userId: 2,
    currency: 'EUR',
    totalCalls: 1,
    calls: [{
      id: '1796601600.5',
      startedAt: '2026-12-01T10:00:00Z',
      source: '201',
      callerId: '"Alice" <201>',
      destination: '37060000001',
      destinationName: 'Lithuania mobile',
      status: 'answered',
      billedSeconds: 61,
      rate: { amount: '0.0500', currency: 'EUR' },
      price: { amount: '0.0508', currency: 'EUR' }
    }],
    nextCursor: null
  }
})
