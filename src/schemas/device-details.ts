// The JSON shape of one device's details (GET /v1/devices/{deviceId}), from MOR's
// device_details_get. Every key is always present, null when MOR sent nothing usable. Each field
// but the id is described once in catalogue/device-fields.ts, with its bounds and the reader
// that keeps within them, and the mapper (mor/map-details.ts) reads with the same descriptions,
// so its output always validates. Credentials stay in MOR: no field here carries the device's
// secret, PIN or any password.
import { Type, type Static } from 'typebox'
import { MAX_USER_ID } from './ids.js'
import { schemasOf } from '../catalogue/fields.js'
import { DETAILS_FIELDS } from '../catalogue/device-fields.js'

export { CODEC_NAME_PATTERN, MAX_CODECS } from '../catalogue/device-fields.js'

export const DeviceDetailsSchema = Type.Object({
  id: Type.Integer({ format: 'int32', minimum: 0, maximum: MAX_USER_ID, description: 'MOR device id (`id`; old MOR revisions omit it, and then it is the id that was asked for)' }),
  ...schemasOf(DETAILS_FIELDS)
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
