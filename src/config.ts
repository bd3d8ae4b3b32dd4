// The one place that reads the environment. It validates every variable against one TypeBox
// schema and fails fast with a message naming each bad variable, so a misconfigured gateway never
// starts half-working.
import { readConfigFile } from './config-file.js'
import { Type, type Static, type TObject, type TSchema } from 'typebox'
import { Value } from 'typebox/value'
import { parseCidr } from './net/cidr.js'
import { parseRedisTarget } from './redis/target.js'
import { readKeyFile, unusableKeys, type KeyFile, type KeySpec } from './auth/api-keys.js'
import { looksLikeJwt, type JwtSettings } from './auth/jwt.js'
import { SAMPLERS, type SamplerName } from './tracing/sampler.js'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const Int = (min: number, max: number, def?: number) =>
  Type.Integer({ minimum: min, maximum: max, ...(def === undefined ? {} : { default: def }) })

// An OTLP endpoint, without user:password@ (fetch refuses such URLs): credentials go in
// OTEL_EXPORTER_OTLP_HEADERS.
const OtlpUrl = () => Type.Optional(Type.String({ pattern: '^https?://[^\\s/?#@]+(/[^\\s?#]*)?$', errorMessage: 'must be an http(s) URL without credentials, query or fragment (credentials go in OTEL_EXPORTER_OTLP_HEADERS)' }))

