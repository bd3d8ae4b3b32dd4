// The catalogue's resources the hit lane may answer, each described by the functions its route
// uses (routes/catalogue.ts): the same path and id, the same query reader, the same scope
// decision, the same cache key and the same view of the entry (catalogue/view.ts).
import { mayRead } from '../auth/caller.js'
import type { DevicesCache } from '../cache/devices-cache.js'
import { CATALOGUE } from '../catalogue/catalogue.js'
import type { Ask, Resource } from '../catalogue/resource.js'
import { catalogueView, keyOf } from '../catalogue/view.js'
import { pathMatcher } from '../devices/contract.js'
import type { LaneResource } from './hit-lane.js'

/** The id in a path the resource's route takes (0 for a route without one), or undefined. */
function pathIds (resource: Resource): (path: string) => number | undefined {
  const { path } = resource.route
  return resource.route.idParam === undefined ? (asked) => (asked === path ? 0 : undefined) : pathMatcher(path)
}

function laneResource (resource: Resource, cache: Pick<DevicesCache, 'peekKeyed'>): LaneResource {
  const idOf = pathIds(resource)
  const hasId = resource.route.idParam !== undefined
  /** What the request asks, or undefined for a query the route refuses. */
  const askOf = (id: number, search: string): Ask | undefined => {
    const query = resource.reader.read(search)
    if (!query.ok) return undefined
    const ask = { id: hasId ? id : undefined, query: query.values }
    return resource.refuse?.(ask) === undefined ? ask : undefined
  }
  return {
    route: resource.route.path,
    idOf,
    // A user outside the caller's scope is the route's 403.
    mayAsk: (caller, id) => {
      const user = resource.user({ id: hasId ? id : undefined, query: {} })
      return user === undefined || mayRead(caller, user)
    },
    peek (id, search) {
      const ask = askOf(id, search)
      return ask === undefined ? undefined : cache.peekKeyed(keyOf(resource, ask, Date.now()))
    },
    view (entry, caller, id, path, search) {
      const ask = askOf(id, search)
      if (ask === undefined || entry.status !== 200) return undefined
      const viewed = catalogueView(resource, entry, ask, caller, path)
      // A foreign or stale cursor: the route's to refuse.
      return 'refused' in viewed ? undefined : viewed
    }
  }
}

export function catalogueLaneResources (cache: Pick<DevicesCache, 'peekKeyed'>): LaneResource[] {
  return CATALOGUE.map((resource) => laneResource(resource, cache))
}
