// The kinds of value MOR's answers carry, each described once: the JSON schema the contract shows
// and the reader that turns MOR's XML text into that value. A catalogue entry lists its fields
// with these, so its schema and its mapper cannot disagree. Every reader is total: text MOR sends
// that a field does not take (out of range, not a number, too long) reads as null, never as an
// error and never as a value the schema refuses. Every key is always present, null when MOR sends
// nothing (an absent or empty element).
import { Type, type Static, type TObject, type TSchema, type TUnsafe } from 'typebox'
import { Nullable } from '../schemas/nullable.js'
import { MAX_USER_ID } from '../schemas/ids.js'
import { isNode, type XmlNode } from '../mor/parse.js'

/**
 * One JSON field: its schema, and how it is read from the XML element it comes from (an item of a
 * list, or the answer's <page>); `page` is the whole <page>, for what a list states once for all
 * its items (a call list's currency).
 */
export interface Field<S extends TSchema = TSchema> {
  schema: S
  /** The value, of the type the schema says (unknown for a field whose schema is not typed). */
  read: (node: XmlNode, page?: XmlNode) => Static<S>
}

/** The schemas of a set of fields, by name and in their order: the properties of an object schema. */
export function schemasOf<T extends Readonly<Record<string, Field>>> (fields: T): { [K in keyof T]: T[K]['schema'] } {
  return Object.fromEntries(Object.entries(fields).map(([name, field]) => [name, field.schema])) as { [K in keyof T]: T[K]['schema'] }
}

/** A path of element names below the item (or the answer's <page>): `['registration', 'reg_city']`. */
export type Path = string | readonly string[]

/** The element at `path` below `node`, as MOR sent it (text, or a nested node), if present. */
export function at (node: XmlNode, path: Path): unknown {
  const names = typeof path === 'string' ? [path] : path
  let value: unknown = node
  for (const name of names) {
    if (!isNode(value)) return undefined
    value = value[name]
  }
  return value
}

/** The text of a leaf element; undefined for an absent or empty one, or for a nested or repeated one. */
export function textAt (node: XmlNode, path: Path): string | undefined {
  const value = at(node, path)
  return typeof value === 'string' && value !== '' ? value : undefined
}

interface Doc { description?: string, examples?: unknown[] }
const doc = ({ description, examples }: Doc) => ({ ...(description === undefined ? {} : { description }), ...(examples === undefined ? {} : { examples }) })

// JSON Schema's maxLength counts code points; a string has at least as many UTF-16 units.
const fits = (s: string, max: number) => s.length <= max || [...s].length <= max

/** `s` cut to at most `max` code points (never inside a surrogate pair). */
export const clip = (s: string, max: number) => (fits(s, max) ? s : [...s].slice(0, max).join(''))

/**
 * Text as sent (entities decoded), at most `maxLength` characters (code points, as the schema
 * counts them). Longer text reads as null, or with `cut` (free text, where a beginning beats
 * nothing) is cut to the length.
 */
export function text (from: Path, maxLength: number, about: Doc & { cut?: boolean } = {}): Field<TUnsafe<string | null>> {
  return {
    schema: Nullable(Type.String({ maxLength, ...doc(about) })),
    read: (node) => {
      const value = textAt(node, from)
      if (value === undefined) return null
      return fits(value, maxLength) ? value : about.cut === true ? clip(value, maxLength) : null
    }
  }
}

// Decimal digits with an optional minus; leading zeros are MOR's text of a number too (a ZEROFILL
// column), so `007` is 7 rather than no number at all.
const INTEGER = /^-?[0-9]{1,32}$/

/** An integer within [min, max] (MOR's ids by default). */
export function integer (from: Path, about: Doc & { minimum?: number, maximum?: number } = {}): Field<TUnsafe<number | null>> {
  const { minimum = 0, maximum = MAX_USER_ID } = about
  return {
    schema: Nullable(Type.Integer({ format: maximum <= 2_147_483_647 && minimum >= -2_147_483_648 ? 'int32' : 'int64', minimum, maximum, ...doc(about) })),
    read: (node) => {
      const value = textAt(node, from)
      if (value === undefined || !INTEGER.test(value)) return null
      // -0 is 0; past 2^53 a number is no longer the digits MOR sent.
      const number = Number(value) + 0
      return Number.isSafeInteger(number) && number >= minimum && number <= maximum ? number : null
    }
  }
}

