// A catalogue list as the cache keeps it: the answer's JSON with the byte offset of each item and
// each item's id, so a page, or the part of a list a scoped caller may read, is cut out of the
// cached bytes (as device pages are, paging/page.ts) instead of parsed and serialized again.
import { decodeCursor, encodeCursor } from '../paging/cursor.js'
import { cutItems, variantEtag } from '../paging/cut.js'

export interface ItemIndex {
  /** Offset of each item's JSON, and one more one past the last as if a comma followed it. */
  starts: Uint32Array
  /** Each item's id (what a page's scope and a cursor's position are about). */
  ids: Uint32Array
}

/** A list answer's JSON text and its index: `{...head, "<key>": [items], "nextCursor": null}`. */
export function serializeList (head: Record<string, unknown>, key: string, items: ReadonlyArray<Record<string, unknown>>, idOf: (item: Record<string, unknown>) => number): { json: string, index: ItemIndex } {
  const headJson = JSON.stringify(head)
  const open = `${headJson.length > 2 ? `${headJson.slice(0, -1)},` : '{'}${JSON.stringify(key)}:[`
  const n = items.length
  const starts = new Uint32Array(n + 1)
  const ids = new Uint32Array(n)
  const parts = new Array<string>(n)
  let offset = Buffer.byteLength(open)
  for (let i = 0; i < n; i++) {
    const item = items[i] as Record<string, unknown>
    const part = JSON.stringify(item)
    parts[i] = part
    starts[i] = offset
    offset += Buffer.byteLength(part) + 1
    ids[i] = idOf(item)
  }
  starts[n] = n === 0 ? Buffer.byteLength(open) : offset
  return { json: `${open}${parts.join(',')}],"nextCursor":null}`, index: { starts, ids } }
}

export const itemIndexBytes = (index: ItemIndex) => index.starts.byteLength + index.ids.byteLength

// Redis keeps the index in the entry's metadata line, as plain arrays.
export interface StoredItems { s: number[], d: number[] }

export const storeItems = (index: ItemIndex): StoredItems => ({ s: Array.from(index.starts), d: Array.from(index.ids) })

/** An index read back, or undefined when it is not one this code wrote or does not fit the body. */
export function loadItems (stored: unknown, bodyLength: number): ItemIndex | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined
  const { s, d } = stored as Partial<StoredItems>
  if (!Array.isArray(s) || !Array.isArray(d) || s.length !== d.length + 1) return undefined
  // Each item's JSON is at least `{}`: every start after the first is past the one before.
  let previous = -1
  for (const start of s) {
    if (!Number.isInteger(start) || start <= previous || start > bodyLength) return undefined
    previous = start
  }
  if (!d.every((id) => Number.isInteger(id) && id >= 0 && id <= 0xffffffff)) return undefined
  return { starts: Uint32Array.from(s), ids: Uint32Array.from(d) }
}

/** The view a request gets of a cached list. */
export interface ListCut { body: Buffer, etag: string, variant: string, next: string | null }

export type CutOutcome = ListCut | { refused: 'bad-cursor' | 'stale-cursor' }

/**
 * The items of a cached list this request gets: those `keep` keeps (a scoped caller's users), from
 * the cursor's position, at most `limit`. The cursor names the resource and the subject it was
 * issued for (`bind`), and the version of the list (its ETag): a cursor of an earlier version is
 * stale. `scope` names what `keep` keeps, for the view's ETag.
 */
export function cutList (
  body: Buffer, etag: string, index: ItemIndex,
  { keep, scope, limit, cursor, bind }: { keep: ((id: number) => boolean) | undefined, scope: string, limit: number | undefined, cursor: string | undefined, bind: { resource: string, subject: number } }
): CutOutcome {
  const version = etag.slice(1, -1)
  const filter = `${bind.resource}|`
  const n = index.ids.length
  let from = 0
  if (cursor !== undefined) {
    const state = decodeCursor(cursor)
    if (state === undefined || state.kind !== 'list' || state.userId !== bind.subject || state.filter !== filter) return { refused: 'bad-cursor' }
    // An earlier version's position may be past this version's end: stale before out of range.
    if (state.version !== version) return { refused: 'stale-cursor' }
    if (state.position > n) return { refused: 'bad-cursor' }
    from = state.position
  }
  const picked: number[] = []
  let next: number | undefined
  for (let i = from; i < n; i++) {
    if (keep !== undefined && !keep(index.ids[i] as number)) continue
    if (limit !== undefined && picked.length === limit) {
      next = i
      break
    }
    picked.push(i)
  }
  const nextCursor = next === undefined ? null : encodeCursor({ kind: 'list', userId: bind.subject, version, position: next, filter })
  const close = Buffer.from(`],"nextCursor":${nextCursor === null ? 'null' : `"${nextCursor}"`}}`)
  const variant = `${scope}|${from}|${limit ?? ''}`
  return { body: cutItems(body, index.starts, picked, close), etag: variantEtag(etag, variant), variant, next: nextCursor }
}
