// The whole CPU side of a devices_get answer, bytes in, devices (or MOR's error) out. It is pure
// and self-contained so that it can be tested without a network and moved off the main thread.
import type { Device } from '../schemas/device.js'
import { decompressBody, xmlText } from './decode.js'
import { parseMorXml } from './parse.js'
import { toDevices } from './map.js'

export type DevicesAnswer =
  | { kind: 'devices', devices: Device[] }
  | { kind: 'error', message: string }

export async function translateDevicesAnswer (body: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<DevicesAnswer> {
  const xml = xmlText(await decompressBody(body, contentEncoding, maxBytes))
  const answer = parseMorXml(xml)
  return answer.kind === 'error' ? answer : { kind: 'devices', devices: toDevices(answer.devices) }
}
