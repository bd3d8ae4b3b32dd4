// The device list's own reading of a devices_get answer (its catalogue entry's `read`): MOR's
// <device> records to the API's devices, every one with an id and a type, serialized with the
// list's index (where each device sits, its id, and the columns the filters read). Pure, so it
// runs in the translation workers for large users.
import type { Device } from '../schemas/device.js'
import { decompressBody, xmlText } from './decode.js'
import { deviceNodes, parseMorXml, type XmlNode } from './parse.js'
import { toDevices } from './map.js'
import { serializeDevices } from '../devices/device-index.js'
import { shiftItems } from '../paging/items.js'
import type { ReadAnswer } from '../catalogue/resource.js'

export type DevicesAnswer =
  | { kind: 'devices', devices: Device[] }
  | { kind: 'error', message: string }

/** A devices_get answer as typed devices (or MOR's error); throws UpstreamBadResponseError for one that is not MOR's. */
export async function translateDevicesAnswer (body: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<DevicesAnswer> {
  const xml = xmlText(await decompressBody(body, contentEncoding, maxBytes))
  const answer = parseMorXml(xml)
  return answer.kind === 'error' ? answer : { kind: 'devices', devices: toDevices(answer.devices) }
}

/** A devices_get <page> as the list's answer: the user id, the devices, nextCursor null; indexed. */
export function readDeviceList (page: XmlNode, userId: number): ReadAnswer {
  const { json, index } = serializeDevices(toDevices(deviceNodes(page)))
  const head = `{"userId":${userId},"devices":`
  return { json: `${head}${json},"nextCursor":null}`, items: shiftItems(index, Buffer.byteLength(head)) }
}
