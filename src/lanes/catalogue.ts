// The catalogue's resources the hit lane may answer, each described by the functions its route
// uses (routes/catalogue.ts): the same path and id, the same query reader, the same scope
// decision (on the path's user, or on the owner an answer names), the same place in the cache
// and the same view of the entry (catalogue/view.ts). A second path for a caller of one user
// (/v1/me/devices) is the same resource under its own route name, its id the caller's user.
import { mayRead, mayReadDevice } from '../auth/caller.js'
import type { CacheRef, DevicesCache } from '../cache/devices-cache.js'
import { CATALOGUE } from '../catalogue/catalogue.js'
import type { Ask, Resource } from '../catalogue/resource.js'
import { cacheRef, viewOf } from '../catalogue/view.js'
import { pathMatcher } from '../devices/contract.js'
import { MINE, type LaneResource } from './hit-lane.js'

/** The id in a path the resource's route takes (0 for a route without one), or undefined. */
function pathIds (resource: Resource): (path: string) => number | undefined {
  const { path } = resource.route
  return resource.route.idParam === undefined ? (asked) => (asked === path ? 0 : undefined) : pathMatcher(path)
}

/** Queries whose reading each resource remembers: a hit's query is read once, not per request. */
const ASKS_KEPT = 256

/** A request's reading: what it asks, and where its answer is cached. */
interface Read { ask: Ask, ref: CacheRef }

function laneResource (resource: Resource, cache: Pick<DevicesCache, 'peekKeyed'>): LaneResource {
  const idOf = pathIds(resource)
  const hasId = resource.route.idParam !== undefined
  // The same id and query string always read the same (the reader, refuse and key are pure).
  const asks = new Map<string, Read>()
  /** The reading of `ask`, or undefined when the route refuses what it asks. */
  const readingOf = (ask: Ask): Read | undefined => (resource.refuse?.(ask) === undefined ? { ask, ref: cacheRef(resource, ask) } : undefined)
  // The last request's reading: `view` asks again right after `peek`, for the same request.
  let last: { id: number, search: string, read: Read | undefined } = { id: -1, search: '', read: undefined }
  /** What the request asks and where its answer is cached, or undefined for a query the route refuses. */
  const askOf = (id: number, search: string): Read | undefined => {
    if (last.id === id && last.search === search) return last.read
    const read = readAsk(id, search)
    last = { id, search, read }
    return read
  }
  // Without a query (the common case) nothing is worth remembering across ids: read at once.
  const bare = resource.reader.read('')
  const readAsk = (id: number, search: string): Read | undefined => {
    if (search === '') return bare.ok ? readingOf({ id: hasId ? id : undefined, query: bare.values }) : undefined
    const memo = `${id}?${search}`
    const known = asks.get(memo)
    if (known !== undefined) return known
    const query = resource.reader.read(search)
    if (!query.ok) return undefined
    const read = readingOf({ id: hasId ? id : undefined, query: query.values })
    if (read === undefined) return undefined
    asks.set(memo, read)
    if (asks.size > ASKS_KEPT) asks.delete(asks.keys().next().value as string)
    return read
  }
  return {
    route: resource.route.path,
    idOf,
    // A user outside the caller's scope is the route's 403 (an owner named in the answer is decided on the entry).
    mayAsk: (caller, id) => resource.whose !== 'path' || mayRead(caller, id),
    peek (id, search) {
      const read = askOf(id, search)
      return read === undefined ? undefined : cache.peekKeyed(read.ref)
    },
    view (entry, caller, id, path, search) {
      const read = askOf(id, search)
      if (read === undefined || entry.status !== 200) return undefined
      // A device of a user this caller may not read: the route's "not found".
      if (resource.whose === 'answer' && !mayReadDevice(caller, entry.owner ?? null)) return undefined
      const viewed = viewOf(resource, entry, read.ask, caller, path, search)
      // A bad query, a foreign or stale cursor: the route's to refuse.
      return 'refused' in viewed ? undefined : viewed
    }
  }
}

export function catalogueLaneResources (cache: Pick<DevicesCache, 'peekKeyed'>): LaneResource[] {
  return CATALOGUE.flatMap((resource) => {
    const main = laneResource(resource, cache)
    const { mine } = resource.route
    return mine === undefined ? [main] : [main, { ...main, route: mine.path, idOf: (path: string) => (path === mine.path ? MINE : undefined) }]
  })
}
