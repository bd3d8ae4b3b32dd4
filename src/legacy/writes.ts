// Which passthrough calls change devices, whom they touch, and whether MOR said they worked: what
// lets a write through the legacy API drop the cached answers it makes stale. The relay inspects
// a bounded copy of such an answer after the client has its bytes; nothing it sends is changed.
import { decompressBody, xmlText } from '../mor/decode.js'
import { idOf } from '../schemas/device.js'

/** A device-changing call: the user whose list gains a device, or the device changed or removed. */
export type LegacyWrite =
  | { method: 'device_create', userId: number }
  | { method: 'device_update' | 'device_destroy', deviceId: number }

/** Write answers are a line of XML; past this the copy stops growing (and the write still counts). */
export const WRITE_ANSWER_MAX_BYTES = 16 * 1024

/**
 * The write a passthrough call makes, if it is one: by MOR's method name, with its parameters
 * from the query string and a form body (the body's win, as Rails merges them).
 */
export function legacyWriteOf (apiPrefix: string, path: string, body: Buffer | null, contentType: string | undefined): LegacyWrite | undefined {
  const mark = path.indexOf('?')
  const route = mark < 0 ? path : path.slice(0, mark)
  if (!route.startsWith(`${apiPrefix}/`)) return undefined
  const method = route.slice(apiPrefix.length + 1)
  if (method !== 'device_create' && method !== 'device_update' && method !== 'device_destroy') return undefined
  const params = new URLSearchParams(mark < 0 ? '' : path.slice(mark + 1))
  if (body !== null && (contentType ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    for (const [name, value] of new URLSearchParams(body.toString('utf8'))) params.set(name, value)
  }
  if (method === 'device_create') {
    const userId = idOf(params.get('user_id'))
    return userId === undefined ? undefined : { method, userId }
  }
  const deviceId = idOf(params.get('device'))
  return deviceId === undefined ? undefined : { method, deviceId }
}

/**
 * Whether MOR's answer to a write may have changed something: a 2xx that is not one of MOR's
 * `<error>` answers. When in doubt (an answer past the copy's bound, one that does not decode) it
 * counts as a change: dropping a cached answer costs one MOR call, keeping a stale one misleads.
 */
export async function writeMayHaveChanged (status: number, copy: Buffer, complete: boolean, contentEncoding: string | undefined): Promise<boolean> {
  if (status < 200 || status > 299) return false
  if (!complete) return true
  let xml: string
  try {
    xml = xmlText(await decompressBody(copy, contentEncoding, 4 * WRITE_ANSWER_MAX_BYTES))
  } catch {
    return true
  }
  return !/<error[\s>/]/i.test(xml)
}
