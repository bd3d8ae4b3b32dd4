// What the simulator's device writes do with a call that passed MOR's login and hash checks:
// device_create, device_update and device_delete (also called device_destroy), with MOR's checks,
// error texts and answers, applied to the instance's overlay so its later reads show them.
import type { SimDevice, SimOwnedDevice, SimUser } from './data.js'
import type { SimDeviceChanges, SimOverlay } from './overlay.js'
import type { SimParams } from './request.js'
import { deviceCreatedXml, deviceDeletedXml, successXml, type SimRevision } from './xml.js'

/** An instance's data as its methods see it: the lookups with the overlay's writes applied. */
export interface SimData {
  /** By id as sent: one that is empty or not a number is a user or device MOR cannot find. */
  user: (id: string) => SimUser | undefined
  device: (id: string) => SimOwnedDevice | undefined
  /** Whether a device has calls, which makes MOR refuse to delete it. */
  hasCalls: (deviceId: number) => boolean
  revision: SimRevision
  overlay: SimOverlay
}

/** MOR's answer, or the text of MOR's error, which answer() puts in the configured shape. */
export type Outcome = string | { error: string }

const ID = /^[0-9]{1,10}$/
const DIGITS = /^[0-9]+$/
const DEVICE_TYPES = new Set(['SIP', 'IAX2', 'FAX', 'Virtual', 'H323', 'ZAP', 'Skype'])
const DEVICE_NOT_FOUND = { error: 'Device was not found' }

/** A device_create validation error, spelled as the revision spells it (2011: with underscores). */
const invalid = (text: string, revision: SimRevision) => ({ error: revision === '2011' ? text.replaceAll(' ', '_') : text })

export function createDevice (userId: string, params: SimParams, data: SimData): Outcome {
  const user = data.user(userId)
  if (!user) return { error: 'User was not found' }
  const type = params.get('type') || 'SIP'
  if (!DEVICE_TYPES.has(type)) return invalid('Device type invalid', data.revision)
  const group = params.get('devicegroup_id') ?? ''
  if (group !== '' && !ID.test(group)) return invalid('Device group invalid', data.revision)
  // An absent pin leaves MOR to pick one (xml.ts's default); an empty one makes the device pinless.
  const pin = params.get('pin')
  if (pin !== undefined && pin !== '' && !DIGITS.test(pin)) return invalid('Pin must be numeric', data.revision)
  const callerId = params.get('caller_id') ?? ''
  if (callerId !== '' && !DIGITS.test(callerId)) return invalid('CallerID must be numeric', data.revision)
  const description = params.get('description')
  const extension = params.get('extension')
  const created = data.overlay.create(user.id, (id): SimDevice => ({
    device_id: id,
    device_type: type,
    devicegroup_id: group === '' ? (user.devices[0]?.devicegroup_id ?? user.id) : Number(group),
    primary_device: user.devices.length === 0 ? 'yes' : 'no',
    // MOR makes up the username and password; a new device has not registered yet.
    username: String(id),
    secret: `new-${id}`,
    ipaddr: '0.0.0.0',
    port: 0,
    callerid: callerId === '' ? '' : `<${callerId}>`,
    extras: { ...(description !== undefined && { description }), ...(pin !== undefined && { pin }), ...(extension !== undefined && extension !== '' && { extension }) }
  }))
  return created ? deviceCreatedXml(created, data.revision) : { error: 'Device was not created' }
}

/** A caller id `"name" <number>` with either part replaced. */
function callerIdWith (current: string, name: string | undefined, number: string | undefined): string {
  const parts = /^(?:"(.*)"\s*)?<(.*)>$/.exec(current)
  const newName = name ?? parts?.[1] ?? ''
  const newNumber = number ?? parts?.[2] ?? ''
  if (newName === '' && newNumber === '') return ''
  return newName === '' ? `<${newNumber}>` : `"${newName}" <${newNumber}>`
}

/** The documented fields the simulator's data can show; the others (password, language...) change nothing here. */
function changesOf (device: SimDevice, params: SimParams): SimDeviceChanges {
  const value = (name: string) => params.get(name)
  const [username, port, host, description, pin, extension] = [value('username'), value('port'), value('host'), value('description'), value('pin'), value('extension')]
  const [callerName, callerNumber] = [value('callerid_name'), value('callerid_number')]
  return {
    device: {
      ...(username !== undefined && { username }),
      ...(port !== undefined && DIGITS.test(port) && { port: Number(port) }),
      ...((callerName !== undefined || callerNumber !== undefined) && { callerid: callerIdWith(device.callerid ?? '', callerName, callerNumber) })
    },
    extras: {
      ...(description !== undefined && { description }),
      ...(pin !== undefined && { pin }),
      ...(host !== undefined && { host }),
      ...(extension !== undefined && extension !== '' && { extension })
    }
  }
}

export function updateDevice (deviceId: string, params: SimParams, data: SimData): Outcome {
  const owned = data.device(deviceId)
  if (!owned) return DEVICE_NOT_FOUND
  data.overlay.update(owned.device.device_id, changesOf(owned.device, params))
  return successXml('Device successfully updated')
}

export function deleteDevice (deviceId: string, _params: SimParams, data: SimData): Outcome {
  const owned = data.device(deviceId)
  if (!owned) return DEVICE_NOT_FOUND
  // One of the refusals that leave the device in place; the others (forwarded calls, dial plans, queues) read alike.
  if (data.hasCalls(owned.device.device_id)) return { error: 'Cannot delete device - it has calls...' }
  data.overlay.destroy(owned.device.device_id)
  return deviceDeletedXml(data.revision)
}
