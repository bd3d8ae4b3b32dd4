// The MOR API methods the simulator answers, as a table: each method names the one parameter MOR
// hashes for it and where the call statistics count it, so answer() checks GET, login and hash
// once for all of them, in MOR's order, and a method only says what it does with a valid call.
import { signParams } from '../mor/sign.js'
import type { SimDevice, SimOwnedDevice, SimUser } from './data.js'
import type { SimOverlay } from './overlay.js'
import { deviceDetailsXml, devicesXml, errorXml, statusXml, successXml, type ErrorShape } from './xml.js'

/** The parts of a simulator's options its methods read. */
export interface MethodOptions {
  apiUser: string
  secret: string
  password: string | undefined
  allowGet: boolean
  errorShape: ErrorShape
  users: (id: number) => SimUser | undefined
  devices: (id: number) => SimOwnedDevice | undefined
}

/** An instance's data as its methods see it: the lookups with the overlay's writes applied. */
interface SimData {
  /** By id as sent: one that is empty or not a number is a user or device MOR cannot find. */
  user: (id: string) => SimUser | undefined
  device: (id: string) => SimOwnedDevice | undefined
  overlay: SimOverlay
}

/** MOR's answer, or the text of MOR's error, which answer() puts in the configured shape. */
type Outcome = string | { error: string }

export interface ApiMethod {
  /** The parameter MOR hashes: hash = sha1(its value + API secret). */
  hashed: string
  /** Where calls.* counts a call: by the hashed value (a user_id, a device_id), or by method name. */
  tally: 'byUser' | 'byDevice' | 'writes'
  /** MOR's error for an empty hashed parameter, when it checks that before the hash. */
  emptyError?: string
  run: (value: string, params: URLSearchParams, data: SimData) => Outcome
}

const ID = /^[0-9]{1,10}$/
const DEVICE_TYPES = new Set(['SIP', 'IAX2', 'FAX', 'Virtual', 'H323', 'ZAP', 'Skype'])
const DEVICE_NOT_FOUND = { error: 'Device was not found' }

function createDevice (userId: string, params: URLSearchParams, data: SimData): Outcome {
  const user = data.user(userId)
  if (!user) return { error: 'User was not found' }
  const type = params.get('type') || 'SIP'
  if (!DEVICE_TYPES.has(type)) return { error: 'Device_type_invalid' }
  const group = params.get('devicegroup_id') ?? ''
  if (group !== '' && !ID.test(group)) return { error: 'Device_group_invalid' }
  const description = params.get('description') ?? undefined
  const pin = params.get('pin') || undefined
  const created = data.overlay.create(user.id, (id): SimDevice => ({
    device_id: id,
    device_type: type,
    devicegroup_id: group === '' ? (user.devices[0]?.devicegroup_id ?? user.id) : Number(group),
    primary_device: user.devices.length === 0 ? 'yes' : 'no',
    // MOR makes up the extension and password; a new device has not registered yet.
    username: String(id),
    secret: `new-${id}`,
    ipaddr: '0.0.0.0',
    port: 0,
    callerid: '',
    extras: { ...(description !== undefined && { description }), ...(pin !== undefined && { pin }) }
  }))
  return created ? statusXml('Device was created') : { error: 'Device was not created' }
}

function updateDevice (deviceId: string, params: URLSearchParams, data: SimData): Outcome {
  const owned = data.device(deviceId)
  if (!owned) return DEVICE_NOT_FOUND
  // new_location_id is accepted and changes nothing: the simulator has no locations.
  const description = params.get('description')
  if (description !== null) data.overlay.update(owned.device.device_id, { description })
  return successXml('Device successfully updated')
}

function destroyDevice (deviceId: string, _params: URLSearchParams, data: SimData): Outcome {
  const owned = data.device(deviceId)
  if (!owned) return DEVICE_NOT_FOUND
  data.overlay.destroy(owned.device.device_id)
  return statusXml('Device was deleted')
}

const listDevices: ApiMethod = {
  hashed: 'user_id',
  tally: 'byUser',
  emptyError: 'user_id is empty',
  run: (userId, _params, data) => {
    const user = data.user(userId)
    return user ? devicesXml(user.devices) : { error: 'User not found' }
  }
}

export const API_METHODS: ReadonlyMap<string, ApiMethod> = new Map([
  ['devices_get', listDevices],
  ['device_list', listDevices],
  ['device_details_get', {
    hashed: 'device_id',
    tally: 'byDevice',
    run: (deviceId, _params, data) => {
      const owned = data.device(deviceId)
      return owned ? deviceDetailsXml(owned) : DEVICE_NOT_FOUND
    }
  }],
  ['device_create', { hashed: 'user_id', tally: 'writes', run: createDevice }],
  ['device_update', { hashed: 'device', tally: 'writes', run: updateDevice }],
  ['device_destroy', { hashed: 'device', tally: 'writes', run: destroyDevice }]
])

/** The XML MOR sends for a call of `method` with these params (query string and form merged). */
export function answer (method: ApiMethod, params: URLSearchParams, httpMethod: string, options: MethodOptions, overlay: SimOverlay): string {
  const err = (message: string) => errorXml(message, options.errorShape)
  if (httpMethod === 'GET' && !options.allowGet) return err('GET Requests are disabled')
  if (params.get('u') !== options.apiUser || (options.password !== undefined && params.get('p') !== options.password)) return err('Bad login')
  const value = params.get(method.hashed) ?? ''
  if (value === '' && method.emptyError !== undefined) return err(method.emptyError)
  if (params.get('hash') !== signParams([value], options.secret)) return err('Incorrect hash')
  const outcome = method.run(value, params, {
    user: (id) => {
      const user = ID.test(id) ? options.users(Number(id)) : undefined
      return user && overlay.user(user)
    },
    device: (id) => (ID.test(id) ? overlay.device(Number(id), options.devices) : undefined),
    overlay
  })
  return typeof outcome === 'string' ? outcome : err(outcome.error)
}
