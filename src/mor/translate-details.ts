// The CPU side of a device_details_get answer, bytes in, one device (or MOR's error) out: the
// same bounded decompression and decoding as device lists. An answer about one device is small,
// so it is translated inline, never in the worker pool.
import type { DeviceDetails } from '../schemas/device-details.js'
import { decompressBody, xmlText } from './decode.js'
import { parseDeviceDetailsXml } from './parse.js'
import { toDeviceDetails } from './map-details.js'
import { badResponseDetail, UpstreamBadResponseError } from './errors.js'

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

/**
 * The same, finished to JSON text with the owner's id beside it (what a scope check reads before
 * the body is served), and a bad answer as a value, like the device list's translateToJson.
 */
export type TranslatedDetails =
  | { kind: 'device', json: string, userId: number | null }
  | { kind: 'error', message: string }
  | { kind: 'bad-response', detail: string }

export async function translateDetailsToJson (
  body: Buffer, contentEncoding: string | undefined, maxBytes: number, requestedId: number
): Promise<TranslatedDetails> {
  try {
    const answer = await translateDeviceDetails(body, contentEncoding, maxBytes, requestedId)
    return answer.kind === 'error' ? answer : { kind: 'device', json: JSON.stringify(answer.device), userId: answer.device.userId }
  } catch (err) {
    if (err instanceof UpstreamBadResponseError) return { kind: 'bad-response', detail: badResponseDetail(err) }
    throw err
  }
}
