// The query of an operation (a catalogue entry's, a device list's), read against its documented schema: each parameter is
// checked with a check compiled from its own definition, so what the contract documents is what
// the gateway validates. A parameter the operation does not take, or given twice, is refused;
// a bad value is refused by its name and never echoed (a mistyped parameter may hold a credential).
import { Compile } from 'typebox/compile'
import { Type, type TObject, type TSchema } from 'typebox'
import { CURSOR_PATTERN, LIMIT_PATTERN, MAX_CURSOR_LENGTH, MAX_LIMIT } from '../schemas/device-list.js'

/** What each parameter holds: the text as sent (a boolean parameter as true or false). */
export type QueryValues = Record<string, string | boolean | undefined>

export type QueryOutcome = { ok: true, values: QueryValues } | { ok: false, detail: string }

export interface QueryReader {
  schema: TObject
  read: (search: string) => QueryOutcome
}

const quoted = (name: string) => JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}...` : name)

/** The refusal of a bad value: the parameter's own description says what it takes. */
function refusal (name: string, schema: TSchema): string {
  const { description } = schema as { description?: string }
  return `Query parameter "${name}" has a value it does not take${description === undefined ? '' : `: ${description}`}`
}

/**
 * A reader of query strings for `schema` (a flat object of optional string and boolean
 * parameters). A bad value is refused in the words of `refusals` for its parameter when given,
 * else by the parameter's description.
 */
export function queryReader (schema: TObject, refusals: Readonly<Record<string, string>> = {}): QueryReader {
  const names = Object.keys(schema.properties)
  const checks = new Map(names.map((name) => [name, Compile(schema.properties[name] as TSchema)]))
  const isBoolean = new Set(names.filter((name) => (schema.properties[name] as { type?: string }).type === 'boolean'))
  const required = (schema.required ?? []) as string[]
  // No query: the one answer the hit path sees most, made once.
  const none: QueryOutcome = required.length === 0 ? { ok: true, values: Object.freeze({}) } : { ok: false, detail: `Query parameter "${required[0] ?? ''}" is required` }
  return {
    schema,
    read (search) {
      if (search === '') return none
      const values: QueryValues = {}
      for (const [name, raw] of new URLSearchParams(search)) {
        const check = checks.get(name)
        if (check === undefined) {
          return { ok: false, detail: `Unknown query parameter ${quoted(name)}: this operation takes ${names.length === 0 ? 'none' : names.join(', ')}` }
        }
        if (Object.hasOwn(values, name)) return { ok: false, detail: `Query parameter "${name}" is given more than once` }
        const value = isBoolean.has(name) ? (raw === 'true' ? true : raw === 'false' ? false : raw) : raw
        if (!check.Check(value)) return { ok: false, detail: refusals[name] ?? refusal(name, schema.properties[name] as TSchema) }
        values[name] = value
      }
      // `?&` names no parameter, yet it is a query, which an operation that takes none refuses.
      if (names.length === 0) return { ok: false, detail: 'This operation takes no query parameters' }
      const missing = required.find((name) => values[name] === undefined)
      if (missing !== undefined) return { ok: false, detail: `Query parameter "${missing}" is required` }
      return { ok: true, values }
    }
  }
}

/** The paging parameters every catalogue list takes, as the device lists define them. */
export const PAGING_QUERY = {
  limit: Type.Optional(Type.String({
    pattern: LIMIT_PATTERN,
    maxLength: String(MAX_LIMIT).length,
    description: `page size, 1 to ${MAX_LIMIT} in decimal (no sign or leading zeros); without it the whole list comes in one answer`,
    examples: ['100']
  })),
  cursor: Type.Optional(Type.String({
    pattern: CURSOR_PATTERN,
    minLength: 1,
    maxLength: MAX_CURSOR_LENGTH,
    description: 'the `nextCursor` of the previous page, sent with the same other parameters'
  }))
}
