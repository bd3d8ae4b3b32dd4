// A page or filtered view of a cached device list, cut out of the cached bytes with the list's
// index: the devices' JSON is copied as it is, never parsed or serialized again, so a page of 100
// costs about the same whether the user has 100 devices or 50,000.
import type { CacheEntry } from '../cache/entry.js'
import { deviceFilters } from '../devices/device-index.js'
import { cutList, type ItemIndex } from './items.js'
import { viewMemo } from './view-memo.js'
import { filterKey, isWholeList, parseListQuery, type ListQuery } from './list-query.js'

export type PageOutcome =
  | {
    kind: 'page'
    body: Buffer
    /** The strong ETag of this variant (filters, position, limit) of this version of the list. */
    etag: string
    /** Identifies the variant among the entry's, for its compressed copies. */
    variant: string
    /** The cursor of the next page, or null when this page ends the list. */
    next: string | null
  }
  /** The cursor is not one this gateway issued for this user and these filters. */
  | { kind: 'bad-cursor', detail: string }
  /** The cursor belongs to an earlier version of the list. */
  | { kind: 'stale-cursor' }

const NOT_ISSUED = 'Query parameter "cursor" is not a cursor this gateway issued for this user'
const OTHER_FILTERS = 'Query parameter "cursor" was issued with other filters: send the same type and primary as the page it came from'

/** The page a query asks of a cached list (its filters, from its cursor, at most its limit). */
export function pageOf (entry: CacheEntry, items: ItemIndex, userId: number, query: ListQuery): PageOutcome {
  const filter = filterKey(query)
  const cut = cutList(entry.body, entry.etag, items, {
    keep: undefined,
    filters: deviceFilters(query),
    scope: filter,
    limit: query.limit,
    cursor: query.cursor,
    bind: { kind: 'devices', subject: userId, filter }
  })
  if (!('refused' in cut)) return { kind: 'page', ...cut }
  if (cut.refused === 'stale-cursor') return { kind: 'stale-cursor' }
  return { kind: 'bad-cursor', detail: cut.refused === 'other-filters' ? OTHER_FILTERS : NOT_ISSUED }
}

/** What a list request gets from a cached list: the whole body as cached, or a page cut from it. */
export function listView (entry: CacheEntry, userId: number, query: ListQuery): PageOutcome {
  if (isWholeList(query)) return { kind: 'page', body: entry.body, etag: entry.etag, variant: '', next: null }
  // Every list entry is stored with its index (Redis entries without one are misses).
  if (entry.items === undefined) throw new Error('a cached device list has no index')
  return pageOf(entry, entry.items, userId, query)
}

/** A query's page, remembered with the entry it was cut from. */
export interface PageMemo { query: ListQuery, view: Extract<PageOutcome, { kind: 'page' }> }

export type QueryRefusal = { kind: 'bad-query', detail: string } | Exclude<PageOutcome, { kind: 'page' }>

/** Recent pages of each cached list by query string (the same query string gives the same page of the same list). */
const pages = viewMemo<PageMemo>((memo) => memo.view.body.length)

/**
 * The page a raw query string asks of a cached list: from the entry's memo of recent pages, else
 * parsed and cut. A refusal (a bad query or cursor, a stale cursor) is never remembered.
 */
export function pageFor (entry: CacheEntry, userId: number, search: string): { memo: PageMemo } | { refused: QueryRefusal } {
  const known = pages.get(entry, search)
  if (known !== undefined) return { memo: known }
  const parsed = parseListQuery(search)
  if (!parsed.ok) return { refused: { kind: 'bad-query', detail: parsed.detail } }
  const view = listView(entry, userId, parsed.query)
  if (view.kind !== 'page') return { refused: view }
  const memo = { query: parsed.query, view }
  pages.put(entry, search, memo)
  return { memo }
}
