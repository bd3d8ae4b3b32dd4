// How the simulator writes MOR's XML: the same element names, order and error shapes MOR uses.
import type { SimCodecs, SimDevice, SimOwnedDevice } from './data.js'

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }
export const escapeXml = (value: string) => value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)

const FIELDS = ['device_id', 'device_type', 'devicegroup_id', 'primary_device', 'username', 'secret', 'ipaddr', 'port', 'callerid'] as const

function deviceXml (device: SimDevice): string {
  let xml = '    <device>\n'
  for (const field of FIELDS) {
    const value = device[field]
    if (value !== undefined) xml += `      <${field}>${escapeXml(String(value))}</${field}>\n`
  }
  return xml + '    </device>\n'
}

// A fixed registration expiry (2026-01-01T00:00:00Z), so answers stay the same from run to run.
const REGISTERED_UNTIL = 1_767_225_600
const DEFAULT_CODECS: SimCodecs = { audio: ['alaw', 'ulaw'], video: [] }

/** device_details_get's flat elements, in MOR's order, credentials included as MOR sends them. */
function detailFields ({ userId, device }: SimOwnedDevice): Array<[string, string]> {
  const extras = device.extras ?? {}
  const str = (value: string | number | undefined) => (value === undefined ? '' : String(value))
  const host = extras.host ?? 'dynamic'
  const registered = host === 'dynamic' && device.ipaddr !== undefined && device.ipaddr !== '' && device.ipaddr !== '0.0.0.0'
  const sip = device.device_type === 'SIP'
  const codecs = extras.codecs ?? DEFAULT_CODECS
  return [
    ['id', String(device.device_id)], ['name', str(device.username)], ['host', host], ['secret', str(device.secret)],
    ['context', 'mor_local'], ['ipaddr', str(device.ipaddr)], ['port', str(device.port)],
    ['regseconds', registered ? String(REGISTERED_UNTIL) : '0'], ['accountcode', String(device.device_id)],
    ['callerid', str(device.callerid)], ['extension', extras.extension ?? str(device.username)], ['voicemail_active', sip ? '1' : '0'],
    ['voicemail_password', extras.voicemailPassword ?? voicemailPasswordOf(device.device_id)],
    ['username', str(device.username)], ['device_type', device.device_type], ['user_id', String(userId)],
    ['primary_did_id', '0'], ['works_not_logged', '1'], ['forward_to', '0'], ['record', '0'], ['transfer', 'no'],
    ['disallow', 'all'], ['allow', [...codecs.audio, ...codecs.video].join(';')], ['deny', ''], ['permit', '0.0.0.0/0.0.0.0'],
    ['nat', 'yes'], ['qualify', sip ? '1000' : 'no'],
    ['fullcontact', registered ? `sip:${str(device.username)}@${str(device.ipaddr)}:${str(device.port)}` : ''],
    ['canreinvite', 'no'], ['devicegroup_id', str(device.devicegroup_id)], ['dtmfmode', 'rfc2833'],
    ['callgroup', sip ? '1' : ''], ['pickupgroup', sip ? '1' : ''], ['fromuser', ''], ['fromdomain', ''],
    ['trustrpid', 'no'], ['sendrpid', 'no'], ['insecure', 'no'], ['progressinband', 'never'],
    ['videosupport', codecs.video.length > 0 ? 'yes' : 'no'], ['transport', sip ? 'udp' : ''],
    ['description', extras.description ?? ''], ['istrunk', extras.istrunk ?? '0'], ['cid_from_dids', '0'],
    ['pin', extras.pin ?? pinOf(device.device_id)],
    ['tell_balance', '0'], ['tell_time', '0'], ['balance', '0.0'], ['device_balance_enabled', '0']
  ]
}

const codecsXml = (tag: string, names: string[]) =>
  `    <${tag}>${names.map((name) => `\n      <codec>${escapeXml(name)}</codec>`).join('')}${names.length > 0 ? '\n    ' : ''}</${tag}>\n`

/**
 * A device's default PIN and voicemail password: eight digits, so a test that looks for them in
 * everything the gateway writes cannot mistake them for digits of an id or a request id.
 */
export const pinOf = (deviceId: number) => String(10_000_000 + (deviceId * 104_729) % 90_000_000)
export const voicemailPasswordOf = (deviceId: number) => String(10_000_000 + (deviceId * 7919) % 90_000_000)

/** A device_details_get answer: one <page> of flat elements, then the nested codecs. */
export function deviceDetailsXml (owned: SimOwnedDevice): string {
  const fields = detailFields(owned).map(([name, value]) => `  <${name}>${escapeXml(value)}</${name}>\n`).join('')
  const codecs = owned.device.extras?.codecs ?? DEFAULT_CODECS
  return `<?xml version="1.0" encoding="UTF-8"?>\n<page>\n${fields}  <codecs>\n${codecsXml('audio_codecs', codecs.audio)}${codecsXml('video_codecs', codecs.video)}  </codecs>\n</page>\n`
}

export type ErrorShape = 'bare' | 'page'
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

export function devicesXml (devices: SimDevice[]): string {
  const body = devices.length === 0 ? '  <devices/>\n' : `  <devices>\n${devices.map(deviceXml).join('')}  </devices>\n`
  return `<?xml version="1.0" encoding="UTF-8"?>\n<page>\n${body}</page>\n`
}

export function errorXml (message: string, shape: ErrorShape): string {
  const error = `<error>${escapeXml(message)}</error>`
  return shape === 'bare'
    ? `<?xml version="1.0" encoding="UTF-8"?>\n${error}\n`
    : `<?xml version="1.0" encoding="UTF-8"?>\n<page>\n  <status>\n    ${error}\n  </status>\n</page>\n`
}

/**
 * Which MOR revision's write answers the simulator gives: `current` (MOR's code and the newer wiki
 * pages) or `2011` (the oldest documented: device_create says `Device was created` with no id,
 * its validation errors are spelled with underscores, device_destroy's status comes bare).
 */
export type SimRevision = 'current' | '2011'

/** device_create's success: the new device's id, username and SIP password (a credential), or 2011's bare status. */
export function deviceCreatedXml (device: SimDevice, revision: SimRevision): string {
  if (revision === '2011') return `${DECLARATION}<status>Device was created</status>\n`
  const element = (name: string, value: string) => `  <${name}>${escapeXml(value)}</${name}>\n`
  return `${DECLARATION}<page>\n${element('status', 'Device created')}${element('id', String(device.device_id))}` +
    `${element('username', device.username ?? '')}${element('password', device.secret ?? '')}</page>\n`
}

/** device_delete's and device_destroy's success: in a <page> in newer revisions, bare in older ones. */
export function deviceDeletedXml (revision: SimRevision): string {
  return revision === '2011'
    ? `${DECLARATION}<status>Device was deleted</status>\n`
    : `${DECLARATION}<page>\n  <status>Device was deleted</status>\n</page>\n`
}

/** device_update's success: <page><status><success>, the <page> twin of the error shape. */
export function successXml (message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<page>\n  <status>\n    <success>${escapeXml(message)}</success>\n  </status>\n</page>\n`
}

/** MOR's "XML API Extension" setting, for old .NET clients, wraps the answer in HTML tags. */
export function withHtmlWrapper (xml: string): string {
  return `<head></head><body>${xml.replace(/^<\?xml[^>]*>\s*/, '')}</body>`
}
