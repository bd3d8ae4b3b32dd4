// Maps MOR's raw <device> records to the typed JSON devices of the API. Absent, empty and
// malformed optional fields become null; only the id is essential, because a device without one
// cannot be told apart. The device's SIP/IAX `secret` is a credential and is never copied. The
// field readers are shared with the device details mapper (map-details.ts).
import { DeviceSchema, MAX_DEVICES, type Device } from '../schemas/device.js'
import type { RawDevice } from './parse.js'
import { UpstreamBadResponseError } from './errors.js'

const DIGITS = /^[0-9]+$/

/** A non-empty string, else null (empty elements, nested or repeated elements). */
export function text (value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null
}

/** A decimal integer without sign that is a safe integer, else null. */
export function integer (value: unknown): number | null {
  if (typeof value !== 'string' || !DIGITS.test(value)) return null
  const n = Number(value)
  return Number.isSafeInteger(n) ? n : null
}

// JSON Schema's maxLength counts code points; a string has at least as many UTF-16 units.
const fits = (s: string, max: number) => s.length <= max || [...s].length <= max

/** text(), and null when longer than the contract allows. */
export function boundedText (value: unknown, maxLength: number): string | null {
  const s = text(value)
  return s !== null && fits(s, maxLength) ? s : null
}

/** text(), cut to the contract's length: for free text, where a beginning beats nothing. */
export function clippedText (value: unknown, maxLength: number): string | null {
  const s = text(value)
  return s === null || fits(s, maxLength) ? s : [...s].slice(0, maxLength).join('')
}

/** integer(), and null when over the contract's maximum. */
export function boundedInteger (value: unknown, maximum: number): number | null {
  const n = integer(value)
  return n !== null && n <= maximum ? n : null
}

/** MOR's yes/no flags; anything else is null. */
export function yesNo (value: unknown): boolean | null {
  if (value === 'yes') return true
  if (value === 'no') return false
  return null
}

// The bounds are read from the schema, so the contract and the mapper cannot drift apart.
const BOUNDS = DeviceSchema.properties as unknown as Record<keyof Device, { maxLength?: number, maximum?: number }>
const maxLength = (key: keyof Device) => BOUNDS[key].maxLength ?? 0
const maximum = (key: keyof Device) => BOUNDS[key].maximum ?? 0

export function toDevice (raw: RawDevice, index: number): Device {
  const id = boundedInteger(raw.device_id, maximum('id'))
  if (id === null) throw new UpstreamBadResponseError(`device #${index + 1} has no valid device_id`)
  // The type is passed on as sent, even empty; only a missing or nested element is a bad answer.
  const type = raw.device_type
  if (typeof type !== 'string') throw new UpstreamBadResponseError(`device #${index + 1} has no device_type`)
  return {
    id,
    type: clippedText(type, maxLength('type')) ?? '',
    ipAddress: boundedText(raw.ipaddr, maxLength('ipAddress')),
    port: boundedInteger(raw.port, maximum('port')),
    username: boundedText(raw.username, maxLength('username')),
    callerId: boundedText(raw.callerid, maxLength('callerId')),
    deviceGroupId: boundedInteger(raw.devicegroup_id, maximum('deviceGroupId')),
    primary: yesNo(raw.primary_device)
  }
}

export function toDevices (raws: RawDevice[]): Device[] {
  if (raws.length > MAX_DEVICES) throw new UpstreamBadResponseError(`more than ${MAX_DEVICES} devices`)
  return raws.map(toDevice)
}
