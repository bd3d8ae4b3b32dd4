// Checking environment variables against a flat TypeBox schema of them: strict string-to-type
// coercion, defaults, and one message per bad variable that names it and never echoes its value
// (it may be a secret).
import { IsOptional, type Static, type TObject, type TSchema } from 'typebox'
import { Value } from 'typebox/value'

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export const configError = (lines: string[]) => new ConfigError(`invalid configuration:\n${lines.join('\n')}`)

/** Strict string-to-type coercion: TypeBox's own Convert would turn PORT=3.5 into 3. */
function coerce (schema: TSchema, raw: string): unknown {
  const type = (schema as { type?: string }).type
  if (type === 'integer') return /^[0-9]+$/.test(raw) ? Number(raw) : raw
  if (type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw
  return raw
}

function describe (schema: TSchema): string {
  const s = schema as { type?: string, minimum?: number, maximum?: number, errorMessage?: string, anyOf?: Array<{ const: string }> }
  if (s.errorMessage) return s.errorMessage
  if (s.type === 'integer') return `must be a whole number from ${s.minimum} to ${s.maximum}`
  if (s.type === 'boolean') return 'must be true or false'
  if (s.anyOf) return `must be one of ${s.anyOf.map((a) => a.const).join(', ')}`
  return 'must not be empty'
}

/** Checks the variables `schema` names: the values (defaults filled in) and a problem per bad variable. */
export function checkEnv<T extends TObject> (schema: T, env: Record<string, string | undefined>): { values: Static<T>, problems: Map<string, string> } {
  const input: Record<string, unknown> = {}
  for (const [name, property] of Object.entries(schema.properties)) {
    const raw = env[name]
    // An empty variable counts as unset, the way shells and .env files usually mean it.
    if (raw !== undefined && raw !== '') input[name] = coerce(property as TSchema, raw.trim())
  }
  const values = Value.Default(schema, input) as Record<string, unknown>
  // Each variable on its own: Value.Errors stops at a few errors, and a bad union value alone
  // makes one per member, which would hide the variables after it.
  const problems = new Map<string, string>()
  const entries = Object.entries(schema.properties) as Array<[string, TSchema]>
  for (const [name, property] of entries) if (values[name] === undefined && !IsOptional(property)) problems.set(name, 'is required')
  for (const [name, property] of entries) {
    if (values[name] !== undefined && !Value.Check(property, values[name])) problems.set(name, describe(property))
  }
  return { values: values as Static<T>, problems }
}

/** Validates the variables `schema` names; throws one ConfigError naming every bad variable. */
export function parseEnv<T extends TObject> (schema: T, env: Record<string, string | undefined>): Static<T> {
  const { values, problems } = checkEnv(schema, env)
  if (problems.size > 0) throw configError([...problems].map(([name, why]) => `  ${name} ${why}`))
  return values
}
