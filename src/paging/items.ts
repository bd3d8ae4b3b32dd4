// A cached list as the cache keeps it: the answer's JSON with the byte offset of each item, each
// item's id, and the columns filters read (a device list's type and primary), so a page, a
// filtered view, or the part of a list a scoped caller may read is cut out of the cached bytes
// instead of parsed and serialized again. Device lists and catalogue lists are both kept and cut
// this way: one index, one serializer, one cut.
import { decodeCursor, encodeCursor, type CursorState } from './cursor.js'
import { cutItems, variantEtag } from './cut.js'

/**
 * A column filters read: each item's value as a position in `names` (few distinct values: device
 * types, a flag), a byte per item while there are at most 256 of them.
 */
export interface Column { names: string[], values: Uint8Array | Uint32Array }

/** Positions in as few bytes as their names allow. */
const compact = (names: readonly string[], values: Uint32Array | number[]): Column['values'] =>
  names.length <= 256 ? Uint8Array.from(values) : Uint32Array.from(values)

export interface ItemIndex {
  /** Offset of each item's JSON, and one more one past the last as if a comma followed it. */
  starts: Uint32Array
  /** Each item's id (what a page's scope and a cursor's position are about, and which lists hold a device). */
  ids: Uint32Array
  /** The columns filters read, by name; none for a list without filters. */
  columns?: Readonly<Record<string, Column>>
}

/** A list's JSON text and its index; offsets count bytes from the start of `json`. */
export interface IndexedList { json: string, index: ItemIndex }

type Item = Record<string, unknown>
/** What a column reads of an item: its value's name (a device's type, lower-cased). */
export type ColumnOf<T> = (item: T) => string

/**
 * Items as a JSON array, indexed in the same pass: offsets from the array's `[`, which sits `at`
 * bytes into the document the array will be placed in.
 */
export function serializeItems<T> (items: readonly T[], idOf: (item: T) => number, columnsOf: Readonly<Record<string, ColumnOf<T>>> = {}, at = 0): IndexedList {
  const n = items.length
  const starts = new Uint32Array(n + 1)
  const ids = new Uint32Array(n)
  const columns = Object.entries(columnsOf).map(([name, read]) => ({ name, read, names: [] as string[], positions: new Map<string, number>(), values: new Uint32Array(n) }))
  const parts = new Array<string>(n)
  let offset = at + 1 // after '['
  for (let i = 0; i < n; i++) {
    const item = items[i] as T
    const part = JSON.stringify(item)
    parts[i] = part
    starts[i] = offset
    offset += Buffer.byteLength(part) + 1
    ids[i] = idOf(item)
    for (const column of columns) {
      const value = column.read(item)
      let position = column.positions.get(value)
      if (position === undefined) {
        position = column.names.push(value) - 1
        column.positions.set(value, position)
      }
      column.values[i] = position
    }
  }
  starts[n] = n === 0 ? at + 1 : offset
  const index: ItemIndex = { starts, ids }
  if (columns.length > 0) index.columns = Object.fromEntries(columns.map(({ name, names, values }) => [name, { names, values: compact(names, values) }]))
  return { json: `[${parts.join(',')}]`, index }
}

/** The same index for the list placed `by` bytes further into a larger document. */
export function shiftItems (index: ItemIndex, by: number): ItemIndex {
  return { ...index, starts: index.starts.map((start) => start + by) }
}

/** A list answer's JSON text and its index: `{...head, "<key>": [items], "nextCursor": null}`. */
export function serializeList (head: Item, key: string, items: readonly Item[], idOf: (item: Item) => number): IndexedList {
  const headJson = JSON.stringify(head)
  const open = `${headJson.length > 2 ? `${headJson.slice(0, -1)},` : '{'}${JSON.stringify(key)}:`
  const { json, index } = serializeItems(items, idOf, {}, Buffer.byteLength(open))
  return { json: `${open}${json},"nextCursor":null}`, index }
}

/** Memory an index holds, for the cache's size accounting. */
export function itemIndexBytes (index: ItemIndex): number {
  let bytes = index.starts.byteLength + index.ids.byteLength
  for (const column of Object.values(index.columns ?? {})) bytes += column.values.byteLength + 64 * column.names.length
  return bytes
}

// Redis keeps the index in the entry's metadata line, as plain arrays.
export interface StoredItems { s: number[], d: number[], c?: Record<string, { n: string[], v: number[] }> }

export function storeItems (index: ItemIndex): StoredItems {
  const stored: StoredItems = { s: Array.from(index.starts), d: Array.from(index.ids) }
  if (index.columns !== undefined) stored.c = Object.fromEntries(Object.entries(index.columns).map(([name, { names, values }]) => [name, { n: names, v: Array.from(values) }]))
  return stored
}

function loadColumn (stored: unknown, count: number): Column | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined
  const { n, v } = stored as { n?: unknown, v?: unknown }
  if (!Array.isArray(n) || !Array.isArray(v) || v.length !== count || !n.every((name) => typeof name === 'string')) return undefined
  if (!v.every((position) => Number.isInteger(position) && position >= 0 && position < n.length)) return undefined
  return { names: n as string[], values: compact(n as string[], v as number[]) }
}

