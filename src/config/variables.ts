// How ConfigSchema names the environment variables each setting is read from. Every leaf of the
// schema is a codec from an object of the variables it reads (or of a file's content) to its
// setting, so the list of variables, their bounds and defaults, and the type of the decoded
// configuration all come from the one schema, and loading it is: check, place, decode.
import { Type, type StaticDecode, type TCodec, type TObject, type TOptional, type TProperties, type TSchema, type TString, type TUnsafe } from 'typebox'

export const Int = (min: number, max: number, def?: number) =>
  Type.Integer({ minimum: min, maximum: max, ...(def === undefined ? {} : { default: def }) })

/** One of `values`. Typed as their union: TypeBox types a Union built from an array as never. */
export const OneOf = <const V extends readonly string[]>(values: V, options: { default: V[number] }) =>
  Type.Unsafe<V[number]>(Type.Union(values.map((value) => Type.Literal(value)), options))

/** A comma-separated variable's items. */
export const list = (value: string | undefined) => (value ?? '').split(',').map((item) => item.trim()).filter(Boolean)

/** A setting read from variables; `env` marks the leaf for the walkers below. */
export type TVariables<P extends TProperties, Decoded> = TCodec<TObject<P>, Decoded> & { env: 'variables' }
/** A setting read from the file a variable names; the input is the content, read once at load. */
export type TFileContent<Content> = TCodec<TObject<Record<string, TUnsafe<Content>>>, Content> & { env: 'file' }

/** A variable's value: what its schema decodes to, or undefined while an optional one is unset. */
type ValueOf<S extends TSchema> = S extends TOptional<TSchema> ? StaticDecode<S> | undefined : StaticDecode<S>

// Untyped, for the typed builders below: TypeScript cannot index a generic decoded object.
const variablesLeaf = (variables: TProperties, decode: (env: Record<string, unknown>) => unknown) =>
  Type.Decode(Type.Object(variables, { env: 'variables' }), (env) => decode(env as Record<string, unknown>))

/** A setting read from several variables (a rule that spans them, or a setting that is all or none). */
export function Vars<P extends TProperties, Decoded> (variables: P, decode: (env: StaticDecode<TObject<P>>) => Decoded): TVariables<P, Decoded> {
  return variablesLeaf(variables, decode as (env: Record<string, unknown>) => unknown) as unknown as TVariables<P, Decoded>
}

/** A setting read from one variable, as it is or mapped by `decode`. */
export function Var<const N extends string, S extends TSchema, Decoded = ValueOf<S>> (name: N, schema: S, decode?: (value: ValueOf<S>) => Decoded): TVariables<Record<N, S>, Decoded> {
  const read = (env: Record<string, unknown>) => decode === undefined ? env[name] : decode(env[name] as ValueOf<S>)
  return variablesLeaf({ [name]: schema }, read) as unknown as TVariables<Record<N, S>, Decoded>
}

/** A secret, which may also come from the file NAME_FILE names (how Kubernetes and Docker mount secrets). */
export function Secret<const N extends string, S extends TSchema> (name: N, schema: S): TVariables<Record<N, S> & Record<`${N}_FILE`, TOptional<TString>>, ValueOf<S>> {
  const variables = { [name]: schema, [`${name}_FILE`]: Type.Optional(Type.String({ minLength: 1, fileOf: name })) }
  return variablesLeaf(variables, (env) => env[name]) as unknown as TVariables<Record<N, S> & Record<`${N}_FILE`, TOptional<TString>>, ValueOf<S>>
}

/** The content of the file `variable` names (the variable itself is declared by a Var). */
export function FileContent<Content> (variable: string): TFileContent<Content> {
  const content = { [variable]: Type.Unsafe<Content>({}) }
  return Type.Decode(Type.Object(content, { env: 'file' }), (files) => files[variable] as Content) as TFileContent<Content>
}

type Node = TSchema & { env?: 'variables' | 'file', properties?: TProperties }

/** The variables a schema's leaves read, in the schema's order; a variable declared twice is a bug. */
export function variablesOf (schema: TSchema): TProperties {
  const node = schema as Node
  if (node.env === 'variables') return { ...node.properties }
  const out: TProperties = {}
  if (node.env === 'file') return out
  for (const child of Object.values(node.properties ?? {})) {
    for (const [name, variable] of Object.entries(variablesOf(child))) {
      if (name in out) throw new Error(`${name} is declared twice in the configuration schema`)
      out[name] = variable
    }
  }
  return out
}

/** The value `schema` decodes: each leaf gets its variables' checked values, or its file's content. */
export function inputOf (schema: TSchema, values: Record<string, unknown>, contents: Record<string, unknown>): Record<string, unknown> {
  const node = schema as Node
  const names = Object.keys(node.properties ?? {})
  // An unset optional variable stays absent, as it is in the checked values.
  if (node.env === 'variables') return Object.fromEntries(names.filter((name) => name in values).map((name) => [name, values[name]]))
  if (node.env === 'file') return Object.fromEntries(names.map((name) => [name, contents[name]]))
  return Object.fromEntries(names.map((name) => [name, inputOf((node.properties as TProperties)[name] as TSchema, values, contents)]))
}

/** The variables whose value may come from a file instead, as Secret declares them. */
export const fileSecretsOf = (variables: TProperties) =>
  Object.values(variables).flatMap((variable) => {
    const of = (variable as { fileOf?: string }).fileOf
    return of === undefined ? [] : [of]
  })

type Merge<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never

/** variablesOf's result, typed: the properties of every variables leaf, merged. */
export type VariablesOf<T> =
  T extends { env: 'variables' } ? (T extends TObject<infer P> ? P : never)
    : T extends { env: 'file' } ? Record<never, never>
      : T extends TObject<infer P> ? Merge<{ [K in keyof P]: VariablesOf<P[K]> }[keyof P]>
        : Record<never, never>
