// The query of a device-list request: filters (type, primary) and paging (limit, cursor). One
// parser for the route and the hit lane, so both accept and refuse exactly the same requests.
// Values are never echoed back in errors: a mistyped parameter may well hold a credential.

export const MAX_LIMIT = 1000
/** How many types one request may name, and how long each may be: bounds on a client's input. */
export const MAX_TYPES = 20
export const MAX_TYPE_LENGTH = 32
export const MAX_CURSOR_LENGTH = 512
/** A device type as a filter names it: MOR's are words like SIP, IAX2, FAX, Virtual, H323. */
export const TYPE_PATTERN = /^[A-Za-z0-9_+-]{1,32}$/
const LIMIT_PATTERN = /^[1-9][0-9]{0,3}$/
export const LIST_PARAMS = ['type', 'primary', 'limit', 'cursor'] as const

export interface ListQuery {
  /** Lower-cased, without duplicates, sorted: one spelling per filter. */
  types: string[] | undefined
  primary: boolean | undefined
  limit: number | undefined
  cursor: string | undefined
}

export type QueryOutcome =
  | { ok: true, query: ListQuery }
  | { ok: false, detail: string }

const EMPTY: ListQuery = { types: undefined, primary: undefined, limit: undefined, cursor: undefined }
const quoted = (name: string) => JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}...` : name)

/** The query string after `?` (or '' for none), read as the list's parameters or refused in words. */
export function parseListQuery (search: string): QueryOutcome {
  if (search === '') return { ok: true, query: EMPTY }
  const query: ListQuery = { ...EMPTY }
  const seen = new Set<string>()
  for (const [name, value] of new URLSearchParams(search)) {
    if (!(LIST_PARAMS as readonly string[]).includes(name)) {
      return { ok: false, detail: `Unknown query parameter ${quoted(name)}: this operation takes ${LIST_PARAMS.join(', ')}` }
    }
    if (seen.has(name)) return { ok: false, detail: `Query parameter "${name}" is given more than once` }
    seen.add(name)
    switch (name) {
      case 'type': {
        const types = value.split(',')
        if (types.length > MAX_TYPES || !types.every((type) => TYPE_PATTERN.test(type))) {
          return { ok: false, detail: `Query parameter "type" must be 1 to ${MAX_TYPES} comma-separated device types of letters, digits, _, + or - (at most ${MAX_TYPE_LENGTH} each)` }
        }
        query.types = [...new Set(types.map((type) => type.toLowerCase()))].sort()
        break
      }
      case 'primary':
        if (value !== 'true' && value !== 'false') return { ok: false, detail: 'Query parameter "primary" must be true or false' }
        query.primary = value === 'true'
        break
      case 'limit':
        if (!LIMIT_PATTERN.test(value) || Number(value) > MAX_LIMIT) return { ok: false, detail: `Query parameter "limit" must be an integer from 1 to ${MAX_LIMIT}` }
        query.limit = Number(value)
        break
      case 'cursor':
        if (value === '' || value.length > MAX_CURSOR_LENGTH) return { ok: false, detail: 'Query parameter "cursor" is not a cursor this gateway issued' }
        query.cursor = value
        break
    }
  }
  return { ok: true, query }
}

/** The filters as one canonical string: what a cursor is bound to. */
export function filterKey (query: ListQuery): string {
  return `${query.types?.join(',') ?? ''}|${query.primary ?? ''}`
}

/** True when the query asks for the whole list as it is cached (no filter, no paging). */
export function isWholeList (query: ListQuery): boolean {
  return query.types === undefined && query.primary === undefined && query.limit === undefined && query.cursor === undefined
}

/** The query string of the page after this one: the same filters and limit, the next cursor. */
export function nextPageSearch (query: ListQuery, cursor: string): string {
  const params = new URLSearchParams()
  if (query.types) params.set('type', query.types.join(','))
  if (query.primary !== undefined) params.set('primary', String(query.primary))
  if (query.limit !== undefined) params.set('limit', String(query.limit))
  params.set('cursor', cursor)
  return params.toString()
}
