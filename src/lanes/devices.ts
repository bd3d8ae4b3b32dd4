// The devices resources the hit lane may answer, each described by the functions its route uses:
// the same path and id, the same scope decision, the same view of the entry (devices/contract.ts).
import { mayRead, mayReadDevice } from '../auth/caller.js'
import type { DevicesCache } from '../cache/devices-cache.js'
import type { LaneResource } from './hit-lane.js'
import { DEVICE_ROUTE, DEVICES_ROUTE, detailsView, devicePathId, devicesPathId, listView } from '../devices/contract.js'

export function devicesLaneResources (cache: Pick<DevicesCache, 'peek' | 'peekDevice'>): LaneResource[] {
  const list: LaneResource = {
    route: DEVICES_ROUTE,
    idOf: devicesPathId,
    // A user outside the caller's scope is the route's 403.
    mayAsk: mayRead,
    peek: cache.peek,
    view (entry, _caller, userId, path, search) {
      if (entry.status !== 200) return undefined
      const viewed = listView(entry, userId, path, search)
      // A bad query, a foreign or stale cursor: the route's to refuse.
      return 'refused' in viewed ? undefined : viewed
    }
  }
  const details: LaneResource = {
    route: DEVICE_ROUTE,
    idOf: devicePathId,
    // Scope is decided on the entry: a device is read through its owner's.
    mayAsk: () => true,
    peek: cache.peekDevice,
    // The route refuses any query; a device this caller may not read is the route's "not found".
    view: (entry, caller, _deviceId, _path, search) =>
      search === '' && entry.status === 200 && mayReadDevice(caller, entry.owner ?? null) ? detailsView(entry) : undefined
  }
  return [list, details]
}
