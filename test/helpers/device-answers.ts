// A device answer read the way the device entries read it, step by step, but kept typed: the raw
// <device> records or details (parseMorXml, parseDeviceDetailsXml), and the API's devices or
// details (translateDevicesAnswer, translateDeviceDetails). Each step is the gateway's own
// (mor/decode.ts, mor/parse.ts, mor/map.ts, mor/map-details.ts); the tests look between them.
import { decompressBody, xmlText } from '../../src/mor/decode.js'
import { answerParser, deviceNodes, readPage, type RawDevice } from '../../src/mor/parse.js'
import { toDevices } from '../../src/mor/map.js'
import { toDeviceDetails } from '../../src/mor/map-details.js'
import { deviceDetails, deviceList } from '../../src/catalogue/devices.js'
import type { Device } from '../../src/schemas/device.js'
import type { DeviceDetails } from '../../src/schemas/device-details.js'

export type MorAnswer = { kind: 'devices', devices: RawDevice[] } | { kind: 'error', message: string }
export type MorDetailsAnswer = { kind: 'device', device: RawDevice } | { kind: 'error', message: string }
export type DevicesAnswer = { kind: 'devices', devices: Device[] } | { kind: 'error', message: string }
export type DeviceDetailsAnswer = { kind: 'device', device: DeviceDetails } | { kind: 'error', message: string }

// The parsers the entries' translation uses (catalogue/translate.ts): <device>, <codec> always lists.
const listParser = answerParser([deviceList.list?.tag ?? 'device'])
const detailsParser = answerParser(deviceDetails.arrays ?? [])

/** A devices_get answer's raw <device> records, or MOR's error. */
export function parseMorXml (xml: string): MorAnswer {
  const answer = readPage(xml, listParser)
  return answer.kind === 'error' ? answer : { kind: 'devices', devices: deviceNodes(answer.page) }
}

/** A device_details_get answer's <page> as sent (codecs nested), or MOR's error. */
export function parseDeviceDetailsXml (xml: string): MorDetailsAnswer {
  const answer = readPage(xml, detailsParser)
  return answer.kind === 'error' ? answer : { kind: 'device', device: answer.page }
}

/** A devices_get answer, bytes in, as typed devices (or MOR's error); throws UpstreamBadResponseError for one that is not MOR's. */
export async function translateDevicesAnswer (body: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<DevicesAnswer> {
  const answer = parseMorXml(xmlText(await decompressBody(body, contentEncoding, maxBytes)))
  return answer.kind === 'error' ? answer : { kind: 'devices', devices: toDevices(answer.devices) }
}

/** A device_details_get answer, bytes in, as typed details of `requestedId` (or MOR's error). */
export async function translateDeviceDetails (body: Buffer, contentEncoding: string | undefined, maxBytes: number, requestedId: number): Promise<DeviceDetailsAnswer> {
  const answer = parseDeviceDetailsXml(xmlText(await decompressBody(body, contentEncoding, maxBytes)))
  return answer.kind === 'error' ? answer : { kind: 'device', device: toDeviceDetails(answer.device, requestedId) }
}
