// The device entries' own readings of MOR's <page> (catalogue/devices.ts, `read`): what is a
// device's alone. A list's devices each need an id and a type (mor/map.ts), and the list is
// serialized with its index (where each device sits, its id, and the columns its filters read);
// one device's details must be of the device asked for, and name the owner its scope is checked
// against (mor/map-details.ts). Pure, so they run in the translation workers.
import { deviceNodes, type XmlNode } from './parse.js'
import { toDevices } from './map.js'
import { toDeviceDetails } from './map-details.js'
import { serializeDevices } from '../devices/device-index.js'
import type { ReadAnswer } from '../catalogue/resource.js'

/** A devices_get <page> as the list's answer: the user id, the devices, nextCursor null; indexed. */
export function readDeviceList (page: XmlNode, userId: number): ReadAnswer {
  const head = `{"userId":${userId},"devices":`
  const { json, index } = serializeDevices(toDevices(deviceNodes(page)), Buffer.byteLength(head))
  return { json: `${head}${json},"nextCursor":null}`, items: index }
}

/** A device_details_get <page> as the device's answer, with the owner it names (null when MOR names none). */
export function readDeviceDetails (page: XmlNode, requestedId: number): ReadAnswer {
  const device = toDeviceDetails(page, requestedId)
  return { json: JSON.stringify(device), items: undefined, owner: device.userId }
}
