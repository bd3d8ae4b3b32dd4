// Maps the raw <page> of a device_details_get answer to the DeviceDetails of the API. Each field
// but the id is read by its catalogue description (catalogue/device-fields.ts), an allowlist:
// each names the one MOR element it reads, so unknown elements, and with them the device's
// secret, PIN and passwords, are never copied. Absent, empty, malformed and out-of-bounds values
// become null (a long description is cut instead), so the output always validates against
// DeviceDetailsSchema.
import type { DeviceDetails } from '../schemas/device-details.js'
import { DETAILS_ELEMENTS, DETAILS_FIELDS } from '../catalogue/device-fields.js'
import { integer, object } from '../catalogue/fields.js'
import type { RawDevice } from './parse.js'
import { UpstreamBadResponseError } from './errors.js'

const sentId = integer('id')
const fields = object(DETAILS_FIELDS)

/** The device's id: MOR's <id> when sent (it must be the one asked for), else the one asked for. */
function deviceId (raw: RawDevice, requestedId: number): number {
  if (raw.id === undefined || raw.id === '') return requestedId
  const id = sentId.read(raw)
  if (id === null) throw new UpstreamBadResponseError('device details have no valid id')
  if (id !== requestedId) throw new UpstreamBadResponseError(`details of device ${id} instead of device ${requestedId}`)
  return id
}

export function toDeviceDetails (raw: RawDevice, requestedId: number): DeviceDetails {
  if (!DETAILS_ELEMENTS.some((element) => element in raw)) throw new UpstreamBadResponseError('no device details in <page>')
  return { id: deviceId(raw, requestedId), ...fields.read(raw) }
}