const TRUE = new Set(['1', 'yes', 'true'])
const FALSE = new Set(['0', 'no', 'false'])

/** MOR's 0/1 (or yes/no) as a boolean. */
export function flag (from: Path, about: Doc = {}): Field<TUnsafe<boolean | null>> {
  return {
    schema: Nullable(Type.Boolean(doc(about))),
    read: (node) => {
      const value = textAt(node, from)?.toLowerCase()
      return value === undefined ? null : TRUE.has(value) ? true : FALSE.has(value) ? false : null
    }
  }
}

/** A decimal as exact text: MOR's digits, never a binary float. */
export const DECIMAL_PATTERN = '^-?[0-9]{1,20}(\\.[0-9]{1,12})?$'
const DECIMAL = new RegExp(DECIMAL_PATTERN)

export function decimalText (value: string | undefined): string | null {
  return value !== undefined && DECIMAL.test(value) ? value : null
}

export function decimal (from: Path, about: Doc = {}): Field {
  return {
    schema: Nullable(Type.String({ pattern: DECIMAL_PATTERN, maxLength: 34, ...doc(about) })),
    read: (node) => decimalText(textAt(node, from))
  }
}

/** An ISO 4217 code, as MOR names currencies. */
export const CURRENCY_PATTERN = '^[A-Z]{3}$'
const CURRENCY = new RegExp(CURRENCY_PATTERN)
export const currencyText = (value: string | undefined): string | null => (value !== undefined && CURRENCY.test(value) ? value : null)

/** A currency code on its own (a list's currency, stated once). */
export function currency (from: Path, about: Doc = {}): Field {
  return {
    schema: Nullable(Type.String({ pattern: CURRENCY_PATTERN, maxLength: 3, ...doc(about) })),
    read: (node) => currencyText(textAt(node, from))
  }
}

/** An amount of money: the exact decimal and its currency, together, or null when MOR sends no amount. */
export const MoneySchema = Type.Object({
  amount: Type.String({ pattern: DECIMAL_PATTERN, maxLength: 34, description: 'the exact decimal MOR sends, never a float', examples: ['-12.5000'] }),
  currency: Nullable(Type.String({ pattern: CURRENCY_PATTERN, maxLength: 3, description: 'ISO 4217 code; null when MOR does not say', examples: ['EUR'] }))
}, { additionalProperties: false })

/**
 * Money from an amount element and its currency: an element beside it (a path), one the answer's
 * <page> states for every item (`{ page: path }`), or none, when MOR does not name it (`null`).
 */
export function money (amountFrom: Path, currencyFrom: Path | { page: Path } | null, about: Doc = {}): Field {
  const currencyOf = (node: XmlNode, page: XmlNode) =>
    currencyFrom === null ? null : currencyText(typeof currencyFrom === 'object' && 'page' in currencyFrom ? textAt(page, currencyFrom.page) : textAt(node, currencyFrom))
  return {
    schema: Nullable(Type.Object(MoneySchema.properties, { additionalProperties: false, ...doc(about) })),
    read: (node, page = node) => {
      const amount = decimalText(textAt(node, amountFrom))
      return amount === null ? null : { amount, currency: currencyOf(node, page) }
    }
  }
}

/**
 * One of a few words: MOR's spellings (lower-cased) mapped to the API's. `word` takes MOR's text
 * to its spelling first, for values that carry more than the word (`ANSWERED(16)`).
 */
export function choice (from: Path, spellings: Readonly<Record<string, string>>, about: Doc & { word?: (text: string) => string } = {}): Field {
  const values = [...new Set(Object.values(spellings))]
  const { word = (text: string) => text } = about
  return {
    schema: Nullable(Type.String({ enum: values, ...doc(about) })),
    read: (node) => {
      const text = textAt(node, from)
      const spelling = text === undefined ? undefined : word(text).trim().toLowerCase()
      return spelling !== undefined && Object.hasOwn(spellings, spelling) ? spellings[spelling] ?? null : null
    }
  }
}

const MOR_TIME = /^([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2}):([0-9]{2}):([0-9]{2})$/
const MOR_ZONE = /^(?:GMT|UTC)?\s*([+-])([0-9]{1,2}):?([0-5][0-9])$/

