// The device details' own reading of a device_details_get answer (its catalogue entry's `read`):
// the details must be of the device asked for, and name its owner, which the scope is checked
// against. translateDeviceDetails reads the whole answer, bytes in, for the tests and the bench.
import type { DeviceDetails } from '../schemas/device-details.js'
import { decompressBody, xmlText } from './decode.js'
import { parseDeviceDetailsXml, type XmlNode } from './parse.js'
import { toDeviceDetails } from './map-details.js'
import type { ReadAnswer } from '../catalogue/resource.js'

export type DeviceDetailsAnswer =
  | { kind: 'device', device: DeviceDetails }
  | { kind: 'error', message: string }

export async function translateDeviceDetails (
  body: Buffer, contentEncoding: string | undefined, maxBytes: number, requestedId: number
): Promise<DeviceDetailsAnswer> {
  const xml = xmlText(await decompressBody(body, contentEncoding, maxBytes))
  const answer = parseDeviceDetailsXml(xml)
  return answer.kind === 'error' ? answer : { kind: 'device', device: toDeviceDetails(answer.device, requestedId) }
}

/** A device_details_get <page> as the device's answer, with the owner it names (null when MOR names none). */
export function readDeviceDetails (page: XmlNode, requestedId: number): ReadAnswer {
  const device = toDeviceDetails(page, requestedId)
  return { json: JSON.stringify(device), items: undefined, owner: device.userId }
}
