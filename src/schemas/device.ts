// The JSON shape of the devices API: one TypeBox source for validation, serialization, TypeScript
// types and the OpenAPI document.
import { Type, type Static } from 'typebox'
import { Nullable } from './nullable.js'
import { MAX_CURSOR_LENGTH, MAX_LIMIT, MAX_TYPE_LENGTH, MAX_TYPES } from '../paging/list-query.js'

/**
 * A decimal integer from 0 to 2147483647 (MOR's INT(11) ids), no sign, no leading zeros. The range
 * lives in the pattern so the contract states it exactly and nothing past it reaches MOR.
 */
export const MAX_USER_ID = 2_147_483_647

export const USER_ID_PATTERN = '^(0|[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|' +
  '2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]|214748364[0-7])$'

const ID = new RegExp(USER_ID_PATTERN)

/**
 * A user or device id by the rule above, from an integer or its decimal text (a JWT claim, a
 * legacy call's parameter, a bus message); undefined for anything else.
 */
export function idOf (value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 && value <= MAX_USER_ID ? value : undefined
  return typeof value === 'string' && ID.test(value) ? Number(value) : undefined
}

export const UserIdParamsSchema = Type.Object({
  userId: Type.String({ pattern: USER_ID_PATTERN, description: 'MOR user id (0 is the admin)', examples: ['2'] })
})

/** More devices than any MOR user has: a longer list is not a MOR answer. */
export const MAX_DEVICES = 100_000
/** The cursor is base64url text. */
export const CURSOR_PATTERN = '^[A-Za-z0-9_-]+$'

// The bounds are the contract's, and the mapper (mor/map.ts) reads them from here: a value past
// them becomes null (a type is cut), so every answer validates.
export const DeviceSchema = Type.Object({
  id: Type.Integer({ format: 'int32', minimum: 0, maximum: MAX_USER_ID, description: 'MOR device_id' }),
  type: Type.String({ maxLength: 32, description: 'device_type as MOR sends it: SIP, IAX2, FAX, Virtual, H323, ...' }),
  ipAddress: Nullable(Type.String({ maxLength: 45, description: 'ipaddr; 0.0.0.0 for a dynamic device that is not registered' })),
  port: Nullable(Type.Integer({ format: 'int32', minimum: 0, maximum: 65535, description: 'port; 0 for a dynamic device' })),
  username: Nullable(Type.String({ maxLength: 80 })),
  callerId: Nullable(Type.String({ maxLength: 255, examples: ['"Alice" <201>'] })),
  deviceGroupId: Nullable(Type.Integer({ format: 'int32', minimum: 0, maximum: MAX_USER_ID })),
  primary: Nullable(Type.Boolean({ description: 'primary_device: yes -> true, no -> false' }))
}, { $id: 'Device', additionalProperties: false })
export type Device = Static<typeof DeviceSchema>

export const DevicesResponseSchema = Type.Object({
  userId: Type.Integer({ format: 'int32', minimum: 0, maximum: MAX_USER_ID }),
  // By reference, so the contract (and the types generated from it) names the Device component.
  devices: Type.Array(Type.Unsafe<Device>({ $ref: 'Device#' }), { maxItems: MAX_DEVICES }),
  nextCursor: Nullable(Type.String({
    maxLength: MAX_CURSOR_LENGTH,
    pattern: CURSOR_PATTERN,
    description: 'Send as `cursor` (with the same `type`, `primary` and any `limit`) for the next page; null on the last page and always without `limit`'
  }))
}, {
  additionalProperties: false,
  examples: [{
    userId: 2,
    devices: [{ id: 55, type: 'IAX2', ipAddress: '0.0.0.0', port: 0, username: '101', callerId: '"Alice" <201>', deviceGroupId: 3, primary: true }],
    nextCursor: null
  }]
})
export type DevicesResponse = Static<typeof DevicesResponseSchema>

/**
 * The list's filters and paging, as documented. The route and the hit lane read the query with
 * one parser (paging/list-query.ts) that enforces these bounds and names the parameter at fault.
 */
export const ListQuerySchema = Type.Object({
  type: Type.Optional(Type.String({
    maxLength: MAX_TYPES * (MAX_TYPE_LENGTH + 1),
    description: `Only devices of these types: up to ${MAX_TYPES} comma-separated device types, matched case-insensitively against MOR's device_type`,
    examples: ['SIP,IAX2']
  })),
  primary: Type.Optional(Type.Boolean({ description: 'Only primary devices (true) or only the others (false)' })),
  limit: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: MAX_LIMIT, description: 'Page size; without it the whole (filtered) list comes in one answer', examples: [100] })),
  cursor: Type.Optional(Type.String({ maxLength: MAX_CURSOR_LENGTH, description: '`nextCursor` of the previous page' }))
}, { additionalProperties: false })