export const EnvSchema = Type.Object({
  MOR_URL: Type.String({ pattern: '^https?://[^\\s?#]+$', errorMessage: 'must be an http(s) URL without query or fragment' }),
  MOR_API_USER: Type.String({ minLength: 1, description: 'sent as u' }),
  MOR_API_SECRET: Type.String({ minLength: 1, description: 'API secret key; signs every call' }),
  MOR_API_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: 'sent as p when set' })),
  // Files that hold a secret instead of the variable (how Kubernetes and Docker mount secrets).
  MOR_API_SECRET_FILE: Type.Optional(Type.String({ minLength: 1 })),
  MOR_API_PASSWORD_FILE: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_URL_FILE: Type.Optional(Type.String({ minLength: 1 })),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  PORT: Int(0, 65535, 3000),
  UPSTREAM_TIMEOUT_MS: Int(1, 600_000, 10_000),
  UPSTREAM_MAX_BYTES: Int(1024, 1024 ** 3, 32 * 1024 * 1024),
  LOG_LEVEL: Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)), { default: 'info' }),
  LEGACY_PASSTHROUGH: Type.Boolean({ default: true }),
  LEGACY_MAX_BODY_BYTES: Int(0, 1024 ** 3, 10 * 1024 * 1024),
  LEGACY_CONNECTIONS: Int(1, 10_000, 64),
  LEGACY_QUEUE: Int(0, 100_000, 64),
  // Defaults in clientTimeouts: each yields to the other when only the other is set.
  REQUEST_TIMEOUT_MS: Type.Optional(Int(1000, 3_600_000)),
  HEADERS_TIMEOUT_MS: Type.Optional(Int(1000, 3_600_000)),
  GATEWAY_API_KEYS: Type.Optional(Type.String({ minLength: 1 })),
  GATEWAY_API_KEYS_FILE: Type.Optional(Type.String({ minLength: 1 })),
  AUTH_DISABLED: Type.Boolean({ default: false }),
  JWT_JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', errorMessage: 'must be an http(s) URL of a JSON Web Key Set' })),
  JWT_ISSUER: Type.Optional(Type.String({ minLength: 1 })),
  JWT_AUDIENCE: Type.Optional(Type.String({ minLength: 1 })),
  JWT_USER_CLAIM: Type.String({ minLength: 1, maxLength: 200, default: 'mor_user_id' }),
  RATE_LIMIT_PER_MINUTE: Int(1, 10_000_000, 600),
  UPSTREAM_BUDGET_PER_MINUTE: Int(1, 10_000_000, 120),
  CORS_ORIGINS: Type.Optional(Type.String({ pattern: '^https?://[^,\\s]+(\\s*,\\s*https?://[^,\\s]+)*$', errorMessage: 'must be a comma-separated list of http(s) origins' })),
  TRUST_PROXY: Type.String({ default: 'false', pattern: '^(true|false|[0-9]{1,2}|[0-9a-fA-F.:/]+(\\s*,\\s*[0-9a-fA-F.:/]+)*)$', errorMessage: 'must be true, false, a number of proxy hops, or a comma-separated list of proxy addresses/CIDR blocks' }),
  LEGACY_ALLOW_CIDRS: Type.Optional(Type.String({ minLength: 1 })),
  METRICS_PORT: Type.Optional(Int(0, 65535)),
  CIRCUIT_FAILURES: Int(1, 1000, 5),
  CIRCUIT_RESET_SECONDS: Int(1, 3600, 10),
  MAX_EVENT_LOOP_DELAY_MS: Int(10, 60_000, 1000),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^(rediss?|rediss?-sentinel|rediss?-cluster)://', errorMessage: 'must be a redis://, rediss://, redis[s]-sentinel:// or redis[s]-cluster:// URL' })),
  REDIS_TLS_CA_FILE: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_TIMEOUT_MS: Int(10, 10_000, 250),
  CACHE_TTL_SECONDS: Int(0, 7 * 86_400, 60),
  CACHE_STALE_SECONDS: Int(0, 7 * 86_400, 600),
  CACHE_NEGATIVE_TTL_SECONDS: Int(0, 86_400, 10),
  CACHE_MAX_ENTRIES: Int(0, 10_000_000, 10_000),
  CACHE_MAX_BYTES: Int(1024 * 1024, 64 * 1024 ** 3, 256 * 1024 * 1024),
  // 0 would kill the process at once, with no graceful close at all.
  SHUTDOWN_GRACE_MS: Int(100, 600_000, 10_000),
  // Unset: one less than the cores Node sees, which in a container with a CPU limit is the host's.
  TRANSLATE_THREADS: Type.Optional(Int(1, 256)),
  DOCS_ENABLED: Type.Boolean({ default: true }),
  // OpenTelemetry's standard variables (tracing is off unless an OTLP endpoint is set).
  OTEL_SDK_DISABLED: Type.Boolean({ default: false }),
  OTEL_EXPORTER_OTLP_ENDPOINT: OtlpUrl(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: OtlpUrl(),
  OTEL_EXPORTER_OTLP_PROTOCOL: Type.Optional(Type.Literal('http/json', { errorMessage: 'must be http/json (the encoding this gateway sends)' })),
  OTEL_EXPORTER_OTLP_HEADERS: Type.Optional(Type.String({ pattern: '^\\s*[^=,\\s]+\\s*=[^,]*(,\\s*[^=,\\s]+\\s*=[^,]*)*$', errorMessage: 'must be key=value pairs separated by commas' })),
  OTEL_EXPORTER_OTLP_TIMEOUT: Int(1, 600_000, 10_000),
  OTEL_SERVICE_NAME: Type.String({ minLength: 1, maxLength: 200, default: 'mor-gateway' }),
  OTEL_TRACES_SAMPLER: Type.Union(SAMPLERS.map((name) => Type.Literal(name)), { default: 'parentbased_always_on' }),
  OTEL_TRACES_SAMPLER_ARG: Type.String({ pattern: '^(0(\\.[0-9]+)?|1(\\.0+)?)$', default: '1', errorMessage: 'must be a ratio from 0 to 1' }),
  OTEL_BSP_SCHEDULE_DELAY: Int(1, 600_000, 5000)
})
type Env = Static<typeof EnvSchema>

