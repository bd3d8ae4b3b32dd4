// A MOR device as the JSON API shows it, and the ids that name users and devices: one TypeBox
// source for validation, serialization, TypeScript types and the OpenAPI document.
import { Type, type Static } from 'typebox'
import { Nullable } from './nullable.js'
import { decimalPattern } from './decimal.js'

/** MOR's ids are INT(11): at most 2147483647. */
export const MAX_USER_ID = 2_147_483_647

/**
 * A decimal integer from 0 to 2147483647, no sign, no leading zeros. The range lives in the
 * pattern so the contract states it exactly and nothing past it reaches MOR.
 */
export const USER_ID_PATTERN = decimalPattern(MAX_USER_ID)

const ID = new RegExp(USER_ID_PATTERN)

/**
 * A user or device id by the rule above, from an integer or its decimal text (a JWT claim, a
 * legacy call's parameter, a bus message); undefined for anything else.
 */
export function idOf (value: unknown): number | undefined {
  // -0 passes `>= 0` but is no canonical id (a JWT claim of -0 must not read as MOR's admin, 0).
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 && !Object.is(value, -0) && value <= MAX_USER_ID ? value : undefined
  return typeof value === 'string' && ID.test(value) ? Number(value) : undefined
}

/**
 * A user or device id in a path, as the text it is on the wire: the contract gives the pattern the
 * route checks, so a validator in front of the gateway refuses exactly what the gateway would.
 */
const IdText = (description: string, example: string) =>
  Type.String({ pattern: USER_ID_PATTERN, maxLength: String(MAX_USER_ID).length, description, examples: [example] })

const ID_RULE = 'a decimal integer from 0 to 2147483647, without sign or leading zeros'
export const UserIdParamsSchema = Type.Object({ userId: IdText(`MOR user id (0 is the admin): ${ID_RULE}`, '2') })
export const DeviceIdParamsSchema = Type.Object({ deviceId: IdText(`MOR device id: ${ID_RULE}`, '5') })

/** More devices than any MOR user has: a longer list is not a MOR answer. */
export const MAX_DEVICES = 100_000

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
