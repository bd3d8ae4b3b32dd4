// Response descriptions for the OpenAPI contract: what each status carries, with its headers.
// Route schemas use these so the document, the serializer and the tests read one definition.
import { Type, type TSchema } from 'typebox'
import { ProblemRef } from './problem.js'

export const CACHE_HEADERS = {
  ETag: Type.String({ description: 'strong validator of the body; send it back in If-None-Match' }),
  'Cache-Status': Type.String({ description: 'RFC 9211, e.g. `mor-gateway; hit; ttl=42` or `mor-gateway; fwd=miss; stored`' }),
  Age: Type.Integer({ description: 'seconds since the answer was fetched from MOR' }),
  'Cache-Control': Type.String({ description: '`private, max-age=<fresh seconds left>`' }),
  Vary: Type.String({ description: '`Accept-Encoding`' })
}

/** A cached User not found carries no body validator. */
export const NEGATIVE_CACHE_HEADERS: Record<string, TSchema> = Object.fromEntries(Object.entries(CACHE_HEADERS).filter(([name]) => name !== 'ETag'))

export const RETRY_AFTER = {
  'Retry-After': Type.Integer({ description: 'seconds to wait before trying again' })
}

export const RATE_LIMIT_HEADERS = {
  'RateLimit-Limit': Type.Integer({ description: 'requests this key may send per minute' }),
  'RateLimit-Remaining': Type.Integer({ description: 'requests left in this minute' }),
  'RateLimit-Reset': Type.Integer({ description: 'seconds until the window resets' })
}

export const WWW_AUTHENTICATE = {
  'WWW-Authenticate': Type.String({ description: '`Bearer realm="mor-gateway"`' })
}

export function jsonResponse (description: string, schema: TSchema, headers?: Record<string, TSchema>) {
  return { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema } } }
}

export function problemResponse (description: string, headers?: Record<string, TSchema>) {
  return { description, ...(headers ? { headers } : {}), content: { 'application/problem+json': { schema: ProblemRef } } }
}
