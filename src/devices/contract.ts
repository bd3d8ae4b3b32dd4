// The devices resources as the API names them: their route paths, the ids in them, and the view
// of a cached device list a request asks for (the device list entry's `view`,
// catalogue/devices.ts). The route and the hit lane both read requests through here, so the lane
// can never accept a path, an id or a query the route refuses, nor render another view or Link.
import type { CacheEntry } from '../cache/entry.js'
import type { Viewed } from '../cache/answer.js'
import { USER_ID_PATTERN } from '../schemas/device.js'
import { nextPageSearch, type ListQuery } from '../paging/list-query.js'
import { pageFor } from '../paging/page.js'
import type { ViewRefusal } from '../catalogue/resource.js'

export const DEVICES_ROUTE = '/v1/users/:userId/devices'
export const MY_DEVICES_ROUTE = '/v1/me/devices'
export const DEVICE_ROUTE = '/v1/devices/:deviceId'

/** A route template as a matcher of paths: its one `:param` as the ids' pattern, captured. */
export function pathMatcher (route: string): (path: string) => number | undefined {
  const re = new RegExp(`^${route.replace(/:[A-Za-z]+/, `(${USER_ID_PATTERN.slice(1, -1)})`)}$`)
  return (path) => {
    const match = re.exec(path)
    return match === null ? undefined : Number(match[1])
  }
}

/** RFC 8288 Link to the next page, relative to the request's own path. */
export function nextLink (path: string, query: ListQuery, cursor: string): string {
  return `<${path}?${nextPageSearch(query, cursor)}>; rel="next"`
}

const NO_MORE: string[] = []

/**
 * What a list request (`path`, query string `search`) gets of a user's cached list: the whole body
 * as cached, or a page or filtered view cut from it; or why the query is refused.
 */
export function listView (entry: CacheEntry, userId: number, path: string, search: string): Viewed | ViewRefusal {
  if (search === '') return { view: { body: entry.body, etag: entry.etag, variant: '' }, more: NO_MORE }
  const found = pageFor(entry, userId, search)
  if ('refused' in found) return found.refused.kind === 'stale-cursor' ? { refused: 'stale-cursor' } : { refused: 'bad-query', detail: found.refused.detail }
  const { view, query: asked } = found.memo
  return { view, more: view.next === null ? NO_MORE : ['link', nextLink(path, asked, view.next)] }
}
