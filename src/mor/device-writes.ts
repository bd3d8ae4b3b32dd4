// MOR's device writes as the gateway makes them itself (issue 28's JSON writes) and reads them in
// the passthrough: which parameters each method hashes, in MOR's order, and what MOR's answer
// says: done (with the new device's id, when MOR sends it), refused (MOR's words, sorted into what
// a client can act on), or nothing certain. Pure functions: the client (client.ts) sends, the
// passthrough (legacy/write-answer.ts) only reads.
import { signParams } from './sign.js'

export type DeviceWriteMethod = 'device_create' | 'device_update' | 'device_delete'

/** Write answers are a line of XML (device_create's adds the new device's name and password); a longer one is not MOR's. */
export const WRITE_ANSWER_MAX_BYTES = 16 * 1024
/** The bound once decompressed: MOR's answer may come gzipped. */
export const WRITE_ANSWER_MAX_DECODED_BYTES = 4 * WRITE_ANSWER_MAX_BYTES

/**
 * The parameters MOR hashes for each write, in MOR's order; one not sent counts as empty
 * (shared/mor-api-notes.md, "Other device methods"). `u` and `p` never count.
 */
export const WRITE_HASHED: Record<DeviceWriteMethod, readonly string[]> = {
  device_create: ['user_id', 'description', 'pin', 'type', 'devicegroup_id', 'caller_id'],
  device_update: ['device', 'authentication', 'username', 'host', 'port'],
  device_delete: ['device']
}

/** device_create's optional parameters (`user_id` is the target); `extension`, `fromuser` and `call_timeout` are not hashed. */
export type DeviceCreateParam = 'description' | 'pin' | 'type' | 'devicegroup_id' | 'caller_id' | 'extension' | 'fromuser' | 'call_timeout'
/** device_update's fields (`device` is the target); only `authentication`, `username`, `host` and `port` are hashed. */
export type DeviceUpdateParam = 'authentication' | 'username' | 'host' | 'port' | 'password' | 'description' | 'callerid_number' |
  'callerid_name' | 'call_limit' | 'inbound_call_limit' | 'extension' | 'pin' | 'hidden' | 'language' | 'comment' | 'transport'

/** A write's parameters with MOR's hash added. */
export function signedWrite (method: DeviceWriteMethod, params: Readonly<Record<string, string>>, secret: string): Record<string, string> {
  return { ...params, hash: signParams(WRITE_HASHED[method].map((name) => params[name] ?? ''), secret) }
}

/**
 * What a refusal means to a client: the target is not there, the device cannot go while something
 * uses it, the values are not acceptable, or MOR turned the gateway itself away (a login, a hash,
 * a right: a configuration problem, nothing the client can fix).
 */
export type WriteRefusal = 'not-found' | 'in-use' | 'invalid' | 'rejected'

export type WriteAnswer =
  /** MOR says it did it; `id` is device_create's new device, when MOR sends it (2011 revisions do not). */
  | { kind: 'done', id?: number }
  /** An `<error>`: `message` is MOR's text, `details` its `<message>` lines (device_create's validation errors). */
  | { kind: 'refused', refusal: WriteRefusal, message: string, details: string[] }
  /** Neither: an empty answer, or words never seen before. MOR may or may not have done it. */
  | { kind: 'unknown' }

// MOR's success answers: create says `Device created` (with the new `<id>`) or, in 2011
// revisions, `Device was created`; delete `Device was deleted` under either name; update a
// `<success>` element.
const STATUS = (text: string) => new RegExp(`<status>\\s*${text}\\s*</status>`)
const DONE: Record<DeviceWriteMethod, RegExp> = {
  device_create: STATUS('Device (?:was )?created'),
  device_update: /<success>[^<]*<\/success>/,
  device_delete: STATUS('Device was deleted')
}

/** MOR's refusals of a device write, by what they mean; 2011 revisions spell them with underscores. */
const NOT_FOUND = new Set(['Device was not found', 'User was not found', 'Location was not found'])
const IN_USE = [/^Cannot delete device/, /we cannot delete it$/]
const INVALID = new Set([
  'Device type invalid', 'Device group invalid', 'Pin is already used', 'Pin must be numeric', 'CallerID must be numeric',
  'Device was not created', 'Password is too short'
])

function refusalOf (message: string): WriteRefusal {
  const words = message.replaceAll('_', ' ')
  if (NOT_FOUND.has(words)) return 'not-found'
  if (IN_USE.some((pattern) => pattern.test(words))) return 'in-use'
  return INVALID.has(words) ? 'invalid' : 'rejected'
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: '\'' }
/** An element's text as MOR escapes it (the five XML entities and numeric references), trimmed. */
function textOf (raw: string): string {
  return raw.replace(/&(?:#x([0-9a-f]{1,6})|#([0-9]{1,7})|([a-z]+));/gi, (whole, hex?: string, dec?: string, name?: string) => {
    if (name !== undefined) return ENTITIES[name.toLowerCase()] ?? whole
    const code = hex !== undefined ? parseInt(hex, 16) : Number(dec)
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole
  }).trim()
}

const ERROR = /<error>([^<]*)<\/error>/
const MESSAGES = /<message>([^<]*)<\/message>/g
const NEW_ID = /<id>\s*([0-9]{1,10})\s*<\/id>/

/** What MOR's (decoded) answer to a device write says. Bare, in `<page>` or in `<page><status>`. */
export function readWriteAnswer (method: DeviceWriteMethod, xml: string): WriteAnswer {
  const error = ERROR.exec(xml)
  if (error !== null || /<error[\s>/]/.test(xml)) {
    const message = textOf(error?.[1] ?? '')
    return { kind: 'refused', refusal: refusalOf(message), message, details: [...xml.matchAll(MESSAGES)].map((m) => textOf(m[1] ?? '')).filter((m) => m !== '') }
  }
  if (!DONE[method].test(xml)) return { kind: 'unknown' }
  const id = method === 'device_create' ? NEW_ID.exec(xml)?.[1] : undefined
  return id !== undefined && Number(id) <= 2147483647 ? { kind: 'done', id: Number(id) } : { kind: 'done' }
}
