// Response descriptions for the OpenAPI contract: what each status carries, with its headers.
// Route schemas use these so the document, the serializer and the tests read one definition; the
// problem responses are in problem-answers.ts.
// Every value states its bounds (maxLength or pattern, integer format and range), as the code that
// writes the header guarantees them.
import { Type, type TSchema } from 'typebox'

/** RFC 9111's cap on Age, and the largest int32. */
const MAX_AGE_SECONDS = 2_147_483_647

/**
 * Node's HTTP parser refuses a request whose request line and headers are over 16 KiB (431) before
 * any route runs, so no path segment or header value the gateway reads, or echoes back, is longer.
 */
export const MAX_HEADER_LENGTH = 16 * 1024

/** Seconds a caller is told to wait: a rate window (at most 60), or the circuit's CIRCUIT_RESET_SECONDS (at most 3600). */
const MAX_RETRY_AFTER_SECONDS = 3600
/** RATE_LIMIT_PER_MINUTE and a key's rate= are at most this. */
const MAX_RATE_PER_MINUTE = 10_000_000
/** The rate window is one minute; a reset is at least 1 s away. */
const RATE_WINDOW_SECONDS = 60

export const CACHE_HEADERS = {
  ETag: Type.String({ pattern: '^"[A-Za-z0-9_-]+"$', maxLength: 64, description: 'strong validator of the body; send it back in If-None-Match' }),
  'Cache-Status': Type.String({
    pattern: '^mor-gateway(; [a-z-]+(=[a-z0-9-]+)?)*$',
    maxLength: 128,
    description: 'RFC 9211, e.g. `mor-gateway; hit; ttl=42` or `mor-gateway; fwd=miss; stored`'
  }),
  Age: Type.Integer({ format: 'int32', minimum: 0, maximum: MAX_AGE_SECONDS, description: 'seconds since the answer was fetched from MOR' }),
  'Cache-Control': Type.String({ pattern: '^private, max-age=[0-9]+$', maxLength: 40, description: '`private, max-age=<fresh seconds left>`' }),
  Vary: Type.String({ enum: ['Accept-Encoding', 'Origin, Accept-Encoding'], description: '`Accept-Encoding` (after `Origin` when CORS_ORIGINS is set)' })
}

/** A cached User not found carries no body validator. */
export const NEGATIVE_CACHE_HEADERS: Record<string, TSchema> = Object.fromEntries(Object.entries(CACHE_HEADERS).filter(([name]) => name !== 'ETag'))

export const RETRY_AFTER = {
  'Retry-After': Type.Integer({ format: 'int32', minimum: 1, maximum: MAX_RETRY_AFTER_SECONDS, description: 'seconds to wait before trying again' })
}

export const RATE_LIMIT_HEADERS = {
  'RateLimit-Limit': Type.Integer({ format: 'int32', minimum: 1, maximum: MAX_RATE_PER_MINUTE, description: 'requests this key may send per minute' }),
  'RateLimit-Remaining': Type.Integer({ format: 'int32', minimum: 0, maximum: MAX_RATE_PER_MINUTE, description: 'requests left in this minute' }),
  'RateLimit-Reset': Type.Integer({ format: 'int32', minimum: 1, maximum: RATE_WINDOW_SECONDS, description: 'seconds until the window resets' })
}

export const WWW_AUTHENTICATE = {
  'WWW-Authenticate': Type.String({
    enum: ['Bearer realm="mor-gateway"', 'Bearer realm="mor-gateway", error="invalid_token"'],
    description: '`Bearer realm="mor-gateway"`, with `error="invalid_token"` when a credential was sent but is not valid'
  })
}

export function jsonResponse (description: string, schema: TSchema, headers?: Record<string, TSchema>) {
  return { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema } } }
}

/** A header as an OpenAPI header object, for an operation written by hand rather than from a route. */
export function openApiHeader (schema: TSchema) {
  const { description, ...rest } = schema as { description?: string }
  return { description, schema: rest }
}
