// Which passthrough calls change devices, and whom they touch: read the way MOR reads them, so a
// write through the legacy API drops exactly the cached answers it makes stale. MOR is a Rails
// application: its method is the path's last word, its parameters are the query string merged
// with any body Rails parses (rails/params.ts), and the target is one parameter per method.
// A write whose target cannot be read is never forwarded (relay.ts): what MOR cannot be seen to
// change, the cache cannot follow.
import type { Subject } from '../cache/devices-cache.js'
import { railsParams, targetId } from '../rails/params.js'

/** MOR's device-changing methods and the parameter naming what each changes. */
const WRITE_TARGETS = {
  device_create: 'user_id',
  device_update: 'device',
  // The current name and the old one MOR keeps for backwards compatibility.
  device_delete: 'device',
  device_destroy: 'device'
} as const
export type WriteMethod = keyof typeof WRITE_TARGETS

/** Write bodies are a short form; past this the gateway refuses them rather than guess their target. */
export const WRITE_BODY_MAX_BYTES = 64 * 1024

/** What a passthrough call is, as far as the cache is concerned. */
export type WriteRequest =
  | { kind: 'write', method: WriteMethod, subject: Subject }
  /** A write method whose target cannot be read: `reason` says why, without echoing values. */
  | { kind: 'unreadable', method: WriteMethod, reason: string }

const isWriteMethod = (name: string): name is WriteMethod => Object.hasOwn(WRITE_TARGETS, name)

/** A path calling one of MOR's write methods; `exact` false when a format or further segments follow. */
export interface WritePath { method: WriteMethod, exact: boolean }

/**
 * The write method a request path (without its query) calls, if any. Rails would also route
 * `device_delete.xml` or `device_delete/5` to the method, with a format or an `:id` beside
 * `params`: such a path is a write too, and one the gateway cannot read (not `exact`).
 */
export function writeMethodOf (apiPrefix: string, route: string): WritePath | undefined {
  if (!route.startsWith(`${apiPrefix}/`)) return undefined
  const rest = route.slice(apiPrefix.length + 1)
  if (isWriteMethod(rest)) return { method: rest, exact: true }
  const end = rest.search(/[./]/)
  const method = end > 0 ? rest.slice(0, end) : ''
  return isWriteMethod(method) ? { method, exact: false } : undefined
}

/** Why a write sent as HEAD, however spelt, is not forwarded. */
export const HEAD_REASON = 'a write sent as HEAD has no answer to confirm it'

/**
 * Whether Rack::MethodOverride may turn this POST into a HEAD: it reads a `_method` form field,
 * then the X-HTTP-Method-Override header. Either one saying HEAD is enough to refuse.
 */
function sentAsHead (httpMethod: string, overrides: unknown[]): boolean {
  if (httpMethod === 'HEAD') return true
  return httpMethod === 'POST' && overrides.some((one) => typeof one === 'string' && one.toUpperCase() === 'HEAD')
}

export interface WriteCall {
  httpMethod: string
  /** The raw query string, without `?`. */
  query: string
  contentType: string | undefined
  /** X-HTTP-Method-Override, which Rack reads on a POST. */
  methodOverride: string | undefined
  /** The whole body, or null when there is none. */
  body: Buffer | null
}

/** railsParams, and whatever a client sends never throws out of it: a body it trips on is unreadable. */
function paramsOf (call: WriteCall): ReturnType<typeof railsParams> {
  try {
    return railsParams(call.query, call.body, call.contentType, call.httpMethod)
  } catch {
    return { ok: false, reason: 'the parameters could not be read' }
  }
}

/** The write a call to one of MOR's write methods makes, or why its target cannot be read. */
export function writeRequestOf ({ method, exact }: WritePath, call: WriteCall): WriteRequest {
  if (!exact) return { kind: 'unreadable', method, reason: 'a write method takes no format or further path segments' }
  const parsed = paramsOf(call)
  if (!parsed.ok) return { kind: 'unreadable', method, reason: parsed.reason }
  // A HEAD (however it is spelt) runs the write in MOR and strips the answer the cache waits for.
  if (sentAsHead(call.httpMethod, [parsed.params._method, call.methodOverride])) return { kind: 'unreadable', method, reason: HEAD_REASON }
  const name = WRITE_TARGETS[method]
  const id = targetId(parsed.params[name])
  if (id === undefined) return { kind: 'unreadable', method, reason: `${name} must be one id: digits only, at most 2147483647` }
  return { kind: 'write', method, subject: method === 'device_create' ? { userId: id } : { deviceId: id } }
}
