// Maps the raw <page> of a device_details_get answer to the DeviceDetails of the API. It is an
// allowlist: each output field names the one MOR element it reads, so unknown elements, and with
// them the device's secret, PIN and passwords, are never copied. Absent, empty, malformed and
// out-of-bounds values become null (a long description is cut instead), so the output always
// validates against DeviceDetailsSchema.
import { CODEC_NAME_PATTERN, DeviceDetailsSchema, MAX_CODECS, type DeviceDetails } from '../schemas/device-details.js'
import { boundedInteger, boundedText, clippedText, integer, yesNo } from './map.js'
import type { RawDevice } from './parse.js'
import { UpstreamBadResponseError } from './errors.js'

type StringKey = 'type' | 'name' | 'username' | 'extension' | 'callerId' | 'description' | 'host' | 'ipAddress' | 'fullContact' |
  'context' | 'transport' | 'nat' | 'qualify' | 'dtmfMode' | 'callGroup' | 'pickupGroup'
type IntegerKey = 'userId' | 'port' | 'deviceGroupId' | 'primaryDidId'

// The bounds are read from the schema, so the contract and the mapper cannot drift apart.
const BOUNDS = DeviceDetailsSchema.properties as unknown as Record<StringKey | IntegerKey | 'id', { maxLength?: number, maximum?: number }>
const maxLengthOf = (key: StringKey) => BOUNDS[key].maxLength ?? 0
const maximumOf = (key: IntegerKey | 'id') => BOUNDS[key].maximum ?? 0

/** The MOR elements the mapper reads: a <page> with none of them is not a device's details. */
const KNOWN_ELEMENTS = [
  'id', 'user_id', 'device_type', 'name', 'username', 'extension', 'callerid', 'description', 'host', 'ipaddr', 'port',
  'regseconds', 'fullcontact', 'context', 'devicegroup_id', 'primary_did_id', 'transport', 'nat', 'qualify', 'dtmfmode',
  'callgroup', 'pickupgroup', 'voicemail_active', 'record', 'istrunk', 'videosupport', 'codecs'
]

const bounded = (key: StringKey, value: unknown) => boundedText(value, maxLengthOf(key))
const clipped = (key: StringKey, value: unknown) => clippedText(value, maxLengthOf(key))
const whole = (key: IntegerKey, value: unknown) => boundedInteger(value, maximumOf(key))

/** MOR writes its flags as yes/no in some fields and revisions, 1/0 in others. */
function flag (value: unknown): boolean | null {
  if (value === '1') return true
  if (value === '0') return false
  return yesNo(value)
}

// 9999-12-31T23:59:59Z: the last instant an ISO 8601 date-time (and the schema's maxLength) holds.
const MAX_DATE_SECONDS = 253_402_300_799

function unixTime (value: unknown): string | null {
  const n = integer(value)
  return n !== null && n > 0 && n <= MAX_DATE_SECONDS ? new Date(n * 1000).toISOString() : null
}

type Node = Record<string, unknown>
const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value)
const CODEC_NAME = new RegExp(CODEC_NAME_PATTERN)
const ENABLED = new Set(['1', 'yes', 'true'])

/**
 * MOR's revisions list codecs as <codec>name</codec> elements, as <name>1</name> switches, or as
 * text separated by commas (Asterisk's own lists use & or |). Names that do not look like codecs
 * are left out; an unreadable list is empty.
 */
function codecNames (value: unknown): string[] {
  const names: string[] = []
  if (typeof value === 'string') names.push(...value.split(/[\s,;&|]+/))
  else if (isNode(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'codec') names.push(...(Array.isArray(child) ? child : [child]).filter((c): c is string => typeof c === 'string'))
      else if (typeof child === 'string' && ENABLED.has(child.toLowerCase())) names.push(key)
    }
  }
  return [...new Set(names.filter((name) => CODEC_NAME.test(name)))].slice(0, MAX_CODECS)
}

function codecs (value: unknown): DeviceDetails['codecs'] {
  if (value === '') return { audio: [], video: [] } // <codecs/>
  if (!isNode(value)) return null
  return { audio: codecNames(value.audio_codecs), video: codecNames(value.video_codecs) }
}

/** The device's id: MOR's <id> when sent (it must be the one asked for), else the one asked for. */
function deviceId (raw: RawDevice, requestedId: number): number {
  if (raw.id === undefined || raw.id === '') return requestedId
  const id = integer(raw.id)
  if (id === null || id > maximumOf('id')) throw new UpstreamBadResponseError('device details have no valid id')
  if (id !== requestedId) throw new UpstreamBadResponseError(`details of device ${id} instead of device ${requestedId}`)
  return id
}

export function toDeviceDetails (raw: RawDevice, requestedId: number): DeviceDetails {
  if (!KNOWN_ELEMENTS.some((element) => element in raw)) throw new UpstreamBadResponseError('no device details in <page>')
  return {
    id: deviceId(raw, requestedId),
    userId: whole('userId', raw.user_id),
    type: bounded('type', raw.device_type),
    name: bounded('name', raw.name),
    username: bounded('username', raw.username),
    extension: bounded('extension', raw.extension),
    callerId: bounded('callerId', raw.callerid),
    description: clipped('description', raw.description),
    host: bounded('host', raw.host),
    ipAddress: bounded('ipAddress', raw.ipaddr),
    port: whole('port', raw.port),
    registrationExpires: unixTime(raw.regseconds),
    fullContact: bounded('fullContact', raw.fullcontact),
    context: bounded('context', raw.context),
    deviceGroupId: whole('deviceGroupId', raw.devicegroup_id),
    primaryDidId: whole('primaryDidId', raw.primary_did_id),
    transport: bounded('transport', raw.transport),
    nat: bounded('nat', raw.nat),
    qualify: bounded('qualify', raw.qualify),
    dtmfMode: bounded('dtmfMode', raw.dtmfmode),
    callGroup: bounded('callGroup', raw.callgroup),
    pickupGroup: bounded('pickupGroup', raw.pickupgroup),
    voicemailActive: flag(raw.voicemail_active),
    record: flag(raw.record),
    // MOR's trunk setting: 0 no, 1 yes, 2 yes with ANI.
    trunk: raw.istrunk === '2' ? true : flag(raw.istrunk),
    videoSupport: flag(raw.videosupport),
    codecs: codecs(raw.codecs)
  }
}
