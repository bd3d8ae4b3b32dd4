// The two readings of Content-Type that decide which body Rails parses. Rack (in the
// Rack::MethodOverride middleware every Rails app runs) reads the raw header, and treats a POST
// without one as a form; ActionDispatch strips, downcases and looks the type up in Rails' MIME
// table, and refuses a type that is not a valid MIME name (HTTP 406).
import { fail } from './failure.js'
import { asciiLower, rubyRstrip, rubyStrip } from './text.js'

export const URLENCODED = 'application/x-www-form-urlencoded'
export const MULTIPART_FORM = 'multipart/form-data'
/** Rack's FORM_DATA_MEDIA_TYPES and PARSEABLE_DATA_MEDIA_TYPES: the bodies Rack parses. */
const RACK_PARSED = new Set([URLENCODED, MULTIPART_FORM, 'multipart/related', 'multipart/mixed'])
/** The strings Rails registers for Mime[:json]. */
const JSON_TYPES = new Set(['application/json', 'text/x-json', 'application/jsonrequest'])

const NAME = '[a-zA-Z0-9][a-zA-Z0-9!#$&\\-^_.+]{0,126}'
/** Mime::Type::MIME_REGEXP on what is left once parameters are cut off. */
const VALID_MIME = new RegExp(`^(?:\\*/\\*|${NAME}/(?:\\*|${NAME}))$`)

/** Rack::Request#media_type: null when the header is missing or empty. */
export function rackMediaType (contentType: string | undefined): string | null {
  if (contentType === undefined || contentType === '') return null
  return asciiLower(rubyRstrip(contentType.split(/[;,]/, 1)[0]))
}

/** Whether Rack::Request#POST (as Rack::MethodOverride calls it on a POST) parses the body. */
export const rackParsesBody = (contentType: string | undefined): boolean => {
  const type = rackMediaType(contentType)
  return type === null || RACK_PARSED.has(type)
}

/**
 * ActionDispatch's content_mime_type as a string: undefined without a header, `'json'` for Rails'
 * JSON types; a type Rails cannot look up fails (ActionDispatch::Http::MimeNegotiation::InvalidType).
 */
export function railsMediaType (contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined
  const type = asciiLower(rubyStrip(/^[^,;]*/.exec(contentType)?.[0] ?? ''))
  if (JSON_TYPES.has(type)) return 'json'
  if (!VALID_MIME.test(type)) fail('fatal', 'invalid Content-Type')
  return type
}

/** ActionDispatch's form_data? || parseable_data?. */
export const railsParsesForm = (contentType: string | undefined): boolean => {
  const type = railsMediaType(contentType)
  return type !== undefined && RACK_PARSED.has(type)
}
