// Whether MOR carried out a write, read from its answer. A cache invalidation is an upstream call
// waiting to happen, so only an answer in which MOR positively says the write was done counts:
// the success text of that very method (read in mor/device-writes.ts). An error, an empty body (a
// HEAD, a 304), an answer cut short or past the bound, one that does not decode, or any other text
// confirms nothing.
import { decompressBody, xmlText } from '../mor/decode.js'
import type { WriteMethod } from './writes.js'
import { readWriteAnswer, WRITE_ANSWER_MAX_DECODED_BYTES, type DeviceWriteMethod } from '../mor/device-writes.js'

// A longer answer is no confirmation.
export { WRITE_ANSWER_MAX_BYTES } from '../mor/device-writes.js'

export type WriteOutcome = 'confirmed' | 'refused' | 'unconfirmed'

/** The method MOR runs: device_destroy is device_delete's old name. */
const RUNS: Record<WriteMethod, DeviceWriteMethod> = {
  device_create: 'device_create',
  device_update: 'device_update',
  device_delete: 'device_delete',
  device_destroy: 'device_delete'
}
const OUTCOMES = { done: 'confirmed', refused: 'refused', unknown: 'unconfirmed' } as const

/** What MOR's answer to a write says: done, refused with an `<error>`, or nothing certain. */
export async function writeOutcome (method: WriteMethod, status: number, body: Buffer, complete: boolean, contentEncoding: string | undefined): Promise<WriteOutcome> {
  if (status < 200 || status > 299 || !complete || body.length === 0) return 'unconfirmed'
  let xml: string
  try {
    xml = xmlText(await decompressBody(body, contentEncoding, WRITE_ANSWER_MAX_DECODED_BYTES))
  } catch {
    return 'unconfirmed'
  }
  return OUTCOMES[readWriteAnswer(RUNS[method], xml).kind]
}