export interface Config {
  mor: {
    /** Base URL without a trailing slash, e.g. http://10.0.0.5/billing */
    baseUrl: string
    user: string
    secret: string
    password: string | undefined
    timeoutMs: number
    maxBytes: number
  }
  cache: {
    ttlSeconds: number
    staleSeconds: number
    negativeTtlSeconds: number
    maxEntries: number
    maxBytes: number
  }
  /** tlsCa: REDIS_TLS_CA_FILE's certificates, read at start. */
  redis: { url: string, timeoutMs: number, tlsCa: Buffer | undefined } | undefined
  legacy: {
    enabled: boolean
    maxBodyBytes: number
    allowCidrs: string[] | undefined
    /** Connections to MOR for the passthrough, and how many calls may wait for one beyond them. */
    connections: number
    queue: number
  }
  /** How long a client may take to send a whole request, and its headers alone. */
  client: { requestTimeoutMs: number, headersTimeoutMs: number }
  auth: {
    keys: string[]
    keysFile: string | undefined
    /** GATEWAY_API_KEYS_FILE's keys as read (and checked) at start. */
    fileKeys: KeySpec[]
    disabled: boolean
    /** Set when JWT_JWKS_URL is. */
    jwt: JwtSettings | undefined
  }
  rateLimit: { perMinute: number, upstreamPerMinute: number }
  corsOrigins: string[]
  /** false, a hop count, or the addresses of trusted proxies (Fastify's trustProxy). */
  trustProxy: false | number | string[]
  metricsPort: number | undefined
  circuit: { failures: number, resetSeconds: number }
  maxEventLoopDelayMs: number
  host: string
  port: number
  logLevel: Env['LOG_LEVEL']
  /** How long SIGTERM waits for requests in flight before the process exits anyway. */
  shutdownGraceMs: number
  /** Worker threads translating large MOR answers; undefined for one less than the cores. */
  translateThreads: number | undefined
  /** Serve /docs and /openapi.json. */
  docsEnabled: boolean
  /** Where spans go over OTLP/HTTP, and which traces are recorded; undefined: none are. */
  tracing: TracingSettings | undefined
}

export interface TracingSettings {
  url: string
  headers: Record<string, string>
  serviceName: string
  sampler: SamplerName
  ratio: number
  delayMs: number
  timeoutMs: number
}

/** OTEL_EXPORTER_OTLP_HEADERS as the spec writes it: key=value pairs, values percent-encoded. */
function otlpHeaders (value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const pair of list(value)) {
    const eq = pair.indexOf('=')
    let decoded = pair.slice(eq + 1).trim()
    try {
      decoded = decodeURIComponent(decoded)
    } catch {}
    headers[pair.slice(0, eq).trim().toLowerCase()] = decoded
  }
  return headers
}

