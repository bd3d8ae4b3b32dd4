// The query of a device-list request: filters (type, primary) and paging (limit, cursor), each
// checked against the documented schema (schemas/device-list.ts). One parser for the route and the
// hit lane, so both accept and refuse exactly the same requests, and exactly what the contract says.
// Values are never echoed back in errors: a mistyped parameter may well hold a credential.
import { Compile } from 'typebox/compile'
import type { Static } from 'typebox'
import { ListQuerySchema, MAX_LIMIT, MAX_TYPE_LENGTH, MAX_TYPES } from '../schemas/device-list.js'

type ListQueryParams = Static<typeof ListQuerySchema>

/** The parameters the list takes, as the schema names them. */
export const LIST_PARAMS = Object.keys(ListQuerySchema.properties) as Array<keyof ListQueryParams>

// One compiled check per parameter, from the schema's own definition of it.
const checks = Object.fromEntries(LIST_PARAMS.map((name) => [name, Compile(ListQuerySchema.properties[name])])) as unknown as
  Record<keyof ListQueryParams, { Check: (value: unknown) => boolean }>

/** Why a value is refused, in words that never echo it (a mistyped parameter may hold a credential). */
const REFUSALS: Record<keyof ListQueryParams, string> = {
  type: `Query parameter "type" must be 1 to ${MAX_TYPES} comma-separated device types of letters, digits, _, + or - (at most ${MAX_TYPE_LENGTH} each)`,
  primary: 'Query parameter "primary" must be true or false',
  limit: `Query parameter "limit" must be an integer from 1 to ${MAX_LIMIT}`,
  cursor: 'Query parameter "cursor" is not a cursor this gateway issued'
}

/** A query string's value as the schema types it: `primary` is a boolean, the rest are text. */
const typed = (name: keyof ListQueryParams, value: string): unknown =>
  name !== 'primary' ? value : value === 'true' ? true : value === 'false' ? false : value

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
    if (!(LIST_PARAMS as string[]).includes(name)) {
      return { ok: false, detail: `Unknown query parameter ${quoted(name)}: this operation takes ${LIST_PARAMS.join(', ')}` }
    }
    const param = name as keyof ListQueryParams
    if (seen.has(param)) return { ok: false, detail: `Query parameter "${param}" is given more than once` }
    seen.add(param)
    if (!checks[param].Check(typed(param, value))) return { ok: false, detail: REFUSALS[param] }
    switch (param) {
      case 'type': query.types = [...new Set(value.split(',').map((type) => type.toLowerCase()))].sort(); break
      case 'primary': query.primary = value === 'true'; break
      case 'limit': query.limit = Number(value); break
      case 'cursor': query.cursor = value; break
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
