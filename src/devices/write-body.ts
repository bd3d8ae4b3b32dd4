// The JSON bodies of the device writes, checked against their documented schemas
// (schemas/device-writes.ts) and turned into MOR's parameters. Checked here rather than by the
// framework's validator, whose defaults would drop an unknown field silently and turn "5060" into
// 5060: an unknown or mistyped field is refused, by name. Refusals never echo a value: a body
// carries PINs and passwords.
import { Compile } from 'typebox/compile'
import type { TObject } from 'typebox'
import { DeviceCreateSchema, DevicePatchSchema, TEXT_PATTERN, type DeviceCreate, type DevicePatch } from '../schemas/device-writes.js'
import type { DeviceCreateParam, DeviceUpdateParam } from '../mor/device-writes.js'

export type BodyCheck<T> = { ok: true, value: T } | { ok: false, detail: string }

const quoted = (name: string) => JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}...` : name)

interface Rule { type?: string, anyOf?: Rule[], const?: unknown, minimum?: number, maximum?: number, minLength?: number, maxLength?: number, pattern?: string }

/** What a field's schema takes, in words (never the value that was sent). */
function rule (schema: Rule): string {
  const { anyOf } = schema
  if (anyOf !== undefined) {
    const values = anyOf.filter((s) => s.type !== 'null')
    const nullable = values.length < anyOf.length ? ' or null' : ''
    if (values.every((s) => s.const !== undefined)) return `one of ${values.map((s) => JSON.stringify(s.const)).join(', ')}${nullable}`
    return `${values.map(rule).join(' or ')}${nullable}`
  }
  if (schema.type === 'integer') return `an integer from ${schema.minimum ?? 0} to ${schema.maximum ?? ''}`
  if (schema.type === 'boolean') return 'true or false'
  if (schema.pattern === '^[0-9]*$') return `a string of ${schema.minLength === 0 ? 'up to' : '1 to'} ${schema.maxLength ?? ''} digits`
  const length = `${schema.minLength ?? 0} to ${schema.maxLength ?? ''} characters`
  if (schema.pattern === undefined) return `a string of ${length}`
  return schema.pattern === TEXT_PATTERN ? `a string of ${length} without control characters` : `a string of ${length} in the form the API description gives`
}

/** A checker for one object schema: every field by its own compiled schema, described by its own words. */
function checker<T> (schema: TObject, what: string): (body: unknown) => BodyCheck<T> {
  const names = Object.keys(schema.properties)
  const required = new Set(schema.required ?? [])
  const checks = new Map(names.map((name) => [name, Compile(schema.properties[name] as TObject)]))
  const minProperties = (schema as { minProperties?: number }).minProperties ?? 0
  return (body) => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, detail: `The body must be a JSON object: ${what}` }
    const fields = Object.keys(body)
    for (const name of fields) {
      const check = checks.get(name)
      if (check === undefined) return { ok: false, detail: `Unknown field ${quoted(name)}: this operation takes ${names.join(', ')}` }
      if (!check.Check((body as Record<string, unknown>)[name])) return { ok: false, detail: `Field "${name}" must be ${rule(schema.properties[name] as Rule)}` }
    }
    for (const name of required) if (!fields.includes(name)) return { ok: false, detail: `Field "${name}" is required` }
    if (fields.length < minProperties) return { ok: false, detail: `The body names no field to change: ${what}` }
    return { ok: true, value: body as T }
  }
}

export const checkCreate = checker<DeviceCreate>(DeviceCreateSchema, 'a new device, e.g. {"type": "SIP"}')
export const checkPatch = checker<DevicePatch>(DevicePatchSchema, 'the fields to change, e.g. {"description": "Front desk"}')

type Params<K extends string> = Partial<Record<K, string>>

/** device_create's parameters for a new device. */
export function createParams (body: DeviceCreate): Params<DeviceCreateParam> {
  return {
    type: body.type,
    description: body.description,
    pin: body.pin,
    devicegroup_id: body.deviceGroupId === undefined ? undefined : String(body.deviceGroupId),
    caller_id: body.callerId,
    extension: body.extension
  }
}

const text = (value: string | null | undefined) => (value === null ? '' : value)
const number = (value: number | undefined) => (value === undefined ? undefined : String(value))

/** device_update's parameters for a merge patch: a field left out is not sent; null is sent empty. */
export function updateParams (patch: DevicePatch): Params<DeviceUpdateParam> {
  return {
    // MOR's own spelling: 0 for a device that registers, 1 for one reached by its address.
    authentication: patch.authentication === undefined ? undefined : patch.authentication === 'ip' ? '1' : '0',
    username: patch.username,
    password: patch.password,
    host: patch.host,
    port: number(patch.port),
    description: text(patch.description),
    callerid_number: text(patch.callerIdNumber),
    callerid_name: text(patch.callerIdName),
    call_limit: number(patch.callLimit),
    inbound_call_limit: number(patch.inboundCallLimit),
    extension: patch.extension,
    pin: text(patch.pin),
    hidden: patch.hidden === undefined ? undefined : patch.hidden ? '1' : '0',
    language: patch.language,
    comment: text(patch.comment),
    transport: patch.transport
  }
}

/** A body as one canonical string (fields sorted): two requests that mean the same read the same. */
export function canonicalBody (body: object | undefined): string {
  if (body === undefined) return ''
  return JSON.stringify(Object.fromEntries(Object.entries(body).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))))
}
