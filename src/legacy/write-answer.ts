// Whether MOR carried out a write, read from its answer. A cache invalidation is an upstream call
// waiting to happen, so only an answer in which MOR positively says the write was done counts:
// the success text of that very method. An error, an empty body (a HEAD, a 304), an answer cut
// short or past the bound, one that does not decode, or any other text confirms nothing.
import { decompressBody, xmlText } from '../mor/decode.js'
import type { WriteMethod } from './writes.js'

/** Write answers are a line of XML; a longer one is no confirmation. */
export const WRITE_ANSWER_MAX_BYTES = 16 * 1024

export type WriteOutcome = 'confirmed' | 'refused' | 'unconfirmed'

// MOR's success answers (shared/mor-api-notes.md): create says `Device created` (with the new
// `<id>`) or, in 2011 revisions, `Device was created`; delete `Device was deleted` under either
// name; update a `<success>` element.
const STATUS = (text: string) => new RegExp(`<status>\\s*${text}\\s*</status>`)
const CONFIRMS: Record<WriteMethod, RegExp> = {
  device_create: STATUS('Device (?:was )?created'),
  device_update: /<success>[^<]*<\/success>/,
  device_delete: STATUS('Device was deleted'),
  device_destroy: STATUS('Device was deleted')
}

/** What MOR's answer to a write says: done, refused with an `<error>`, or nothing certain. */
export async function writeOutcome (method: WriteMethod, status: number, body: Buffer, complete: boolean, contentEncoding: string | undefined): Promise<WriteOutcome> {
  if (status < 200 || status > 299 || !complete || body.length === 0) return 'unconfirmed'
  let xml: string
  try {
    xml = xmlText(await decompressBody(body, contentEncoding, 4 * WRITE_ANSWER_MAX_BYTES))
  } catch {
    return 'unconfirmed'
  }
  if (/<error[\s>/]/.test(xml)) return 'refused'
  return CONFIRMS[method].test(xml) ? 'confirmed' : 'unconfirmed'
}
