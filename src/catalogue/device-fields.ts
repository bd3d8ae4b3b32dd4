// The fields of MOR's devices as the catalogue's field kinds describe them: a device in a list
// (devices_get) and one device's details (device_details_get). The device schemas
// (schemas/device.ts, schemas/device-details.ts) are built from these, and the mappers
// (mor/map.ts, mor/map-details.ts) read with them, so the contract and the mapping are one
// description, with the same rules as every other MOR answer (fields.ts). What is a device's alone:
// the id and the list's type are essential (an answer without them is refused, by the mappers),
// istrunk's 2 (a trunk with ANI), and the codec lists.
import { Type } from 'typebox'
import { Nullable } from '../schemas/nullable.js'
import { isNode, type XmlNode } from '../mor/parse.js'
import { flag, integer, text, textAt, unixTime, type Field } from './fields.js'

/** One device of a list, but its id and type (essential, read by mor/map.ts). */
export const DEVICE_FIELDS = {
  ipAddress: text('ipaddr', 45, { description: 'ipaddr; 0.0.0.0 for a dynamic device that is not registered' }),
  port: integer('port', { maximum: 65535, description: 'port; 0 for a dynamic device' }),
  username: text('username', 80),
  callerId: text('callerid', 255, { examples: ['"Alice" <201>'] }),
  deviceGroupId: integer('devicegroup_id'),
  primary: flag('primary_device', { description: 'primary_device: yes -> true, no -> false' })
} as const satisfies Record<string, Field>

/** A codec name as Asterisk spells it (alaw, ulaw, g729, h264, ...). */
export const CODEC_NAME_PATTERN = '^[A-Za-z0-9_.+-]{1,32}$'
/** More codecs than Asterisk knows: a longer list is cut. */
export const MAX_CODECS = 64

const CODEC_NAME = new RegExp(CODEC_NAME_PATTERN)
const ENABLED = new Set(['1', 'yes', 'true'])
const CodecList = (description: string) =>
  Type.Array(Type.String({ pattern: CODEC_NAME_PATTERN, maxLength: 32 }), { maxItems: MAX_CODECS, uniqueItems: true, description })

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

const CodecsSchema = Nullable(Type.Object({
  audio: CodecList('enabled audio codecs, in MOR\'s order'),
  video: CodecList('enabled video codecs, in MOR\'s order')
}, { additionalProperties: false, description: 'enabled codecs; null when MOR sent no readable <codecs>' }))

const codecs: Field<typeof CodecsSchema> = {
  schema: CodecsSchema,
  read: (node: XmlNode) => {
    const value = node.codecs
    if (value === '') return { audio: [], video: [] } // <codecs/>
    if (!isNode(value)) return null
    return { audio: codecNames(value.audio_codecs), video: codecNames(value.video_codecs) }
  }
}

const istrunk = flag('istrunk', { description: 'istrunk: whether the device is a trunk (with or without ANI)' })
/** MOR's trunk setting: 0 no, 1 yes, 2 yes with ANI. */
const trunk: Field<typeof istrunk.schema> = { schema: istrunk.schema, read: (node) => (textAt(node, 'istrunk') === '2' ? true : istrunk.read(node)) }

/** One device's details, but its id (checked against the one asked for, by mor/map-details.ts). */
export const DETAILS_FIELDS = {
  userId: integer('user_id', { description: 'owner of the device, MOR user_id (old MOR revisions do not send it)' }),
  type: text('device_type', 32, { description: 'device_type as MOR sends it: SIP, IAX2, FAX, Virtual, H323, ZAP, Skype, ...', examples: ['SIP'] }),
  name: text('name', 80, { description: 'the device\'s name in Asterisk (`name`), usually its username' }),
  username: text('username', 80, { description: 'the SIP/IAX2 user name the device registers with' }),
  extension: text('extension', 80, { description: 'the extension that rings the device' }),
  callerId: text('callerid', 255, { description: 'caller id as MOR sends it, e.g. `"Alice" <201>`' }),
  description: text('description', 1024, { description: 'free text from MOR; longer text is cut at 1024 characters', cut: true }),
  host: text('host', 255, { description: '`dynamic` when the device registers, else the address MOR sends calls to' }),
  ipAddress: text('ipaddr', 45, { description: 'ipaddr: the registered or configured address; 0.0.0.0 for a dynamic device that is not registered' }),
  port: integer('port', { maximum: 65535, description: 'port; 0 for a dynamic device that is not registered' }),
  registrationExpires: unixTime('regseconds', {
    description: 'when the current registration expires (regseconds, a Unix time, as an ISO 8601 UTC date-time); null when the device has never registered'
  }),
  fullContact: text('fullcontact', 512, { description: 'the Contact URI of the current registration (fullcontact)' }),
  context: text('context', 80, { description: 'the Asterisk dialplan context of the device\'s calls' }),
  deviceGroupId: integer('devicegroup_id', { description: 'devicegroup_id' }),
  primaryDidId: integer('primary_did_id', { description: 'primary_did_id: the DID shown as the device\'s number (0 when MOR has none set)' }),
  transport: text('transport', 64, { description: 'SIP transports, e.g. `udp` or `udp,tcp`' }),
  nat: text('nat', 64, { description: 'Asterisk nat setting as MOR sends it: yes, no, force_rport, comedia, ...' }),
  qualify: text('qualify', 16, { description: 'Asterisk qualify setting: yes, no, or a timeout in milliseconds' }),
  dtmfMode: text('dtmfmode', 32, { description: 'dtmfmode: rfc2833, inband, info or auto' }),
  callGroup: text('callgroup', 255, { description: 'Asterisk call groups, e.g. `1,3-4`' }),
  pickupGroup: text('pickupgroup', 255, { description: 'Asterisk pickup groups, e.g. `1,3-4`' }),
  voicemailActive: flag('voicemail_active', { description: 'voicemail_active: whether unanswered calls go to voicemail' }),
  record: flag('record', { description: 'whether the device\'s calls are recorded' }),
  trunk,
  videoSupport: flag('videosupport', { description: 'videosupport' }),
  codecs
} as const satisfies Record<string, Field>

/** The MOR elements the details read: a <page> with none of them is not a device's details. */
export const DETAILS_ELEMENTS = [
  'id', 'user_id', 'device_type', 'name', 'username', 'extension', 'callerid', 'description', 'host', 'ipaddr', 'port',
  'regseconds', 'fullcontact', 'context', 'devicegroup_id', 'primary_did_id', 'transport', 'nat', 'qualify', 'dtmfmode',
  'callgroup', 'pickupgroup', 'voicemail_active', 'record', 'istrunk', 'videosupport', 'codecs'
]
