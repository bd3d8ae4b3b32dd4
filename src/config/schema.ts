// The gateway's configuration as one nested TypeBox schema: its shape is Config's, each leaf
// names the variables it is read from (bounds, defaults, messages) and how they become the
// setting. The variables (EnvSchema) and the Config type are derived from it, never written twice.
import { Type, type StaticDecode, type TObject } from 'typebox'
import type { KeySpec } from '../auth/api-keys.js'
import type { JwtSettings } from '../auth/jwt.js'
import { Tracing } from './tracing.js'
import { FileContent, fileSecretsOf, Int, list, OneOf, Secret, Var, variablesOf, Vars, type VariablesOf } from './variables.js'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** What loadConfig reads, once, from the files two variables name. */
export type FileContents = { GATEWAY_API_KEYS_FILE: KeySpec[], REDIS_TLS_CA_FILE: Buffer | undefined }
const ContentOf = <N extends keyof FileContents>(variable: N) => FileContent<FileContents[N]>(variable)

const REQUEST_TIMEOUT_MS_DEFAULT = 30_000
const HEADERS_TIMEOUT_MS_DEFAULT = 10_000

/**
 * `true` trusts exactly one hop, the load balancer in front, never "every hop": clients can write
 * X-Forwarded-For themselves, and only the entry the last proxy appended is known to be true.
 */
function trustProxyOf (value: string): false | number | string[] {
  if (value === 'false' || value === '0') return false
  if (value === 'true') return 1
  if (/^[0-9]+$/.test(value)) return Number(value)
  return list(value)
}

