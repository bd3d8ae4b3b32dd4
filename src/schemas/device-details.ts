// The JSON shape of one device's details (GET /v1/devices/{deviceId}), from MOR's
// device_details_get. Every key is always present, null when MOR sent nothing usable. The bounds
// (maxLength, minimum/maximum, maxItems) are part of the contract, and the mapper
// (mor/map-details.ts) reads them from here, so its output always validates. Credentials stay in
// MOR: no field here carries the device's secret, PIN or any password.
import { Type, type Static } from 'typebox'
import { Nullable } from './nullable.js'
import { MAX_USER_ID } from './device.js'

/** MOR's ids are all INT(11): the same range as user ids. */
const MAX_ID = MAX_USER_ID

const Id = (description: string) => Type.Integer({ format: 'int32', minimum: 0, maximum: MAX_ID, description })
const Text = (maxLength: number, description: string, examples?: string[]) =>
  Nullable(Type.String({ maxLength, description, ...(examples ? { examples } : {}) }))
const Flag = (description: string) => Nullable(Type.Boolean({ description }))

/** A codec name as Asterisk spells it (alaw, ulaw, g729, h264, ...). */
export const CODEC_NAME_PATTERN = '^[A-Za-z0-9_.+-]{1,32}$'
/** More codecs than Asterisk knows: a longer list is cut. */
export const MAX_CODECS = 64
const CodecList = (description: string) =>
  Type.Array(Type.String({ pattern: CODEC_NAME_PATTERN, maxLength: 32 }), { maxItems: MAX_CODECS, uniqueItems: true, description })

export const DeviceDetailsSchema = Type.Object({
  id: Id('MOR device id (`id`; old MOR revisions omit it, and then it is the id that was asked for)'),
  userId: Nullable(Id('owner of the device, MOR user_id (old MOR revisions do not send it)')),
  type: Text(32, 'device_type as MOR sends it: SIP, IAX2, FAX, Virtual, H323, ZAP, Skype, ...', ['SIP']),
  name: Text(80, 'the device\'s name in Asterisk (`name`), usually its username'),
  username: Text(80, 'the SIP/IAX2 user name the device registers with'),
  extension: Text(80, 'the extension that rings the device'),
  callerId: Text(255, 'caller id as MOR sends it, e.g. `"Alice" <201>`'),
  description: Text(1024, 'free text from MOR; longer text is cut at 1024 characters'),
  host: Text(255, '`dynamic` when the device registers, else the address MOR sends calls to'),
  ipAddress: Text(45, 'ipaddr: the registered or configured address; 0.0.0.0 for a dynamic device that is not registered'),
  port: Nullable(Type.Integer({ format: 'int32', minimum: 0, maximum: 65535, description: 'port; 0 for a dynamic device that is not registered' })),
  registrationExpires: Nullable(Type.String({
    format: 'date-time',
    maxLength: 24,
    description: 'when the current registration expires (regseconds, a Unix time, as an ISO 8601 UTC date-time); null when the device has never registered'
  })),
  fullContact: Text(512, 'the Contact URI of the current registration (fullcontact)'),
  context: Text(80, 'the Asterisk dialplan context of the device\'s calls'),
  deviceGroupId: Nullable(Id('devicegroup_id')),
  primaryDidId: Nullable(Id('primary_did_id: the DID shown as the device\'s number (0 when MOR has none set)')),
  transport: Text(64, 'SIP transports, e.g. `udp` or `udp,tcp`'),
  nat: Text(64, 'Asterisk nat setting as MOR sends it: yes, no, force_rport, comedia, ...'),
  qualify: Text(16, 'Asterisk qualify setting: yes, no, or a timeout in milliseconds'),
  dtmfMode: Text(32, 'dtmfmode: rfc2833, inband, info or auto'),
  callGroup: Text(255, 'Asterisk call groups, e.g. `1,3-4`'),
  pickupGroup: Text(255, 'Asterisk pickup groups, e.g. `1,3-4`'),
  voicemailActive: Flag('voicemail_active: whether unanswered calls go to voicemail'),
  record: Flag('whether the device\'s calls are recorded'),
  trunk: Flag('istrunk: whether the device is a trunk (with or without ANI)'),
  videoSupport: Flag('videosupport'),
  codecs: Nullable(Type.Object({
    audio: CodecList('enabled audio codecs, in MOR\'s order'),
    video: CodecList('enabled video codecs, in MOR\'s order')
  }, { additionalProperties: false, description: 'enabled codecs; null when MOR sent no readable <codecs>' }))
}, {
  $id: 'DeviceDetails',
  additionalProperties: false,
  description: 'One MOR device. The device\'s secret, PIN and other credentials are never included.',
  examples: [{
    id: 5,
    userId: 2,
    type: 'SIP',
    name: '201',
    username: '201',
    extension: '201',
    callerId: '"Alice" <201>',
    description: 'Reception desk phone',
    host: 'dynamic',
    ipAddress: '192.0.2.10',
    port: 5060,
    registrationExpires: '2025-01-15T10:30:00.000Z',
    fullContact: 'sip:201@192.0.2.10:5060',
    context: 'mor_local',
    deviceGroupId: 2,
    primaryDidId: 0,
    transport: 'udp',
    nat: 'yes',
    qualify: '1000',
    dtmfMode: 'rfc2833',
    callGroup: '1',
    pickupGroup: '1',
    voicemailActive: true,
    record: false,
    trunk: false,
    videoSupport: false,
    codecs: { audio: ['alaw', 'ulaw', 'g729'], video: [] }
  }]
})
export type DeviceDetails = Static<typeof DeviceDetailsSchema>
