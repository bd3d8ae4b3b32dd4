// Where each device sits in a serialized list, and the two fields filters read. Built once, when
// MOR's answer is serialized (in the worker thread for large users), and kept with the cached
// entry, so a page or a filtered view is cut out of the cached bytes instead of re-serializing
// thousands of devices per request.
import type { Device } from '../schemas/device.js'

export interface DeviceIndex {
  /**
   * Byte offset of each device's JSON, plus one more entry one past the last device as if a comma
   * followed it: device i is bytes [starts[i], starts[i + 1] - 1), and devices i..j-1 are the one
   * contiguous run [starts[i], starts[j] - 1) with their commas.
   */
  starts: Uint32Array
  /** The distinct device types, lower-cased (MOR's types are few: SIP, IAX2, FAX, ...). */
  typeNames: string[]
  /** Each device's type, as a position in typeNames. */
  typeIds: Uint32Array
  /** Each device's primary_device: 1 yes, 0 no, -1 not sent. */
  primary: Int8Array
  /** Each device's id: which devices a list holds, so a write to one finds the lists to drop. */
  ids: Uint32Array
}

/** A device list as JSON text with its index; offsets count bytes from the start of `json`. */
export interface IndexedList { json: string, index: DeviceIndex }

/** Serializes devices as a JSON array and indexes it in the same pass. */
export function serializeDevices (devices: Device[]): IndexedList {
  const n = devices.length
  const starts = new Uint32Array(n + 1)
  const typeIds = new Uint32Array(n)
  const primary = new Int8Array(n)
  const ids = new Uint32Array(n)
  const typeNames: string[] = []
  const typeIdOf = new Map<string, number>()
  const parts: string[] = new Array<string>(n)
  let offset = 1 // after '['
  for (let i = 0; i < n; i++) {
    const device = devices[i] as Device
    const part = JSON.stringify(device)
    parts[i] = part
    starts[i] = offset
    offset += Buffer.byteLength(part) + 1
    const type = device.type.toLowerCase()
    let id = typeIdOf.get(type)
    if (id === undefined) {
      id = typeNames.push(type) - 1
      typeIdOf.set(type, id)
    }
    typeIds[i] = id
    primary[i] = device.primary === null ? -1 : device.primary ? 1 : 0
    ids[i] = device.id
  }
  starts[n] = n === 0 ? 1 : offset
  return { json: `[${parts.join(',')}]`, index: { starts, typeNames, typeIds, primary, ids } }
}

/** The same index for the list placed `by` bytes further into a larger document. */
export function shiftIndex (index: DeviceIndex, by: number): DeviceIndex {
  return { ...index, starts: index.starts.map((start) => start + by) }
}

/** Memory an index holds, for the cache's size accounting. */
export function indexBytes (index: DeviceIndex): number {
  return index.starts.byteLength + index.typeIds.byteLength + index.primary.byteLength + index.ids.byteLength + 64 * index.typeNames.length
}

// Redis keeps the index in the entry's metadata line, as plain arrays.
export interface StoredIndex { s: number[], n: string[], t: number[], p: number[], d: number[] }

export function storeIndex (index: DeviceIndex): StoredIndex {
  return { s: Array.from(index.starts), n: index.typeNames, t: Array.from(index.typeIds), p: Array.from(index.primary), d: Array.from(index.ids) }
}

/** An index read back, or undefined when it is not one this code wrote or does not fit the body. */
export function loadIndex (stored: unknown, bodyLength: number): DeviceIndex | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined
  const { s, n, t, p, d } = stored as Partial<StoredIndex>
  if (!Array.isArray(s) || !Array.isArray(n) || !Array.isArray(t) || !Array.isArray(p) || !Array.isArray(d)) return undefined
  const count = t.length
  if (s.length !== count + 1 || p.length !== count || d.length !== count || !n.every((name) => typeof name === 'string')) return undefined
  let previous = 0
  for (const start of s) {
    if (!Number.isInteger(start) || start < previous || start > bodyLength) return undefined
    previous = start
  }
  if (!t.every((id) => Number.isInteger(id) && id >= 0 && id < n.length)) return undefined
  if (!p.every((v) => v === -1 || v === 0 || v === 1)) return undefined
  if (!d.every((id) => Number.isInteger(id) && id >= 0 && id <= 0xffffffff)) return undefined
  return { starts: Uint32Array.from(s), typeNames: n, typeIds: Uint32Array.from(t), primary: Int8Array.from(p), ids: Uint32Array.from(d) }
}
