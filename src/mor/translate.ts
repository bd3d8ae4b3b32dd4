// The whole CPU side of a devices_get answer, bytes in, devices (or MOR's error) out. It is pure
// and self-contained so that it can be tested without a network and moved off the main thread.
import type { Device } from '../schemas/device.js'
import { decompressBody, xmlText } from './decode.js'
import { parseMorXml } from './parse.js'
import { toDevices } from './map.js'
import { badResponseDetail, UpstreamBadResponseError } from './errors.js'
import { serializeDevices } from '../devices/device-index.js'
import type { IndexedList } from '../paging/items.js'

export type DevicesAnswer =
  | { kind: 'devices', devices: Device[] }
  | { kind: 'error', message: string }

export async function translateDevicesAnswer (body: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<DevicesAnswer> {
  const xml = xmlText(await decompressBody(body, contentEncoding, maxBytes))
  const answer = parseMorXml(xml)
  return answer.kind === 'error' ? answer : { kind: 'devices', devices: toDevices(answer.devices) }
}

/**
 * The same, finished to indexed JSON text and with failures as values, so it can run in a worker
 * thread: a string and three typed arrays cross the thread boundary as a few copies, where 5,000
 * device objects would be cloned one by one, and typed errors would lose their class.
 */
export type TranslatedAnswer =
  | { kind: 'devices', list: IndexedList }
  | { kind: 'error', message: string }
  | { kind: 'bad-response', detail: string }

export async function translateToJson (body: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<TranslatedAnswer> {
  try {
    const answer = await translateDevicesAnswer(body, contentEncoding, maxBytes)
    return answer.kind === 'error' ? answer : { kind: 'devices', list: serializeDevices(answer.devices) }
  } catch (err) {
    if (err instanceof UpstreamBadResponseError) return { kind: 'bad-response', detail: badResponseDetail(err) }
    throw err
  }
}
