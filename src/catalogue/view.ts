// Where a catalogue answer sits in the cache, and what one request gets of it: the whole body as
// cached, or the part of a list its query and the caller's scope ask for (a page, a scoped
// caller's users), with the Link to the next page; or the entry's own view (a device list's
// filters). The route (routes/catalogue.ts) and the hit lane (lanes/catalogue.ts) both call it,
// so they cannot render different views.
import type { CacheEntry } from '../cache/entry.js'
import type { Caller } from '../auth/caller.js'
import { isEveryUser } from '../auth/scope.js'
import type { Viewed } from '../cache/answer.js'
import type { CacheRef } from '../cache/devices-cache.js'
import { createHash } from 'node:crypto'
import { cutList, type ItemIndex } from '../paging/items.js'
import { viewMemo } from '../paging/view-memo.js'
import type { Ask, Resource, ViewRefusal } from './resource.js'

const NO_MORE: string[] = []

/** The cache key of what `ask` asks of `resource`, namespaced by the resource. */
export const keyOf = (resource: Resource, ask: Ask) => `${resource.name}:${resource.key(ask)}`

/** Where the answer to `ask` sits in the cache: under its subject when writes move it, else its key. */
export const cacheRef = (resource: Resource, ask: Ask): CacheRef =>
  (resource.cachedAs === undefined ? { key: keyOf(resource, ask) } : { subject: resource.cachedAs(ask) })

/** The whole cached body, as it is. */
export const wholeView = (entry: CacheEntry): Viewed => ({ view: { body: entry.body, etag: entry.etag, variant: '' }, more: NO_MORE })

/** The view of `entry` this request gets: the entry's own, else the catalogue's (below). */
export function viewOf (resource: Resource, entry: CacheEntry, ask: Ask, caller: Caller | undefined, path: string, search: string): Viewed | ViewRefusal {
  return resource.view === undefined ? catalogueView(resource, entry, ask, caller, path, search) : resource.view(entry, ask, path, search)
}

/**
 * What a cursor is bound to: the resource, and the list the rest of the query asks for (a calls
 * period and its filters): a cursor sent with another period is not one for this list.
 */
function listName (resource: Resource, ask: Ask): string {
  const list = resource.key(ask)
  return `${resource.name}-${createHash('sha256').update(list).digest('hex').slice(0, 12)}`
}

/** The query string of the next page: the same parameters, the next cursor. */
function nextSearch (ask: Ask, cursor: string): string {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(ask.query)) if (value !== undefined && name !== 'cursor') params.set(name, String(value))
  params.set('cursor', cursor)
  return params.toString()
}

const NOT_ISSUED: ViewRefusal = { refused: 'bad-query', detail: 'Query parameter "cursor" is not a cursor this gateway issued for this list' }
/** Recent cuts of each cached list by caller scope and request. */
const cuts = viewMemo<Viewed>((viewed) => viewed.view.body.length)

/**
 * The view of `entry` this request gets: `path` and `search` are the request's (the Link is
 * relative to its path); `ask` is `search` as the resource's reader read it.
 */
function catalogueView (resource: Resource, entry: CacheEntry, ask: Ask, caller: Caller | undefined, path: string, search: string): Viewed | ViewRefusal {
  const whole = wholeView(entry)
  const { list } = resource
  if (list === undefined || entry.items === undefined) return whole
  const scoped = resource.whose === 'items' && caller !== undefined && !isEveryUser(caller.scope)
  const limit = typeof ask.query.limit === 'string' ? Number(ask.query.limit) : undefined
  const cursor = typeof ask.query.cursor === 'string' ? ask.query.cursor : undefined
  if (!scoped && limit === undefined && cursor === undefined) return whole
  const memo = `${scoped ? caller.scope.text : '*'}\n${path}?${search}`
  const known = cuts.get(entry, memo)
  if (known !== undefined) return known
  const viewed = cutView(resource, entry, entry.items, ask, { scoped: scoped ? caller : undefined, limit, cursor, path })
  if (!('refused' in viewed)) cuts.put(entry, memo, viewed)
  return viewed
}

function cutView (
  resource: Resource, entry: CacheEntry, items: ItemIndex, ask: Ask,
  { scoped, limit, cursor, path }: { scoped: Caller | undefined, limit: number | undefined, cursor: string | undefined, path: string }
): Viewed | ViewRefusal {
  const cut = cutList(entry.body, entry.etag, items, {
    keep: scoped === undefined ? undefined : (id) => scoped.scope.has(id),
    scope: scoped === undefined ? '*' : scoped.scope.text,
    limit,
    cursor,
    bind: { kind: 'list', subject: ask.id ?? 0, filter: `${listName(resource, ask)}|` }
  })
  // A cursor for another of this resource's lists (another period) is no cursor for this one.
  if ('refused' in cut) return cut.refused === 'stale-cursor' ? { refused: 'stale-cursor' } : NOT_ISSUED
  const view = { body: cut.body, etag: cut.etag, variant: cut.variant }
  return { view, more: cut.next === null ? NO_MORE : ['link', `<${path}?${nextSearch(ask, cut.next)}>; rel="next"`] }
}
