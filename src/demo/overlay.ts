// What one simulator instance's device writes (device_create, device_update, device_delete)
// changed, laid over the computed data of data.ts (or a test's `users`/`devices` lookups), so later
// devices_get and device_details_get calls of that instance see the change. Each simulator owns
// one overlay: tests start many simulators at once, and none may see another's writes.
import { CREATED_DEVICE_IDS, type SimDevice, type SimDeviceExtras, type SimOwnedDevice, type SimUser } from './data.js'

/** The fields device_update may change that the simulator's data shows. */
export interface SimDeviceChanges {
  device?: Partial<Pick<SimDevice, 'username' | 'port' | 'callerid'>>
  extras?: Pick<SimDeviceExtras, 'description' | 'pin' | 'host' | 'extension'>
}

export interface SimOverlay {
  /**
   * Adds the device `build` makes from a new id to the end of a user's list and returns it, or
   * undefined once the id range is used up (MOR's ids are INTs).
   */
  create: (userId: number, build: (deviceId: number) => SimDevice) => SimDevice | undefined
  update: (deviceId: number, changes: SimDeviceChanges) => void
  destroy: (deviceId: number) => void
  /** A user as the base lookup gives it, with this overlay's writes applied. */
  user: (base: SimUser) => SimUser
  /** A device by id as the base lookup gives it, with this overlay's writes applied. */
  device: (id: number, base: (id: number) => SimOwnedDevice | undefined) => SimOwnedDevice | undefined
}

export function createOverlay (): SimOverlay {
  let nextId = CREATED_DEVICE_IDS.first
  const created = new Map<number, SimOwnedDevice>()
  const createdByUser = new Map<number, SimDevice[]>()
  const deleted = new Set<number>()
  const updated = new Map<number, SimDeviceChanges>()

  const patched = (device: SimDevice): SimDevice => {
    const changes = updated.get(device.device_id)
    return changes ? { ...device, ...changes.device, extras: { ...device.extras, ...changes.extras } } : device
  }

  return {
    create (userId, build) {
      if (nextId > CREATED_DEVICE_IDS.last) return undefined
      const device = build(nextId++)
      created.set(device.device_id, { userId, device })
      createdByUser.set(userId, [...(createdByUser.get(userId) ?? []), device])
      return device
    },
    update (deviceId, changes) {
      const before = updated.get(deviceId)
      updated.set(deviceId, { device: { ...before?.device, ...changes.device }, extras: { ...before?.extras, ...changes.extras } })
    },
    destroy (deviceId) {
      deleted.add(deviceId)
    },
    user (base) {
      const added = createdByUser.get(base.id) ?? []
      // The benchmark's reads of 5,000-device users pass through here: untouched, they cost nothing.
      if (added.length === 0 && deleted.size === 0 && updated.size === 0) return base
      const devices = [...base.devices, ...added].filter((d) => !deleted.has(d.device_id)).map(patched)
      return { ...base, devices }
    },
    device (id, base) {
      if (deleted.has(id)) return undefined
      const owned = created.get(id) ?? base(id)
      return owned && { userId: owned.userId, device: patched(owned.device) }
    }
  }
}