function tracingOf (env: Env): TracingSettings | undefined {
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (env.OTEL_EXPORTER_OTLP_ENDPOINT === undefined ? undefined : `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`)
  if (env.OTEL_SDK_DISABLED || url === undefined) return undefined
  return {
    url,
    headers: otlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS),
    serviceName: env.OTEL_SERVICE_NAME,
    sampler: env.OTEL_TRACES_SAMPLER,
    ratio: Number(env.OTEL_TRACES_SAMPLER_ARG),
    delayMs: env.OTEL_BSP_SCHEDULE_DELAY,
    timeoutMs: env.OTEL_EXPORTER_OTLP_TIMEOUT
  }
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Strict string-to-type coercion: TypeBox's own Convert would turn PORT=3.5 into 3. */
function coerce (schema: TSchema, raw: string): unknown {
  const type = (schema as { type?: string }).type
  if (type === 'integer') return /^[0-9]+$/.test(raw) ? Number(raw) : raw
  if (type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw
  return raw
}

/** Checks the variables `schema` names: the values (defaults filled in) and a problem per bad variable. */
function checkEnv<T extends TObject> (schema: T, env: Record<string, string | undefined>): { values: Static<T>, problems: Map<string, string> } {
  const input: Record<string, unknown> = {}
  for (const [name, property] of Object.entries(schema.properties)) {
    const raw = env[name]
    // An empty variable counts as unset, the way shells and .env files usually mean it.
    if (raw !== undefined && raw !== '') input[name] = coerce(property as TSchema, raw.trim())
  }
  const values = Value.Default(schema, input)
  const problems = new Map<string, string>()
  for (const error of Value.Errors(schema, values)) {
    const missing = (error.params as { requiredProperties?: string[] }).requiredProperties
    if (missing) for (const name of missing) problems.set(name, 'is required')
    else {
      const name = error.instancePath.slice(1)
      // Never echo the value: it may be a secret.
      if (!problems.has(name)) problems.set(name, describe(schema.properties[name] as TSchema))
    }
  }
  return { values: values as Static<T>, problems }
}

const configError = (lines: string[]) => new ConfigError(`invalid configuration:\n${lines.join('\n')}`)

/** Validates the variables `schema` names; throws one ConfigError naming every bad variable. */
export function parseEnv<T extends TObject> (schema: T, env: Record<string, string | undefined>): Static<T> {
  const { values, problems } = checkEnv(schema, env)
  if (problems.size > 0) throw configError([...problems].map(([name, why]) => `  ${name} ${why}`))
  return values
}

/** Secrets that may come from a file: X_FILE names the file whose content is X. */
export const FILE_SECRETS = ['MOR_API_SECRET', 'MOR_API_PASSWORD', 'REDIS_URL'] as const

const isSet = (value: string | undefined) => value !== undefined && value !== ''

/**
 * The environment with each X_FILE's content as X (read once, the trailing newline dropped), the
 * names so read, and a problem per file that cannot stand in for its variable.
 */
function withSecretFiles (env: Record<string, string | undefined>): { env: Record<string, string | undefined>, read: Set<string>, problems: Map<string, string> } {
  const out = { ...env }
  const read = new Set<string>()
  const problems = new Map<string, string>()
  for (const name of FILE_SECRETS) {
    const path = env[`${name}_FILE`]
    if (!isSet(path)) continue
    if (isSet(env[name])) {
      problems.set(name, `  ${name} and ${name}_FILE are both set: set only one`)
      continue
    }
    const file = readConfigFile(path as string)
    const text = file.content?.toString('utf8').replace(/\r?\n$/, '')
    if (text === undefined) problems.set(name, `  ${name}_FILE ${file.problem}`)
    else if (text.trim() === '') problems.set(name, `  ${name}_FILE is an empty file`)
    else {
      out[name] = text
      read.add(name)
    }
  }
  return { env: out, read, problems }
}

/** The gateway's configuration; every problem, of any variable, in one ConfigError. */
export function loadConfig (rawEnv: Record<string, string | undefined>): Config {
  const files = withSecretFiles(rawEnv)
  const { values, problems } = checkEnv(EnvSchema, files.env)
  // A file's problem is the one to fix (its variable then reads as missing); a bad value read
  // from a file names the file it came from. Neither echoes the value.
  const lines = [...files.problems.values()]
  for (const [name, why] of problems) {
    if (files.problems.has(name)) continue
    lines.push(files.read.has(name) ? `  ${name} (read from ${name}_FILE) ${why}` : `  ${name} ${why}`)
  }
  // Read once, here: the file's problems are configuration problems like any other.
  const keyFile: KeyFile = values.GATEWAY_API_KEYS_FILE === undefined ? { keys: [], problem: undefined } : readKeyFile(values.GATEWAY_API_KEYS_FILE)
  const ca = values.REDIS_TLS_CA_FILE === undefined ? { pem: undefined } : readCaFile(values.REDIS_TLS_CA_FILE)
  if (ca.problem !== undefined) lines.push(`  REDIS_TLS_CA_FILE ${ca.problem}`)
  // Rules across variables are checked on the variables that passed on their own.
  for (const line of checkCombinations(values, new Set([...problems.keys(), ...files.problems.keys()]), keyFile)) if (!lines.includes(line)) lines.push(line)
  if (lines.length > 0) throw configError(lines)
  return toConfig(values, keyFile.keys, ca.pem)
}

function describe (schema: TSchema): string {
  const s = schema as { type?: string, minimum?: number, maximum?: number, errorMessage?: string, anyOf?: Array<{ const: string }> }
  if (s.errorMessage) return s.errorMessage
  if (s.type === 'integer') return `must be a whole number from ${s.minimum} to ${s.maximum}`
  if (s.type === 'boolean') return 'must be true or false'
  if (s.anyOf) return `must be one of ${s.anyOf.map((a) => a.const).join(', ')}`
  return 'must not be empty'
}

/**
 * `true` trusts exactly one hop, the load balancer in front, never "every hop": clients can write
 * X-Forwarded-For themselves, and only the entry the last proxy appended is known to be true.
 */
function trustProxyOf (value: string): Config['trustProxy'] {
  if (value === 'false' || value === '0') return false
  if (value === 'true') return 1
  if (/^[0-9]+$/.test(value)) return Number(value)
  return list(value)
}

const list = (value: string | undefined) => (value ?? '').split(',').map((item) => item.trim()).filter(Boolean)

/** Rules that span variables, and the key file's content; each message names the variable to fix. */
function checkCombinations (env: Env, bad: Set<string>, keyFile: KeyFile): string[] {
  const problems: string[] = []
  const ok = (name: keyof Env) => !bad.has(name) && env[name] !== undefined
  const jwt = env.JWT_JWKS_URL !== undefined
  if (!env.AUTH_DISABLED && env.GATEWAY_API_KEYS === undefined && env.GATEWAY_API_KEYS_FILE === undefined && !jwt) {
    problems.push('  GATEWAY_API_KEYS, GATEWAY_API_KEYS_FILE or JWT_JWKS_URL is required (or AUTH_DISABLED=true, which leaves /v1 open to anyone)')
  }
  const weak = unusableKeys(list(env.GATEWAY_API_KEYS))
  if (weak !== undefined) problems.push(`  GATEWAY_API_KEYS ${weak}`)
  if (ok('GATEWAY_API_KEYS_FILE')) {
    // An empty file is fine while other credentials exist (keys may be added later, with SIGHUP).
    if (keyFile.problem !== undefined) problems.push(`  GATEWAY_API_KEYS_FILE ${keyFile.problem}`)
    else if (keyFile.keys.length === 0 && list(env.GATEWAY_API_KEYS).length === 0 && !jwt) problems.push('  GATEWAY_API_KEYS_FILE holds no keys')
  }
  if (jwt) {
    if (env.JWT_ISSUER === undefined) problems.push('  JWT_ISSUER is required with JWT_JWKS_URL (the iss every token must carry)')
    if (env.JWT_AUDIENCE === undefined) problems.push('  JWT_AUDIENCE is required with JWT_JWKS_URL (the aud every token must carry)')
    // Such a key would be read as a token and never match.
    if ([...list(env.GATEWAY_API_KEYS), ...keyFile.keys.map((spec) => spec.key)].some(looksLikeJwt)) {
      problems.push('  GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE holds a key shaped like a JWT (three base64url parts joined by dots), which JWT_JWKS_URL makes a token')
    }
  }
  if (ok('TRUST_PROXY')) {
    for (const cidr of env.TRUST_PROXY.includes('.') || env.TRUST_PROXY.includes(':') ? list(env.TRUST_PROXY) : []) {
      if (parseCidr(cidr) === undefined) problems.push('  TRUST_PROXY must be true, false, a number of proxy hops, or a comma-separated list of proxy addresses/CIDR blocks')
    }
  }
  const redis = ok('REDIS_URL') ? parseRedisTarget(env.REDIS_URL as string) : undefined
  if (ok('REDIS_URL') && redis === undefined) {
    problems.push('  REDIS_URL must be a redis://, rediss://, redis[s]-sentinel://host:port,.../master or redis[s]-cluster://host:port,... URL')
  }
  // A CA for a connection without TLS is most likely a missing "s" in the URL's scheme.
  if (env.REDIS_TLS_CA_FILE !== undefined && !bad.has('REDIS_URL') && redis?.tls !== true) {
    problems.push('  REDIS_TLS_CA_FILE needs a TLS REDIS_URL (rediss://, rediss-sentinel:// or rediss-cluster://)')
  }
  // Only when both are set: a default never contradicts the other variable (clientTimeouts).
  if (ok('HEADERS_TIMEOUT_MS') && ok('REQUEST_TIMEOUT_MS') && (env.HEADERS_TIMEOUT_MS as number) > (env.REQUEST_TIMEOUT_MS as number)) {
    problems.push('  HEADERS_TIMEOUT_MS must not be larger than REQUEST_TIMEOUT_MS (the headers are part of the request)')
  }
  for (const cidr of list(env.LEGACY_ALLOW_CIDRS)) {
    if (parseCidr(cidr) === undefined) problems.push('  LEGACY_ALLOW_CIDRS must be a comma-separated list of addresses or CIDR blocks')
  }
  return [...new Set(problems)]
}

/** REDIS_TLS_CA_FILE's PEM certificates, or why they cannot be used. */
function readCaFile (path: string): { pem: Buffer | undefined, problem?: string } {
  const { content: pem, problem } = readConfigFile(path)
  if (pem === undefined) return { pem, problem }
  return pem.includes('-----BEGIN CERTIFICATE-----') ? { pem } : { pem: undefined, problem: 'holds no PEM certificate' }
}

const REQUEST_TIMEOUT_MS_DEFAULT = 30_000
const HEADERS_TIMEOUT_MS_DEFAULT = 10_000

/**
 * The headers are part of the request, so their timeout is never the longer (Node refuses that).
 * A default gives way to the other variable: REQUEST_TIMEOUT_MS=3000 alone shortens the headers'
 * timeout to 3000, HEADERS_TIMEOUT_MS=40000 alone lengthens the request's to 40000. Two settings
 * that disagree are checkCombinations' error.
 */
function clientTimeouts (env: Env): Config['client'] {
  const requestTimeoutMs = env.REQUEST_TIMEOUT_MS ?? Math.max(REQUEST_TIMEOUT_MS_DEFAULT, env.HEADERS_TIMEOUT_MS ?? 0)
  return { requestTimeoutMs, headersTimeoutMs: env.HEADERS_TIMEOUT_MS ?? Math.min(HEADERS_TIMEOUT_MS_DEFAULT, requestTimeoutMs) }
}

function toConfig (env: Env, fileKeys: KeySpec[], redisCa: Buffer | undefined): Config {
  return {
    mor: {
      baseUrl: env.MOR_URL.replace(/\/+$/, ''),
      user: env.MOR_API_USER,
      secret: env.MOR_API_SECRET,
      password: env.MOR_API_PASSWORD,
      timeoutMs: env.UPSTREAM_TIMEOUT_MS,
      maxBytes: env.UPSTREAM_MAX_BYTES
    },
    cache: {
      ttlSeconds: env.CACHE_TTL_SECONDS,
      staleSeconds: env.CACHE_STALE_SECONDS,
      negativeTtlSeconds: env.CACHE_NEGATIVE_TTL_SECONDS,
      maxEntries: env.CACHE_MAX_ENTRIES,
      maxBytes: env.CACHE_MAX_BYTES
    },
    redis: env.REDIS_URL === undefined ? undefined : { url: env.REDIS_URL, timeoutMs: env.REDIS_TIMEOUT_MS, tlsCa: redisCa },
    legacy: {
      enabled: env.LEGACY_PASSTHROUGH,
      maxBodyBytes: env.LEGACY_MAX_BODY_BYTES,
      allowCidrs: env.LEGACY_ALLOW_CIDRS === undefined ? undefined : list(env.LEGACY_ALLOW_CIDRS),
      connections: env.LEGACY_CONNECTIONS,
      queue: env.LEGACY_QUEUE
    },
    client: clientTimeouts(env),
    auth: {
      keys: list(env.GATEWAY_API_KEYS),
      keysFile: env.GATEWAY_API_KEYS_FILE,
      fileKeys,
      disabled: env.AUTH_DISABLED,
      jwt: env.JWT_JWKS_URL === undefined || env.JWT_ISSUER === undefined || env.JWT_AUDIENCE === undefined
        ? undefined
        : { jwksUrl: env.JWT_JWKS_URL, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, userClaim: env.JWT_USER_CLAIM }
    },
    rateLimit: { perMinute: env.RATE_LIMIT_PER_MINUTE, upstreamPerMinute: env.UPSTREAM_BUDGET_PER_MINUTE },
    corsOrigins: list(env.CORS_ORIGINS),
    trustProxy: trustProxyOf(env.TRUST_PROXY),
    metricsPort: env.METRICS_PORT,
    circuit: { failures: env.CIRCUIT_FAILURES, resetSeconds: env.CIRCUIT_RESET_SECONDS },
    maxEventLoopDelayMs: env.MAX_EVENT_LOOP_DELAY_MS,
    host: env.HOST,
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    translateThreads: env.TRANSLATE_THREADS,
    docsEnabled: env.DOCS_ENABLED,
    tracing: tracingOf(env)
  }
}

// The MOR simulator's own settings (npm run mor-sim, npm run demo).
export const SimulatorEnvSchema = Type.Object({
  MOR_SIM_HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  MOR_SIM_PORT: Int(0, 65535, 8090),
  MOR_SIM_ENCODING: Type.Union([Type.Literal('gzip'), Type.Literal('gzip-file'), Type.Literal('plain')], { default: 'gzip' }),
  MOR_SIM_DELAY_MS: Int(0, 60_000, 0)
})
export type SimulatorConfig = Static<typeof SimulatorEnvSchema>

export function loadSimulatorConfig (env: Record<string, string | undefined>): SimulatorConfig {
  return parseEnv(SimulatorEnvSchema, env)
}