/**
 * MOR's local `YYYY-MM-DD HH:MM:SS` and its `GMT +02:00` zone as an RFC 3339 UTC time; without a
 * zone the time is read as UTC. Null for anything else, or a date that does not exist.
 */
export function utcTime (local: string | undefined, zone: string | undefined): string | null {
  const match = local === undefined ? null : MOR_TIME.exec(local)
  if (match === null) return null
  let offsetMinutes = 0
  if (zone !== undefined && zone.trim() !== '' && !/^(GMT|UTC|Z)$/i.test(zone.trim())) {
    const z = MOR_ZONE.exec(zone.trim())
    if (z === null) return null
    offsetMinutes = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]))
    if (Math.abs(offsetMinutes) > 14 * 60) return null
  }
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number]
  const ms = Date.UTC(y, mo - 1, d, h, mi, s)
  const check = new Date(ms)
  // Date.UTC rolls 2026-02-31 over into March: such a date is not one MOR meant.
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null
  const utc = new Date(ms - offsetMinutes * 60_000)
  // A zone can carry the last day of year 9999 past it: no RFC 3339 time.
  if (utc.getUTCFullYear() > 9999 || utc.getUTCFullYear() < 0) return null
  return utc.toISOString().replace('.000Z', 'Z')
}

export function time (from: Path, zoneFrom: Path | undefined, about: Doc = {}): Field {
  return {
    schema: Nullable(Type.String({ format: 'date-time', maxLength: 20, ...doc(about) })),
    read: (node) => {
      if (zoneFrom === undefined) return utcTime(textAt(node, from), undefined)
      // A zone element that is there but not text (repeated, nested) is no zone to read as UTC.
      const zone = at(node, zoneFrom)
      return zone === undefined || typeof zone === 'string' ? utcTime(textAt(node, from), zone === '' ? undefined : zone) : null
    }
  }
}

// 9999-12-31T23:59:59Z: the last instant an ISO 8601 date-time (and the schema's maxLength) holds.
const MAX_UNIX_SECONDS = 253_402_300_799

/** A Unix time in seconds (MOR's regseconds) as an ISO 8601 UTC date-time with milliseconds; 0 (never) and anything else null. */
export function unixTime (from: Path, about: Doc = {}): Field<TUnsafe<string | null>> {
  const seconds = integer(from, { maximum: MAX_UNIX_SECONDS })
  return {
    schema: Nullable(Type.String({ format: 'date-time', maxLength: 24, ...doc(about) })),
    read: (node) => {
      const n = seconds.read(node)
      return n !== null && n > 0 ? new Date(n * 1000).toISOString() : null
    }
  }
}

const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/

/** A calendar date, `YYYY-MM-DD` (MOR's agreement dates), or null. */
export function date (from: Path, about: Doc = {}): Field {
  return {
    schema: Nullable(Type.String({ format: 'date', maxLength: 10, ...doc(about) })),
    read: (node) => {
      const value = textAt(node, from)
      return value !== undefined && DATE.test(value) && utcTime(`${value} 00:00:00`, undefined) !== null ? value : null
    }
  }
}

/** The values a set of fields reads, by name: each its schema's type. */
export type Values<F extends Readonly<Record<string, Field>>> = { -readonly [K in keyof F]: Static<F[K]['schema']> }

/** A JSON object of fields: its schema (every key required, nothing else) and its reader. */
export function object<F extends Readonly<Record<string, Field>>> (fields: F, options: Doc & { $id?: string } = {}): { schema: TObject, read: (node: XmlNode, page?: XmlNode) => Values<F> } {
  const entries = Object.entries(fields)
  return {
    schema: Type.Object(schemasOf(fields), { additionalProperties: false, ...options }),
    read: (node, page = node) => {
      const out: Record<string, unknown> = {}
      for (const [name, field] of entries) out[name] = field.read(node, page)
      // Each field's reader returns its schema's type (Field), so the object is of their values.
      return out as Values<F>
    }
  }
}

/** The same object, read from the element at `path` (an absent one gives every field null). */
export function nested (path: Path, fields: Readonly<Record<string, Field>>, about: Doc = {}): Field {
  const inner = object(fields, about)
  return {
    schema: inner.schema,
    read: (node, page = node) => {
      const value = at(node, path)
      return inner.read(isNode(value) ? value : {}, page)
    }
  }
}
