// OpenAPI 3.1 (JSON Schema 2020-12) spells "X or null" as `type: [X, "null"]`. TypeBox would write
// an anyOf, which Swagger UI and code generators render worse; this keeps the one-schema rule.
import { Type, type Static, type TSchema } from 'typebox'

export function Nullable<T extends TSchema> (schema: T) {
  const { type, ...rest } = schema as unknown as { type: string, enum?: unknown[] }
  // An enum lists every value the schema takes: null too, or a validator refuses it.
  const values = rest.enum === undefined ? {} : { enum: [...rest.enum, null] }
  return Type.Unsafe<Static<T> | null>({ ...rest, ...values, type: [type, 'null'] })
}