/** An index read back, or undefined when it is not one this code wrote or does not fit the body. */
export function loadItems (stored: unknown, bodyLength: number): ItemIndex | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined
  const { s, d, c } = stored as Partial<StoredItems>
  if (!Array.isArray(s) || !Array.isArray(d) || s.length !== d.length + 1) return undefined
  // Each item's JSON is at least `{}`: every start after the first is past the one before.
  let previous = -1
  for (const start of s) {
    if (!Number.isInteger(start) || start <= previous || start > bodyLength) return undefined
    previous = start
  }
  if (!d.every((id) => Number.isInteger(id) && id >= 0 && id <= 0xffffffff)) return undefined
  const index: ItemIndex = { starts: Uint32Array.from(s), ids: Uint32Array.from(d) }
  if (c === undefined) return index
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return undefined
  const columns: Record<string, Column> = {}
  for (const [name, column] of Object.entries(c)) {
    const loaded = loadColumn(column, d.length)
    if (loaded === undefined) return undefined
    columns[name] = loaded
  }
  index.columns = columns
  return index
}

const CLOSE_NULL = Buffer.from('],"nextCursor":null}')

/** The view a request gets of a cached list. */
export interface ListCut { body: Buffer, etag: string, variant: string, next: string | null }

/**
 * Why a cursor is refused: not one issued for this list (`bad-cursor`), issued for this list with
 * other filters (`other-filters`), or issued for an earlier version of it (`stale-cursor`).
 */
export type CursorRefusal = 'bad-cursor' | 'other-filters' | 'stale-cursor'
export type CutOutcome = ListCut | { refused: CursorRefusal }

/** What a cursor is bound to: the kind of list, its subject (the user), and its filters as one canonical string. */
export type ListBinding = Pick<CursorState, 'kind' | 'filter'> & { subject: number }

/** The items a filter keeps: for each column it names, the values (names) it accepts. */
export type ColumnFilters = Readonly<Record<string, ReadonlySet<string>>>

/** Per filtered column, which of its values are accepted (by position); a column the list lacks accepts nothing. */
function acceptedValues (index: ItemIndex, filters: ColumnFilters | undefined): Array<{ values: Column['values'] | undefined, accepted: Uint8Array }> {
  if (filters === undefined) return []
  return Object.entries(filters).map(([name, wanted]) => {
    const column = index.columns?.[name]
    const accepted = new Uint8Array(column?.names.length ?? 0)
    column?.names.forEach((value, position) => { if (wanted.has(value)) accepted[position] = 1 })
    return { values: column?.values, accepted }
  })
}

type Accepting = ReturnType<typeof acceptedValues>

function acceptsAll (columns: Accepting, i: number): boolean {
  for (const { values, accepted } of columns) if (values === undefined || accepted[values[i] as number] !== 1) return false
  return true
}

/**
 * The items of a cached list this request gets: those `keep` keeps (a scoped caller's users) and
 * the column filters accept (a device type), from the cursor's position, at most `limit`. The
 * cursor names the list it was issued for (`bind`) and the version of the list (its ETag): a
 * cursor of an earlier version is stale. `scope` names what `keep` and the filters keep, for the
 * view's ETag.
 */
export function cutList (
  body: Buffer, etag: string, index: ItemIndex,
  { keep, filters, scope, limit, cursor, bind }: {
    keep: ((id: number) => boolean) | undefined
    filters?: ColumnFilters | undefined
    scope: string
    limit: number | undefined
    cursor: string | undefined
    bind: ListBinding
  }
): CutOutcome {
  const version = etag.slice(1, -1)
  const n = index.ids.length
  let from = 0
  if (cursor !== undefined) {
    const state = decodeCursor(cursor)
    if (state === undefined || state.kind !== bind.kind || state.userId !== bind.subject) return { refused: 'bad-cursor' }
    if (state.filter !== bind.filter) return { refused: 'other-filters' }
    // An earlier version's position may be past this version's end: stale before out of range.
    if (state.version !== version) return { refused: 'stale-cursor' }
    if (state.position > n) return { refused: 'bad-cursor' }
    from = state.position
  }
  const columns = acceptedValues(index, filters)
  const picked: number[] = []
  let next: number | undefined
  for (let i = from; i < n; i++) {
    if (keep !== undefined && !keep(index.ids[i] as number)) continue
    if (columns.length > 0 && !acceptsAll(columns, i)) continue
    if (limit !== undefined && picked.length === limit) {
      next = i
      break
    }
    picked.push(i)
  }
  const nextCursor = next === undefined ? null : encodeCursor({ kind: bind.kind, userId: bind.subject, version, position: next, filter: bind.filter })
  const close = nextCursor === null ? CLOSE_NULL : Buffer.from(`],"nextCursor":"${nextCursor}"}`)
  const variant = `${scope}|${from}|${limit ?? ''}`
  return { body: cutItems(body, index.starts, picked, close), etag: variantEtag(etag, variant), variant, next: nextCursor }
}
