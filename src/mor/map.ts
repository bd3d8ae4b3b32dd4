// Maps MOR's raw <device> records to the typed JSON devices of the API. Only the id is essential,
// because a device without one cannot be told apart, and the type is passed on as sent (even
// empty, cut to its length); every other field is read by its catalogue description
// (catalogue/device-fields.ts): absent, empty and malformed values become null. The device's
// SIP/IAX `secret` is a credential, and no field reads it.
import { MAX_DEVICE_TYPE_LENGTH, MAX_DEVICES, type Device } from '../schemas/device.js'
import { DEVICE_FIELDS } from '../catalogue/device-fields.js'
import { clip, integer, object } from '../catalogue/fields.js'
import type { RawDevice } from './parse.js'
import { UpstreamBadResponseError } from './errors.js'

const deviceId = integer('device_id')
const fields = object(DEVICE_FIELDS)

export function toDevice (raw: RawDevice, index: number): Device {
  const id = deviceId.read(raw)
  if (id === null) throw new UpstreamBadResponseError(`device #${index + 1} has no valid device_id`)
  // Only a missing or nested element is a bad answer.
  const type = raw.device_type
  if (typeof type !== 'string') throw new UpstreamBadResponseError(`device #${index + 1} has no device_type`)
  return { id, type: clip(type, MAX_DEVICE_TYPE_LENGTH), ...fields.read(raw) }
}

export function toDevices (raws: RawDevice[]): Device[] {
  if (raws.length > MAX_DEVICES) throw new UpstreamBadResponseError(`more than ${MAX_DEVICES} devices`)
  return raws.map(toDevice)
}
