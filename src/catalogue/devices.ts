// The device read methods' MOR side, described as the catalogue describes every method: names,
// hash order, the parameter a call is about, MOR's not-found texts and the credentials its answer
// carries. The MOR client signs and reads these calls by them, and the simulator answers them by
// them. Their fields are described in device-fields.ts; their routes and cached lists stay the
// devices' own: a device list's index carries the filter columns and the device-to-owner map that
// writes and the passthrough use (docs/catalogue.md, "What is not on the catalogue yet").
import type { MorMethod } from './resource.js'

export const DEVICES_GET: MorMethod = {
  name: 'devices_get',
  oldNames: ['device_list'],
  hashed: ['user_id'],
  subject: 'user_id',
  notFound: ['User not found'],
  credentials: ['secret']
}

export const DEVICE_DETAILS_GET: MorMethod = {
  name: 'device_details_get',
  oldNames: [],
  hashed: ['device_id'],
  subject: 'device_id',
  notFound: ['Device was not found'],
  credentials: ['secret', 'pin', 'voicemail_password']
}
