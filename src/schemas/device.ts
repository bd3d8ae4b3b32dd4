// A MOR device as the JSON API shows it, and the ids that name users and devices: one TypeBox
// source for validation, serialization, TypeScript types and the OpenAPI document.
import { Type, type Static } from 'typebox'
import { decimalPattern } from './decimal.js'
import { MAX_USER_ID } from './ids.js'
import { schemasOf } from '../catalogue/fields.js'
import { DEVICE_FIELDS } from '../catalogue/device-fields.js'

export { MAX_USER_ID }

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

// A device in a list: its id and type, essential (mor/map.ts refuses an answer without them; the
// type is cut to its length), and the fields the catalogue's field kinds describe and read
// (catalogue/device-fields.ts), so the contract and the mapper are one description.
/** How long a device's type may be: mor/map.ts cuts a longer one to this. */
export const MAX_DEVICE_TYPE_LENGTH = 32

export const DeviceSchema = Type.Object({
  id: Type.Integer({ format: 'int32', minimum: 0, maximum: MAX_USER_ID, description: 'MOR device_id' }),
  type: Type.String({ maxLength: MAX_DEVICE_TYPE_LENGTH, description: 'device_type as MOR sends it: SIP, IAX2, FAX, Virtual, H323, ...' }),
  ...schemasOf(DEVICE_FIELDS)
}, { $id: 'Device', additionalProperties: false })
export type Device = Static<typeof DeviceSchema>
