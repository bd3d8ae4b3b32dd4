// A device list serialized with its index (paging/items.ts): where each device sits, its id, and
// the two columns the list's filters read, its type (lower-cased) and its primary flag. Built
// once, when MOR's answer is serialized (in the worker thread for large users), and kept with the
// cached entry, so a page or a filtered view is cut out of the cached bytes instead of
// re-serializing thousands of devices per request.
import type { Device } from '../schemas/device.js'
import { serializeItems, type ColumnFilters, type IndexedList } from '../paging/items.js'

/** A device's primary flag as its column value. */
const primaryName = (primary: boolean | null) => (primary === null ? '' : String(primary))

/** Serializes devices as a JSON array and indexes it in the same pass, as if the array began `at` bytes into the body. */
export function serializeDevices (devices: readonly Device[], at = 0): IndexedList {
  return serializeItems(devices, (device) => device.id, { type: (device) => device.type.toLowerCase(), primary: (device) => primaryName(device.primary) }, at)
}

/** The column filters of a device list query: its types (lower-cased already) and its primary flag. */
export function deviceFilters ({ types, primary }: { types: readonly string[] | undefined, primary: boolean | undefined }): ColumnFilters | undefined {
  if (types === undefined && primary === undefined) return undefined
  const filters: Record<string, ReadonlySet<string>> = {}
  if (types !== undefined) filters.type = new Set(types)
  if (primary !== undefined) filters.primary = new Set([primaryName(primary)])
  return filters
}
