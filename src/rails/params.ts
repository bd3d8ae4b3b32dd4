// How MOR (Rails 6.1 on Rack 2.2) reads a request's parameters, so the gateway can see which device
// or user a passthrough write changes exactly as MOR will. The steps follow Rails' own order:
// Rack::MethodOverride parses a POST body by Rack's rules first (a POST without Content-Type is a
// form), then ActionDispatch reads the body (JSON, or Rack's form and multipart parsers), then the
// query string; the query string wins on a shared top-level key. test/rails/ checks every step
// against the installed Rails.
import { ParamsFailure } from './failure.js'
import { finish } from './finish.js'
import { parseJson } from './json.js'
import { rackParsesBody, railsMediaType, railsParsesForm } from './media-type.js'
import { parseMultipart } from './multipart.js'
import { BYTESIZE_LIMIT, isParams, newParams, parseNestedQuery, type Params } from './query-parser.js'
import type { RailsParams, RailsValue } from './values.js'

export type { RailsParams, RailsValue }
export type ParamsResult = { ok: true, params: RailsParams } | { ok: false, reason: string }

/** MOR's ids are MySQL INTs. */
const MAX_ID = 2147483647
const NO_BODY = Buffer.alloc(0)

/**
 * Rails' `request.parameters` without path parameters: the query string and the body Rails parses
 * (application/x-www-form-urlencoded, multipart/form-data, application/json; whatever Rack/Rails
 * treat as such), merged as ActionDispatch merges them. A request Rails refuses to parse (it would
 * answer 400) gives ok:false with a short reason naming what is wrong (never echoing values).
 *
 * `query` is the raw query string (one character per byte); `body` null means no body at all.
 * Hashes have no prototype. An upload is `{ filename, type }`; a JSON float is the text Ruby
 * prints for it ("5.0"), since a JavaScript number cannot tell 5.0 from 5.
 */
export function railsParams (query: string, body: Buffer | null, contentType: string | undefined, httpMethod: string): ParamsResult {
  try {
    const raw = body ?? NO_BODY
    const early = httpMethod === 'POST' ? methodOverrideForm(raw, body === null ? null : raw.length, contentType) : undefined
    const request = requestParameters(raw, contentType, early)
    const fromQuery = finish(parseNestedQuery(queryBytes(query), '&;'))
    if (request === undefined) return { ok: true, params: fromQuery }
    const params: RailsParams = Object.create(null)
    for (const key in request) params[key] = request[key]
    for (const key in fromQuery) params[key] = fromQuery[key]
    return { ok: true, params }
  } catch (e) {
    if (e instanceof ParamsFailure) return { ok: false, reason: e.message }
    throw e
  }
}

/**
 * The id a write's target parameter names, read as MOR reads it: a JSON integer, or a string of
 * ASCII digits (leading zeros allowed, decimal), from 0 to 2147483647 (MOR's ids are INTs).
 * Anything else (missing, empty, arrays, hashes, floats, booleans, signs, spaces, other digits) is undefined.
 */
export function targetId (value: RailsValue | undefined): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= MAX_ID ? value : undefined
  if (typeof value !== 'string' || !/^[0-9]+$/.test(value)) return undefined
  const digits = value.replace(/^0+(?=.)/, '')
  if (digits.length > 10) return undefined
  const id = Number(digits)
  return id <= MAX_ID ? id : undefined
}

/** Node hands the request target over as latin1 text: one character per byte. */
const queryBytes = (query: string): Buffer =>
  Buffer.from(query, /^[\0-\xFF]*$/.test(query) ? 'latin1' : 'utf8')

/** Rack::Request#POST's body reading: multipart when it has a boundary, else a form. */
function formBody (body: Buffer, length: number | null, contentType: string | undefined): Params {
  const multipart = parseMultipart(body, length, contentType ?? '')
  if (multipart !== null) return multipart
  let form = body.subarray(0, BYTESIZE_LIMIT + 2)
  if (form.at(-1) === 0) form = form.subarray(0, -1) // Rack's fix for Safari's trailing NUL
  return parseNestedQuery(form, '&')
}

/**
 * Rack::MethodOverride looks for `_method` in a POST body with Rack's own rules, and what it parses
 * is what Rails reads later. It swallows parse errors (then Rails parses again, its own way).
 */
function methodOverrideForm (body: Buffer, length: number | null, contentType: string | undefined): Params | undefined {
  if (!rackParsesBody(contentType)) return undefined
  try {
    return formBody(body, length, contentType)
  } catch (e) {
    if (e instanceof ParamsFailure && e.kind !== 'fatal') return undefined
    throw e
  }
}

/** ActionDispatch's request_parameters; undefined for an EOFError, after which Rails keeps only the query. */
function requestParameters (body: Buffer, contentType: string | undefined, early: Params | undefined): RailsParams | undefined {
  try {
    if (body.length > 0 && railsMediaType(contentType) === 'json') {
      const data = parseJson(body)
      if (isParams(data)) return finish(data)
      const wrapped = newParams()
      wrapped.map.set('_json', data)
      return finish(wrapped)
    }
    if (early !== undefined) return finish(early)
    return finish(railsParsesForm(contentType) ? formBody(body, body.length, contentType) : newParams())
  } catch (e) {
    if (e instanceof ParamsFailure && e.kind === 'eof') return undefined
    throw e
  }
}
