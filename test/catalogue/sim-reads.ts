// What the contract tests read about a catalogue resource: the simulator's XML for a subject
// (called directly with the parameters the gateway sends, as its HTTP method would), the committed OpenAPI component as a validator, the
// leaf fields of an answer, and the element paths the resource's readers look at.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import type { TSchema } from 'typebox'
import { DeviceSchema } from '../../src/schemas/device.js'
import { CATALOGUE } from '../../src/catalogue/catalogue.js'
import { findDevice, findUser, SEEDED_USERS } from '../../src/demo/data.js'
import { SIM_READS } from '../../src/demo/catalogue.js'
import { createOverlay } from '../../src/demo/overlay.js'
import type { SimData } from '../../src/demo/device-writes.js'
import type { Ask, Resource } from '../../src/catalogue/resource.js'
import { translateResource } from '../../src/catalogue/translate.js'
import { CONTRACT } from '../helpers/contract.js'

export const MAX_BYTES = 32 * 1024 * 1024
const ID = /^[0-9]{1,10}$/

const simData = (): SimData => ({
  user: (id) => (ID.test(id) ? findUser(Number(id)) : undefined),
  device: (id) => (ID.test(id) ? findDevice(Number(id)) : undefined),
  hasCalls: () => false,
  revision: 'current',
  overlay: createOverlay()
})

/** The subjects a resource is asked about: each seeded user (or each of their devices), or none for a method without one. */
export function subjectsOf (resource: Resource): string[] {
  if (resource.mor.subject === undefined) return ['']
  if (resource.mor.subject === 'device_id') return SEEDED_USERS.flatMap((user) => user.devices.map((device) => String(device.device_id)))
  return SEEDED_USERS.map((user) => String(user.id))
}

/** A query the resource takes: each required parameter's first documented example (a fixed period for calls). */
export function exampleQuery (resource: Resource): Record<string, string> {
  const required = new Set((resource.query.required ?? []) as string[])
  const query: Record<string, string> = {}
  for (const [name, schema] of Object.entries(resource.query.properties)) {
    const example = (schema as { examples?: unknown[] }).examples?.[0]
    if (required.has(name)) query[name] = String(example)
  }
  return query
}

/** What a request about `subject` asks of the resource (its example query). */
export const askFor = (resource: Resource, subject: string): Ask => ({ id: subject === '' ? undefined : Number(subject), query: exampleQuery(resource) })

/** The parameters the gateway sends MOR for `subject` (besides u, p and hash), from the description. */
export const paramsFor = (resource: Resource, subject: string): Record<string, string> =>
  resource.params(askFor(resource, subject), Date.UTC(2026, 11, 10))

/** MOR's answer `body` about `subject` (the last seeded one by default), translated by the resource. */
export const translateFor = (resource: Resource, body: Buffer, encoding?: string, subject = subjectsOf(resource).at(-1) as string) =>
  translateResource(resource, body, encoding, MAX_BYTES, askFor(resource, subject))

/** The simulator's XML answer to the gateway's call of the resource's method about `subject`. */
export function simXml (resource: Resource, subject: string): string {
  const run = SIM_READS[resource.name]?.run
  if (run === undefined) throw new Error(`the simulator has no answer for ${resource.name}`)
  const sent = paramsFor(resource, subject)
  const params = { get: (name: string) => (Object.hasOwn(sent, name) ? sent[name] : undefined), nested: () => false }
  const outcome = run(subject, params, simData())
  if (typeof outcome !== 'string') throw new Error(`the simulator answered ${resource.name} ${subject} with ${outcome.error}`)
  return outcome
}

// As test/helpers/contract.ts does: component references become $id references Ajv resolves.
const ajv = new Ajv2020({ strict: false, allErrors: true })
ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 })
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) })
ajv.addFormat('date-time', /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$/)
ajv.addFormat('date', /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/)
const localRefs = (schema: object) => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"')) as object
for (const [name, schema] of Object.entries(CONTRACT.components.schemas)) ajv.addSchema({ ...localRefs(schema), $id: name })

/** The committed contract's component `name` as a validator, or undefined when the document lacks it. */
export function componentValidator (name: string): ValidateFunction | undefined {
  return CONTRACT.components.schemas[name] === undefined ? undefined : ajv.getSchema(name)
}
export const errorsOf = (validate: ValidateFunction) => ajv.errorsText(validate.errors)

/**
 * Each leaf field of `value` under `schema`, with its path: a group of fields (an object that is
 * never null, like `registration`) is walked into; money (an object or null) is one leaf.
 */
export function leaves (schema: TSchema, value: unknown, path = ''): Array<[string, unknown]> {
  const { type, properties } = schema as { type?: unknown, properties?: Record<string, TSchema> }
  if (type !== 'object' || properties === undefined) return [[path, value]]
  const record = (value ?? {}) as Record<string, unknown>
  return Object.entries(properties).flatMap(([name, property]) => leaves(property, record[name], path === '' ? name : `${path}.${name}`))
}

/** Every element path a reader looks at (`details.main_detail.credit`), found by reading a node that records them. */
export function pathsRead (read: (node: Record<string, unknown>, page: Record<string, unknown>) => unknown): Set<string> {
  const seen = new Set<string>()
  const recorder = (path: string): Record<string, unknown> => new Proxy({}, {
    get: (_target, name) => {
      if (typeof name !== 'string') return undefined
      const full = path === '' ? name : `${path}.${name}`
      seen.add(full)
      return recorder(full)
    }
  })
  // The item and the page are one recorder: a field reading the page's currency is seen too.
  const node = recorder('')
  read(node, node)
  return seen
}

/** A schema as the contract writes it: each reference to a component (`Device#`) as `#/components/schemas/Device`. */
export const contractRefs = (schema: TSchema): unknown =>
  JSON.parse(JSON.stringify(schema), (_key, value: unknown) => {
    const ref = (value as { $ref?: unknown } | null)?.$ref
    return typeof ref === 'string' && ref.endsWith('#') ? { ...(value as object), $ref: `#/components/schemas/${ref.slice(0, -1)}` } : value
  }) as unknown

/** The app's own schemas by $id, for a schema that refers to them (a device list names Device). */
const COMPONENTS = new Map<string, TSchema>([DeviceSchema, ...CATALOGUE.flatMap((resource) => resource.components)].map((schema) => [String((schema as { $id?: string }).$id), schema]))

/** A schema with each reference to one of the app's components replaced by the component, for TypeBox's compiler. */
export const inlineRefs = (schema: TSchema): TSchema =>
  JSON.parse(JSON.stringify(schema), (_key, value: unknown) => {
    const ref = (value as { $ref?: unknown } | null)?.$ref
    if (typeof ref !== 'string' || !ref.endsWith('#')) return value
    const component = COMPONENTS.get(ref.slice(0, -1))
    if (component === undefined) throw new Error(`no component ${ref}`)
    const { $id: _id, ...inlined } = JSON.parse(JSON.stringify(component)) as Record<string, unknown>
    return inlined
  }) as TSchema
