// The answers of the device-list operations and the query they take. The query's schema is what
// the gateway validates with (paging/list-query.ts checks each parameter against it), so the
// contract refuses exactly the queries the gateway refuses (test/contract/ runs both on the same
// requests).
import { Type, type Static } from 'typebox'
import { Nullable } from './nullable.js'
import { decimalPattern } from './decimal.js'
import { MAX_DEVICES, MAX_USER_ID, type Device } from './device.js'

export const MAX_LIMIT = 1000
/** How many types one request may name, and how long each may be: bounds on a client's input. */
export const MAX_TYPES = 20
export const MAX_TYPE_LENGTH = 32
export const MAX_CURSOR_LENGTH = 512
/** A device type as a filter names it: MOR's are words like SIP, IAX2, FAX, Virtual, H323. */
export const TYPE_PATTERN = new RegExp(`^[A-Za-z0-9_+-]{1,${MAX_TYPE_LENGTH}}$`)

/** The cursor is base64url text. */
export const CURSOR_PATTERN = '^[A-Za-z0-9_-]+$'

/** One device type as the parser reads it, without its anchors: the list pattern repeats it. */
const ONE_TYPE = TYPE_PATTERN.source.replace(/^\^/, '').replace(/\$$/, '')
/** `type`: 1 to MAX_TYPES comma-separated device types. */
export const TYPE_LIST_PATTERN = `^${ONE_TYPE}(,${ONE_TYPE}){0,${MAX_TYPES - 1}}$`
/** `limit`: 1 to MAX_LIMIT, in decimal without sign or leading zeros (the parser refuses `0100`, `1e2`). */
export const LIMIT_PATTERN = decimalPattern(MAX_LIMIT, 1)

// By reference, so the contract (and the types generated from it) names the Device component.
const devices = () => Type.Array(Type.Unsafe<Device>({ $ref: 'Device#' }), { maxItems: MAX_DEVICES })
const userId = () => Type.Integer({ format: 'int32', minimum: 0, maximum: MAX_USER_ID })
const EXAMPLE_DEVICE = { id: 55, type: 'IAX2', ipAddress: '0.0.0.0', port: 0, username: '101', callerId: '"Alice" <201>', deviceGroupId: 3, primary: true }

export const DeviceListSchema = Type.Object({
  userId: userId(),
  devices: devices(),
  nextCursor: Type.Null({ description: 'always null: nothing follows' })
}, {
  $id: 'DeviceList',
  additionalProperties: false,
  description: 'A user\'s devices, all of them or those the filters keep: the answer without `limit`',
  examples: [{ userId: 2, devices: [EXAMPLE_DEVICE], nextCursor: null }]
})
export type DeviceList = Static<typeof DeviceListSchema>

export const DevicePageSchema = Type.Object({
  userId: userId(),
  devices: devices(),
  nextCursor: Nullable(Type.String({
    maxLength: MAX_CURSOR_LENGTH,
    pattern: CURSOR_PATTERN,
    description: 'Send as `cursor` (with the same `type` and `primary`, and any `limit`) for the next page; null on the last page'
  }))
}, {
  $id: 'DevicePage',
  additionalProperties: false,
  description: 'One page of a user\'s devices, in MOR\'s order: the answer with `limit`',
  examples: [{ userId: 100, devices: [EXAMPLE_DEVICE], nextCursor: 'MS4xMDAuYWJjLjEwMC58' }]
})
export type DevicePage = Static<typeof DevicePageSchema>

/** What a list operation answers: a list without `limit`, a page with it (a list is also a valid page). */
export const DevicesAnswerSchema = Type.Unsafe<DeviceList | DevicePage>({
  anyOf: [{ $ref: 'DeviceList#' }, { $ref: 'DevicePage#' }]
})

/**
 * The list's filters and paging: what is documented is what is validated. The route and the hit
 * lane read the query with one parser (paging/list-query.ts) that checks each parameter against
 * this schema and names the parameter at fault. What no schema of query parameters can say: a
 * parameter given twice is refused too.
 */
export const ListQuerySchema = Type.Object({
  type: Type.Optional(Type.String({
    pattern: TYPE_LIST_PATTERN,
    maxLength: MAX_TYPES * (MAX_TYPE_LENGTH + 1) - 1,
    description: `Only devices of these types: 1 to ${MAX_TYPES} comma-separated device types (letters, digits, \`_\`, \`+\`, \`-\`; ` +
      `at most ${MAX_TYPE_LENGTH} each), matched case-insensitively against MOR's device_type`,
    examples: ['SIP,IAX2']
  })),
  // `true` or `false` exactly: what a boolean query parameter is to OpenAPI validators too.
  primary: Type.Optional(Type.Boolean({ description: 'Only primary devices (true) or only the others (false)' })),
  limit: Type.Optional(Type.String({
    pattern: LIMIT_PATTERN,
    maxLength: String(MAX_LIMIT).length,
    description: `Page size, 1 to ${MAX_LIMIT} in decimal (no sign or leading zeros); without it the whole (filtered) list comes in one answer`,
    examples: ['100']
  })),
  cursor: Type.Optional(Type.String({
    pattern: CURSOR_PATTERN,
    minLength: 1,
    maxLength: MAX_CURSOR_LENGTH,
    description: '`nextCursor` of the previous page, sent with the same `type` and `primary`'
  }))
}, { additionalProperties: false })
