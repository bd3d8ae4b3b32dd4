// Maps MOR's raw <device> records to the typed JSON devices of the API. Absent, empty and
// malformed optional fields become null; only the id is essential, because a device without one
// cannot be told apart. The device's SIP/IAX `secret` is a credential and is never copied. The
// field readers are shared with the device details mapper (map-details.ts).
import type { Device } from '../schemas/device.js'
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

/** MOR's yes/no flags; anything else is null. */
export function yesNo (value: unknown): boolean | null {
  if (value === 'yes') return true
  if (value === 'no') return false
  return null
}

export function toDevice (raw: RawDevice, index: number): Device {
  const id = integer(raw.device_id)
  if (id === null) throw new UpstreamBadResponseError(`device #${index + 1} has no valid device_id`)
  // The type is passed on as sent, even empty; only a missing or nested element is a bad answer.
  const type = raw.device_type
  if (typeof type !== 'string') throw new UpstreamBadResponseError(`device #${index + 1} has no device_type`)
  return {
    id,
    type,
    ipAddress: text(raw.ipaddr),
    port: integer(raw.port),
    username: text(raw.username),
    callerId: text(raw.callerid),
    deviceGroupId: integer(raw.devicegroup_id),
    primary: yesNo(raw.primary_device)
  }
}

export function toDevices (raws: RawDevice[]): Device[] {
  return raws.map(toDevice)
}
