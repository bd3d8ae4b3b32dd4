// The MOR API methods the simulator answers, as a table: each method names the parameter its call
// is about, the parameters MOR hashes for it in MOR's order, and where the call statistics count
// it, so answer() checks GET, login and hash once for all of them, in MOR's order, and a method
// only says what it does with a valid call.
import { signParams } from '../mor/sign.js'
import type { SimOwnedDevice, SimUser } from './data.js'
import type { SimOverlay } from './overlay.js'
import type { SimParams } from './request.js'
import { createDevice, deleteDevice, updateDevice, type Outcome, type SimData } from './device-writes.js'
import { errorXml, type ErrorShape, type SimRevision } from './xml.js'
import { CATALOGUE } from '../catalogue/catalogue.js'
import { SIM_READS } from './catalogue.js'

/** The parts of a simulator's options its methods read. */
export interface MethodOptions {
  apiUser: string
  secret: string
  password: string | undefined
  allowGet: boolean
  errorShape: ErrorShape
  revision: SimRevision
  devicesWithCalls: ReadonlySet<number>
  users: (id: number) => SimUser | undefined
  devices: (id: number) => SimOwnedDevice | undefined
}

export interface ApiMethod {
  /** The parameter naming what a call is about (a user id, a device id): run() gets its value. */
  subject: string
  /**
   * The parameters MOR hashes, in MOR's order: hash = sha1(their values + API secret). One not
   * sent adds nothing, so MOR's two rules, "those sent" (device_create) and "an absent one counts
   * as empty" (device_update), sign alike.
   */
  hashed: readonly string[]
  /**
   * Where calls.* counts a call: by the subject as sent (a user_id, a device_id), by method name
   * (writes), or by method name and subject (the catalogue's reads).
   */
  tally: 'byUser' | 'byDevice' | 'writes' | 'reads'
  /** MOR's error for an empty subject, when it checks that before the hash. */
  emptyError?: string
  run: (subject: string, params: SimParams, data: SimData) => Outcome
}

const ID = /^[0-9]{1,10}$/
const HASH_LENGTH = 40

/** A method under its name and every old name MOR still answers to. */
const named = (names: { name: string, oldNames: readonly string[] }, method: ApiMethod): Array<[string, ApiMethod]> =>
  [names.name, ...names.oldNames].map((name) => [name, method])

// One action under two names: device_delete (2013 on) and device_destroy, kept for old clients.
const removeDevice: ApiMethod = { subject: 'device', hashed: ['device'], tally: 'writes', run: deleteDevice }

/** The catalogue's read methods, by every name MOR answers to, from their descriptions. */
const catalogueMethods = CATALOGUE.flatMap((resource): Array<[string, ApiMethod]> => {
  const read = SIM_READS[resource.name]
  if (read === undefined) throw new Error(`the simulator has no answer for catalogue resource ${resource.name}`)
  const method: ApiMethod = { subject: resource.mor.subject ?? '', hashed: resource.mor.hashed, tally: read.tally ?? 'reads', run: read.run }
  if (read.emptyError !== undefined) method.emptyError = read.emptyError
  return named(resource.mor, method)
})

export const API_METHODS: ReadonlyMap<string, ApiMethod> = new Map([
  ...catalogueMethods,
  ['device_create', {
    subject: 'user_id',
    hashed: ['user_id', 'description', 'pin', 'type', 'devicegroup_id', 'caller_id'],
    tally: 'writes',
    run: createDevice
  }],
  ['device_update', {
    subject: 'device',
    hashed: ['device', 'authentication', 'username', 'host', 'port'],
    tally: 'writes',
    run: updateDevice
  }],
  ['device_delete', removeDevice],
  ['device_destroy', removeDevice]
])

/** Whether the call carries MOR's hash of its method's parameters: 40 hex digits, no nested value. */
function signed (method: ApiMethod, params: SimParams, secret: string): boolean {
  const hash = params.get('hash')
  if (hash?.length !== HASH_LENGTH || method.hashed.some(params.nested)) return false
  return hash === signParams(method.hashed.map((name) => params.get(name) ?? ''), secret)
}

/**
 * The XML MOR sends for a call of `method` with these params (query string and body merged),
 * made with `httpMethod`: HEAD counts as GET, as Rails runs it as one.
 */
export function answer (method: ApiMethod, params: SimParams, httpMethod: string, options: MethodOptions, overlay: SimOverlay): string {
  const err = (message: string) => errorXml(message, options.errorShape)
  if ((httpMethod === 'GET' || httpMethod === 'HEAD') && !options.allowGet) return err('GET Requests are disabled')
  if (params.get('u') !== options.apiUser || (options.password !== undefined && params.get('p') !== options.password)) return err('Bad login')
  const subject = params.get(method.subject) ?? ''
  if (subject === '' && method.emptyError !== undefined) return err(method.emptyError)
  if (!signed(method, params, options.secret)) return err('Incorrect hash')
  const outcome = method.run(subject, params, {
    user: (id) => {
      const user = ID.test(id) ? options.users(Number(id)) : undefined
      return user && overlay.user(user)
    },
    device: (id) => (ID.test(id) ? overlay.device(Number(id), options.devices) : undefined),
    hasCalls: (deviceId) => options.devicesWithCalls.has(deviceId),
    revision: options.revision,
    overlay
  })
  return typeof outcome === 'string' ? outcome : err(outcome.error)
}
