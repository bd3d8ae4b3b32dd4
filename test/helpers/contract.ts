// Checks a response against the committed OpenAPI document: its status must be documented for
// the operation, its body must match the documented schema for its content type, and the
// documented headers must be there (unless marked as not always sent), each value within its
// schema. getJson() runs this on every answer of a documented route.
import { readFileSync } from 'node:fs'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsImport from 'ajv-formats'

interface MediaType { schema: object }
interface Header { required?: boolean, schema: { type: string, 'x-optional'?: boolean } }
interface Response { headers?: Record<string, Header>, content?: Record<string, MediaType> }
interface Document {
  paths: Record<string, Record<string, { responses: Record<string, Response> }>>
  components: { schemas: Record<string, object> }
}

export const CONTRACT = JSON.parse(readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8')) as Document

const ajv = new Ajv2020({ strict: false, allErrors: true })
// The contract's string formats (date-time, date, ...) are checked too, not ignored as unknown.
const addFormats = addFormatsImport as unknown as (instance: Ajv2020) => Ajv2020
addFormats(ajv)
ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 })
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) })
// Component references become plain $id references Ajv resolves on its own.
const localRefs = (schema: object) => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"')) as object
for (const [name, schema] of Object.entries(CONTRACT.components.schemas)) ajv.addSchema({ ...localRefs(schema), $id: name })
const validators = new Map<object, ValidateFunction>()
function validatorOf (schema: object): ValidateFunction {
  let validate = validators.get(schema)
  if (!validate) {
    validate = ajv.compile(localRefs(schema))
    validators.set(schema, validate)
  }
  return validate
}

/** The documented path template a concrete path belongs to, if any. */
export function operationPath (path: string): string | undefined {
  return Object.keys(CONTRACT.paths).find((template) =>
    new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path))
}

export function checkContract (method: string, url: string, status: number, headers: Headers, body: unknown): void {
  const path = new URL(url).pathname
  const template = operationPath(path)
  if (!template) return
  const operation = CONTRACT.paths[template]?.[method.toLowerCase()]
  const response = operation?.responses[String(status)]
  const legacy = template.startsWith('/billing/')
  const type = (headers.get('content-type') ?? '').split(';')[0] ?? ''
  // Passthrough answers are MOR's own bytes; only the gateway's problems there are in the contract.
  if (legacy && type !== 'application/problem+json') return
  if (!response) throw new Error(`contract: ${method} ${template} answered ${status}, which is not documented`)
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    const value = headers.get(name)
    if (value === null) {
      // A header the document marks as not always sent (CORS's; Link, only when another page follows) may be absent.
      if (header.required === false || header.schema['x-optional'] === true) continue
      throw new Error(`contract: ${status} answer to ${template} lacks the documented ${name} header`)
    }
    if (header.schema.type === 'integer' && !/^-?[0-9]+$/.test(value)) throw new Error(`contract: header ${name} is not an integer: ${value}`)
    const validateHeader = validatorOf(header.schema)
    if (!validateHeader(header.schema.type === 'integer' ? Number(value) : value)) {
      throw new Error(`contract: header ${name} of the ${status} answer to ${template} does not match: ${value}: ${ajv.errorsText(validateHeader.errors)}`)
    }
  }
  if (!response.content) {
    if (body !== undefined) throw new Error(`contract: ${status} answer to ${template} has a body the contract does not describe`)
    return
  }
  const media = response.content[type]
  if (!media) throw new Error(`contract: ${status} answer to ${template} has content type ${type}, documented: ${Object.keys(response.content).join(', ')}`)
  const validate = validatorOf(media.schema)
  if (!validate(body)) throw new Error(`contract: ${status} body for ${template} does not match: ${ajv.errorsText(validate.errors)}`)
}
