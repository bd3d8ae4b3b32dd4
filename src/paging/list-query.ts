// The query of a device-list request: filters (type, primary) and paging (limit, cursor), each
// checked against the documented schema (schemas/device-list.ts) by the reader every operation's
// query is read with (catalogue/query.ts), in the device list's own words. One parser for the
// route and the hit lane, so both accept and refuse exactly the same requests, and exactly what
// the contract says.
// Values are never echoed back in errors: a mistyped parameter may well hold a credential.
import type { Static } from 'typebox'
import { ListQuerySchema, MAX_LIMIT, MAX_TYPE_LENGTH, MAX_TYPES } from '../schemas/device-list.js'
import { queryReader } from '../catalogue/query.js'

type ListQueryParams = Static<typeof ListQuerySchema>

/** Why a value is refused, in words that never echo it (a mistyped parameter may hold a credential). */
export const LIST_QUERY_REFUSALS: Record<keyof ListQueryParams, string> = {
  type: `Query parameter "type" must be 1 to ${MAX_TYPES} comma-separated device types of letters, digits, _, + or - (at most ${MAX_TYPE_LENGTH} each)`,
  primary: 'Query parameter "primary" must be true or false',
  limit: `Query parameter "limit" must be an integer from 1 to ${MAX_LIMIT}`,
  cursor: 'Query parameter "cursor" is not a cursor this gateway issued'
}

// The catalogue's reader of a query against its schema: one implementation for every operation's query.
const reader = queryReader(ListQuerySchema, LIST_QUERY_REFUSALS)

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

/** The query string after `?` (or '' for none), read as the list's parameters or refused in words. */
export function parseListQuery (search: string): QueryOutcome {
  if (search === '') return { ok: true, query: EMPTY }
  const read = reader.read(search)
  if (!read.ok) return read
  const { type, primary, limit, cursor } = read.values as Partial<Record<'type' | 'limit' | 'cursor', string>> & { primary?: boolean }
  return {
    ok: true,
    query: {
      types: type === undefined ? undefined : [...new Set(type.split(',').map((t) => t.toLowerCase()))].sort(),
      primary,
      limit: limit === undefined ? undefined : Number(limit),
      cursor
    }
  }
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