export const ConfigSchema = Type.Object({
  mor: Type.Object({
    /** Base URL without a trailing slash, e.g. http://10.0.0.5/billing */
    baseUrl: Var('MOR_URL', Type.String({ pattern: '^https?://[^\\s?#]+$', errorMessage: 'must be an http(s) URL without query or fragment' }), (url) => url.replace(/\/+$/, '')),
    user: Var('MOR_API_USER', Type.String({ minLength: 1, description: 'sent as u' })),
    secret: Secret('MOR_API_SECRET', Type.String({ minLength: 1, description: 'API secret key; signs every call' })),
    password: Secret('MOR_API_PASSWORD', Type.Optional(Type.String({ minLength: 1, description: 'sent as p when set' }))),
    timeoutMs: Var('UPSTREAM_TIMEOUT_MS', Int(1, 600_000, 10_000)),
    maxBytes: Var('UPSTREAM_MAX_BYTES', Int(1024, 1024 ** 3, 32 * 1024 * 1024))
  }),
  cache: Type.Object({
    ttlSeconds: Var('CACHE_TTL_SECONDS', Int(0, 7 * 86_400, 60)),
    staleSeconds: Var('CACHE_STALE_SECONDS', Int(0, 7 * 86_400, 600)),
    negativeTtlSeconds: Var('CACHE_NEGATIVE_TTL_SECONDS', Int(0, 86_400, 10)),
    maxEntries: Var('CACHE_MAX_ENTRIES', Int(0, 10_000_000, 10_000)),
    maxBytes: Var('CACHE_MAX_BYTES', Int(1024 * 1024, 64 * 1024 ** 3, 256 * 1024 * 1024))
  }),
  // All or none: no Redis unless REDIS_URL is set. tlsCa: REDIS_TLS_CA_FILE's certificates.
  redis: Type.Decode(Type.Object({
    url: Secret('REDIS_URL', Type.Optional(Type.String({ pattern: '^(rediss?|rediss?-sentinel|rediss?-cluster)://', errorMessage: 'must be a redis://, rediss://, redis[s]-sentinel:// or redis[s]-cluster:// URL' }))),
    timeoutMs: Var('REDIS_TIMEOUT_MS', Int(10, 10_000, 250)),
    tlsCaFile: Var('REDIS_TLS_CA_FILE', Type.Optional(Type.String({ minLength: 1 }))),
    tlsCa: ContentOf('REDIS_TLS_CA_FILE')
  }), ({ url, timeoutMs, tlsCa }) => url === undefined ? undefined : { url, timeoutMs, tlsCa }),
  legacy: Type.Object({
    enabled: Var('LEGACY_PASSTHROUGH', Type.Boolean({ default: true })),
    maxBodyBytes: Var('LEGACY_MAX_BODY_BYTES', Int(0, 1024 ** 3, 10 * 1024 * 1024)),
    allowCidrs: Var('LEGACY_ALLOW_CIDRS', Type.Optional(Type.String({ minLength: 1 })), (cidrs) => cidrs === undefined ? undefined : list(cidrs)),
    // Connections to MOR for the passthrough, and how many calls may wait for one beyond them.
    connections: Var('LEGACY_CONNECTIONS', Int(1, 10_000, 64)),
    queue: Var('LEGACY_QUEUE', Int(0, 100_000, 64))
  }),
  /**
   * How long a client may take to send a whole request, and its headers alone. The headers are
   * part of the request, so their timeout is never the longer (Node refuses that). A default
   * gives way to the other variable: REQUEST_TIMEOUT_MS=3000 alone shortens the headers' timeout
   * to 3000, HEADERS_TIMEOUT_MS=40000 alone lengthens the request's to 40000. Two settings that
   * disagree are checkCombinations' error.
   */
  client: Vars({
    REQUEST_TIMEOUT_MS: Type.Optional(Int(1000, 3_600_000)),
    HEADERS_TIMEOUT_MS: Type.Optional(Int(1000, 3_600_000))
  }, (env) => {
    const requestTimeoutMs = env.REQUEST_TIMEOUT_MS ?? Math.max(REQUEST_TIMEOUT_MS_DEFAULT, env.HEADERS_TIMEOUT_MS ?? 0)
    return { requestTimeoutMs, headersTimeoutMs: env.HEADERS_TIMEOUT_MS ?? Math.min(HEADERS_TIMEOUT_MS_DEFAULT, requestTimeoutMs) }
  }),
  auth: Type.Object({
    keys: Var('GATEWAY_API_KEYS', Type.Optional(Type.String({ minLength: 1 })), list),
    keysFile: Var('GATEWAY_API_KEYS_FILE', Type.Optional(Type.String({ minLength: 1 }))),
    // The key file's keys as read (and checked) at start.
    fileKeys: ContentOf('GATEWAY_API_KEYS_FILE'),
    disabled: Var('AUTH_DISABLED', Type.Boolean({ default: false })),
    jwt: Vars({
      JWT_JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', errorMessage: 'must be an http(s) URL of a JSON Web Key Set' })),
      JWT_ISSUER: Type.Optional(Type.String({ minLength: 1 })),
      JWT_AUDIENCE: Type.Optional(Type.String({ minLength: 1 })),
      JWT_USER_CLAIM: Type.String({ minLength: 1, maxLength: 200, default: 'mor_user_id' })
    }, (env): JwtSettings | undefined => env.JWT_JWKS_URL === undefined || env.JWT_ISSUER === undefined || env.JWT_AUDIENCE === undefined
      ? undefined
      : { jwksUrl: env.JWT_JWKS_URL, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, userClaim: env.JWT_USER_CLAIM })
  }),
  rateLimit: Type.Object({
    perMinute: Var('RATE_LIMIT_PER_MINUTE', Int(1, 10_000_000, 600)),
    upstreamPerMinute: Var('UPSTREAM_BUDGET_PER_MINUTE', Int(1, 10_000_000, 120))
  }),
  corsOrigins: Var('CORS_ORIGINS', Type.Optional(Type.String({ pattern: '^https?://[^,\\s]+(\\s*,\\s*https?://[^,\\s]+)*$', errorMessage: 'must be a comma-separated list of http(s) origins' })), list),
  // false, a hop count, or the addresses of trusted proxies (Fastify's trustProxy).
  trustProxy: Var('TRUST_PROXY', Type.String({ default: 'false', pattern: '^(true|false|[0-9]{1,2}|[0-9a-fA-F.:/]+(\\s*,\\s*[0-9a-fA-F.:/]+)*)$', errorMessage: 'must be true, false, a number of proxy hops, or a comma-separated list of proxy addresses/CIDR blocks' }), trustProxyOf),
  metricsPort: Var('METRICS_PORT', Type.Optional(Int(0, 65535))),
  circuit: Type.Object({
    failures: Var('CIRCUIT_FAILURES', Int(1, 1000, 5)),
    resetSeconds: Var('CIRCUIT_RESET_SECONDS', Int(1, 3600, 10))
  }),
  maxEventLoopDelayMs: Var('MAX_EVENT_LOOP_DELAY_MS', Int(10, 60_000, 1000)),
  host: Var('HOST', Type.String({ minLength: 1, default: '127.0.0.1' })),
  port: Var('PORT', Int(0, 65535, 3000)),
  logLevel: Var('LOG_LEVEL', OneOf(LOG_LEVELS, { default: 'info' })),
  // How long SIGTERM waits for requests in flight before the process exits anyway; 0 would kill
  // the process at once, with no graceful close at all.
  shutdownGraceMs: Var('SHUTDOWN_GRACE_MS', Int(100, 600_000, 10_000)),
  // Worker threads translating large MOR answers. Unset: one less than the cores Node sees, which
  // in a container with a CPU limit is the host's.
  translateThreads: Var('TRANSLATE_THREADS', Type.Optional(Int(1, 256))),
  // Serve /docs and /openapi.json.
  docsEnabled: Var('DOCS_ENABLED', Type.Boolean({ default: true })),
  tracing: Tracing
})

export type Config = StaticDecode<typeof ConfigSchema>
export type TracingSettings = NonNullable<Config['tracing']>

/** Every variable the schema reads, flat: what the environment is checked against. */
export const EnvSchema = Type.Object(variablesOf(ConfigSchema)) as TObject<VariablesOf<typeof ConfigSchema>>

/** Secrets that may come from a file: X_FILE names the file whose content is X. */
export const FILE_SECRETS = fileSecretsOf(EnvSchema.properties)
