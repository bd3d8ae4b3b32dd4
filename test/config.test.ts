import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from 'typebox'
import { Value } from 'typebox/value'
import { describe, expect, it } from 'vitest'
import { ConfigError, ConfigSchema, EnvSchema, FILE_SECRETS, loadConfig, loadSimulatorConfig } from '../src/config.js'
import { inputOf, Var, variablesOf } from '../src/config/variables.js'

const DIR = mkdtempSync(join(tmpdir(), 'mor-gw-config-'))
/** A key file with one good key, for the settings that name one. */
const KEY_FILE = join(DIR, 'keys')
writeFileSync(KEY_FILE, `# test keys\n${'f'.repeat(20)}\n`)

const KEY = 'k'.repeat(16)
const REQUIRED = { MOR_URL: 'http://10.0.0.5/billing', MOR_API_USER: 'admin', MOR_API_SECRET: '456789', GATEWAY_API_KEYS: KEY }

function configError (env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('loadConfig did not throw')
}

describe('loadConfig', () => {
  it('fills every default when only the required variables are set', () => {
    expect(loadConfig(REQUIRED)).toStrictEqual({
      mor: {
        baseUrl: 'http://10.0.0.5/billing',
        user: 'admin',
        secret: '456789',
        password: undefined,
        timeoutMs: 10_000,
        maxBytes: 32 * 1024 * 1024
      },
      cache: { ttlSeconds: 60, staleSeconds: 600, negativeTtlSeconds: 10, maxEntries: 10_000, maxBytes: 256 * 1024 * 1024 },
      redis: undefined,
      legacy: { enabled: true, maxBodyBytes: 10 * 1024 * 1024, allowCidrs: undefined, connections: 64, queue: 64 },
      client: { requestTimeoutMs: 30_000, headersTimeoutMs: 10_000 },
      auth: { keys: [KEY], keysFile: undefined, fileKeys: [], disabled: false, jwt: undefined },
      rateLimit: { perMinute: 600, upstreamPerMinute: 120 },
      corsOrigins: [],
      trustProxy: false,
      metricsPort: undefined,
      circuit: { failures: 5, resetSeconds: 10 },
      maxEventLoopDelayMs: 1000,
      host: '127.0.0.1',
      port: 3000,
      logLevel: 'info',
      shutdownGraceMs: 10_000,
      translateThreads: undefined,
      docsEnabled: true,
      tracing: undefined
    })
  })

  it('reads every variable when all are set', () => {
    expect(loadConfig({
      MOR_URL: 'https://mor.example.com/billing',
      MOR_API_USER: 'reseller7',
      MOR_API_SECRET: 's3cr3t',
      MOR_API_PASSWORD: 'pa55',
      HOST: '0.0.0.0',
      PORT: '8080',
      UPSTREAM_TIMEOUT_MS: '2500',
      UPSTREAM_MAX_BYTES: '1048576',
      LOG_LEVEL: 'debug',
      REDIS_URL: 'redis://127.0.0.1:6379/2',
      REDIS_TIMEOUT_MS: '500',
      SHUTDOWN_GRACE_MS: '2500',
      TRANSLATE_THREADS: '3',
      DOCS_ENABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20otel%20token, x-tenant=ops',
      OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
      OTEL_SERVICE_NAME: 'gw-eu',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      CACHE_TTL_SECONDS: '30',
      CACHE_STALE_SECONDS: '300',
      CACHE_NEGATIVE_TTL_SECONDS: '5',
      CACHE_MAX_ENTRIES: '1000',
      CACHE_MAX_BYTES: '2097152',
      LEGACY_PASSTHROUGH: 'false',
      LEGACY_MAX_BODY_BYTES: '1024',
      LEGACY_ALLOW_CIDRS: '10.0.0.0/8, 192.0.2.7',
      GATEWAY_API_KEYS: `${KEY}, ${'j'.repeat(20)}`,
      GATEWAY_API_KEYS_FILE: KEY_FILE,
      AUTH_DISABLED: 'false',
      JWT_JWKS_URL: 'https://id.example.com/.well-known/jwks.json',
      JWT_ISSUER: 'https://id.example.com/',
      JWT_AUDIENCE: 'mor-gateway',
      JWT_USER_CLAIM: 'mor_users',
      RATE_LIMIT_PER_MINUTE: '100',
      UPSTREAM_BUDGET_PER_MINUTE: '10',
      CORS_ORIGINS: 'https://app.example.com,http://localhost:5173',
      TRUST_PROXY: '10.0.0.0/8, 192.0.2.1',
      METRICS_PORT: '9100',
      CIRCUIT_FAILURES: '3',
      CIRCUIT_RESET_SECONDS: '30',
      MAX_EVENT_LOOP_DELAY_MS: '500',
      LEGACY_CONNECTIONS: '8',
      LEGACY_QUEUE: '0',
      REQUEST_TIMEOUT_MS: '5000',
      HEADERS_TIMEOUT_MS: '2000'
    })).toStrictEqual({
      mor: {
        baseUrl: 'https://mor.example.com/billing',
        user: 'reseller7',
        secret: 's3cr3t',
        password: 'pa55',
        timeoutMs: 2500,
        maxBytes: 1_048_576
      },
      cache: { ttlSeconds: 30, staleSeconds: 300, negativeTtlSeconds: 5, maxEntries: 1000, maxBytes: 2_097_152 },
      redis: { url: 'redis://127.0.0.1:6379/2', timeoutMs: 500, tlsCa: undefined },
      legacy: { enabled: false, maxBodyBytes: 1024, allowCidrs: ['10.0.0.0/8', '192.0.2.7'], connections: 8, queue: 0 },
      client: { requestTimeoutMs: 5000, headersTimeoutMs: 2000 },
      auth: {
        keys: [KEY, 'j'.repeat(20)],
        keysFile: KEY_FILE,
        fileKeys: [{ key: 'f'.repeat(20) }],
        disabled: false,
        jwt: { jwksUrl: 'https://id.example.com/.well-known/jwks.json', issuer: 'https://id.example.com/', audience: 'mor-gateway', userClaim: 'mor_users' }
      },
      rateLimit: { perMinute: 100, upstreamPerMinute: 10 },
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
      trustProxy: ['10.0.0.0/8', '192.0.2.1'],
      metricsPort: 9100,
      circuit: { failures: 3, resetSeconds: 30 },
      maxEventLoopDelayMs: 500,
      host: '0.0.0.0',
      port: 8080,
      logLevel: 'debug',
      shutdownGraceMs: 2500,
      translateThreads: 3,
      docsEnabled: false,
      tracing: { url: 'http://collector:4318/v1/traces', headers: { authorization: 'Bearer otel token', 'x-tenant': 'ops' }, serviceName: 'gw-eu', sampler: 'parentbased_traceidratio', ratio: 0.25, delayMs: 200, timeoutMs: 3000 }
    })
  })

  it('removes trailing slashes from MOR_URL', () => {
    expect(loadConfig({ ...REQUIRED, MOR_URL: 'http://10.0.0.5/billing/' }).mor.baseUrl).toBe('http://10.0.0.5/billing')
    expect(loadConfig({ ...REQUIRED, MOR_URL: 'http://10.0.0.5/billing//' }).mor.baseUrl).toBe('http://10.0.0.5/billing')
  })

  it('trims whitespace around values', () => {
    const config = loadConfig({ ...REQUIRED, PORT: ' 8080 ', MOR_URL: ' http://10.0.0.5/billing ' })
    expect(config.port).toBe(8080)
    expect(config.mor.baseUrl).toBe('http://10.0.0.5/billing')
  })

  it('treats an empty variable as unset, so the default applies', () => {
    const config = loadConfig({ ...REQUIRED, PORT: '', LOG_LEVEL: '' })
    expect(config.port).toBe(3000)
    expect(config.logLevel).toBe('info')
  })

  it('accepts port 0, which lets the OS pick a free port', () => {
    expect(loadConfig({ ...REQUIRED, PORT: '0' }).port).toBe(0)
  })

  it('refuses to start without API keys unless AUTH_DISABLED=true', () => {
    const { GATEWAY_API_KEYS: _unused, ...noKeys } = REQUIRED
    expect(configError(noKeys).message).toBe('invalid configuration:\n  GATEWAY_API_KEYS, GATEWAY_API_KEYS_FILE or JWT_JWKS_URL is required (or AUTH_DISABLED=true, which leaves /v1 open to anyone)')
    expect(loadConfig({ ...noKeys, AUTH_DISABLED: 'true' }).auth).toStrictEqual({ keys: [], keysFile: undefined, fileKeys: [], disabled: true, jwt: undefined })
    expect(loadConfig({ ...noKeys, GATEWAY_API_KEYS_FILE: KEY_FILE }).auth.keysFile).toBe(KEY_FILE)
  })

  it('refuses API keys shorter than 16 characters, without echoing them', () => {
    const err = configError({ ...REQUIRED, GATEWAY_API_KEYS: `${KEY},short-key` })
    expect(err.message).toBe('invalid configuration:\n  GATEWAY_API_KEYS holds 1 key(s) shorter than 16 characters or with characters a Bearer token cannot carry')
    expect(err.message).not.toContain('short-key')
  })

  it.each(['10.0.0.0/33', 'nonsense', '10.0.0.0/8/1', '::1/129'])('rejects LEGACY_ALLOW_CIDRS=%s', (cidrs) => {
    expect(configError({ ...REQUIRED, LEGACY_ALLOW_CIDRS: cidrs }).message).toBe('invalid configuration:\n  LEGACY_ALLOW_CIDRS must be a comma-separated list of addresses or CIDR blocks')
  })

  it('refuses API keys with characters a Bearer token cannot carry', () => {
    expect(configError({ ...REQUIRED, GATEWAY_API_KEYS: 'key with spaces in it!' }).message)
      .toBe('invalid configuration:\n  GATEWAY_API_KEYS holds 1 key(s) shorter than 16 characters or with characters a Bearer token cannot carry')
  })

  it.each([['false', false], ['0', false], ['true', 1], ['2', 2], ['10.0.0.1, 10.0.0.0/16', ['10.0.0.1', '10.0.0.0/16']]] as const)(
    'reads TRUST_PROXY=%s as %j (true trusts one hop, never all)', (value, expected) => {
      expect(loadConfig({ ...REQUIRED, TRUST_PROXY: value }).trustProxy).toStrictEqual(expected)
    })

  it.each(['yes', '10.0.0.0/99', 'proxy.example.com'])('rejects TRUST_PROXY=%s', (value) => {
    expect(configError({ ...REQUIRED, TRUST_PROXY: value }).message)
      .toBe('invalid configuration:\n  TRUST_PROXY must be true, false, a number of proxy hops, or a comma-separated list of proxy addresses/CIDR blocks')
  })

  it('rejects CORS_ORIGINS that are not origins', () => {
    expect(configError({ ...REQUIRED, CORS_ORIGINS: 'app.example.com' }).message).toBe('invalid configuration:\n  CORS_ORIGINS must be a comma-separated list of http(s) origins')
  })

  it('names every missing required variable in one ConfigError', () => {
    const err = configError({})
    expect(err).toBeInstanceOf(ConfigError)
    expect(err.name).toBe('ConfigError')
    expect(err.message).toBe('invalid configuration:\n  MOR_URL is required\n  MOR_API_USER is required\n  MOR_API_SECRET is required\n' +
      '  GATEWAY_API_KEYS, GATEWAY_API_KEYS_FILE or JWT_JWKS_URL is required (or AUTH_DISABLED=true, which leaves /v1 open to anyone)')
  })

  it('counts an empty required variable as missing', () => {
    expect(configError({ ...REQUIRED, MOR_API_SECRET: '' }).message).toBe('invalid configuration:\n  MOR_API_SECRET is required')
  })

  it.each(['3.5', 'abc', '70000', '-1', '0x50', '1e3'])('rejects PORT=%s, naming the variable and its range', (port) => {
    expect(configError({ ...REQUIRED, PORT: port }).message).toBe('invalid configuration:\n  PORT must be a whole number from 0 to 65535')
  })

  it('rejects an UPSTREAM_MAX_BYTES below 1 KiB', () => {
    expect(configError({ ...REQUIRED, UPSTREAM_MAX_BYTES: '100' }).message)
      .toBe('invalid configuration:\n  UPSTREAM_MAX_BYTES must be a whole number from 1024 to 1073741824')
  })

  it('rejects an UPSTREAM_TIMEOUT_MS of 0', () => {
    expect(configError({ ...REQUIRED, UPSTREAM_TIMEOUT_MS: '0' }).message)
      .toBe('invalid configuration:\n  UPSTREAM_TIMEOUT_MS must be a whole number from 1 to 600000')
  })

  it.each([
    ['REQUEST_TIMEOUT_MS=3000 alone shortens the headers\' default to it', { REQUEST_TIMEOUT_MS: '3000' }, { requestTimeoutMs: 3000, headersTimeoutMs: 3000 }],
    ['REQUEST_TIMEOUT_MS=60000 alone leaves the headers\' default at 10000', { REQUEST_TIMEOUT_MS: '60000' }, { requestTimeoutMs: 60_000, headersTimeoutMs: 10_000 }],
    ['HEADERS_TIMEOUT_MS=2000 alone leaves the request\'s default at 30000', { HEADERS_TIMEOUT_MS: '2000' }, { requestTimeoutMs: 30_000, headersTimeoutMs: 2000 }],
    ['HEADERS_TIMEOUT_MS=40000 alone lengthens the request\'s default to it', { HEADERS_TIMEOUT_MS: '40000' }, { requestTimeoutMs: 40_000, headersTimeoutMs: 40_000 }],
    ['both set and equal', { REQUEST_TIMEOUT_MS: '3000', HEADERS_TIMEOUT_MS: '3000' }, { requestTimeoutMs: 3000, headersTimeoutMs: 3000 }]
  ])('starts with %s', (_what, env, client) => {
    expect(loadConfig({ ...REQUIRED, ...env }).client).toStrictEqual(client)
  })

  it('rejects a HEADERS_TIMEOUT_MS set larger than a REQUEST_TIMEOUT_MS set, naming both', () => {
    expect(configError({ ...REQUIRED, REQUEST_TIMEOUT_MS: '5000', HEADERS_TIMEOUT_MS: '6000' }).message)
      .toBe('invalid configuration:\n  HEADERS_TIMEOUT_MS must not be larger than REQUEST_TIMEOUT_MS (the headers are part of the request)')
  })

  it('rejects a REQUEST_TIMEOUT_MS under one second', () => {
    expect(configError({ ...REQUIRED, REQUEST_TIMEOUT_MS: '999' }).message)
      .toBe('invalid configuration:\n  REQUEST_TIMEOUT_MS must be a whole number from 1000 to 3600000')
  })

  it('reports every problem in one pass: bad values, rules across variables and the key file', () => {
    expect(configError({
      MOR_URL: 'ftp://x',
      MOR_API_USER: 'admin',
      PORT: 'eighty',
      GATEWAY_API_KEYS_FILE: join(DIR, 'missing'),
      REQUEST_TIMEOUT_MS: '5000',
      HEADERS_TIMEOUT_MS: '6000',
      LEGACY_ALLOW_CIDRS: 'not-an-address'
    }).message).toBe('invalid configuration:\n' +
      '  MOR_API_SECRET is required\n' +
      '  MOR_URL must be an http(s) URL without query or fragment\n' +
      '  PORT must be a whole number from 0 to 65535\n' +
      '  GATEWAY_API_KEYS_FILE cannot be read (ENOENT)\n' +
      '  HEADERS_TIMEOUT_MS must not be larger than REQUEST_TIMEOUT_MS (the headers are part of the request)\n' +
      '  LEGACY_ALLOW_CIDRS must be a comma-separated list of addresses or CIDR blocks')
  })

  it('refuses a key file with an unusable key, naming the variable and never the key', () => {
    const weak = join(DIR, 'weak')
    writeFileSync(weak, 'short-key\n')
    const message = configError({ ...REQUIRED, GATEWAY_API_KEYS_FILE: weak }).message
    expect(message).toBe('invalid configuration:\n  GATEWAY_API_KEYS_FILE has unusable lines: line 1: the key is shorter than 16 characters or has characters a Bearer token cannot carry')
  })

  it('rejects an unknown LOG_LEVEL, listing the allowed ones', () => {
    expect(configError({ ...REQUIRED, LOG_LEVEL: 'verbose' }).message)
      .toBe('invalid configuration:\n  LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent')
  })

  it.each(['ftp://10.0.0.5/billing', '10.0.0.5/billing', 'http://10.0.0.5/billing?u=admin', 'http://10.0.0.5/billing#x'])('rejects MOR_URL %s', (url) => {
    expect(configError({ ...REQUIRED, MOR_URL: url }).message)
      .toBe('invalid configuration:\n  MOR_URL must be an http(s) URL without query or fragment')
  })

  it('rejects a LEGACY_PASSTHROUGH that is not true or false', () => {
    expect(() => loadConfig({ ...REQUIRED, LEGACY_PASSTHROUGH: 'yes' }))
      .toThrow(new ConfigError('invalid configuration:\n  LEGACY_PASSTHROUGH must be true or false'))
  })

  it('rejects a REDIS_URL that is not a redis:// URL', () => {
    expect(configError({ ...REQUIRED, REDIS_URL: 'http://127.0.0.1:6379' }).message)
      .toBe('invalid configuration:\n  REDIS_URL must be a redis://, rediss://, redis[s]-sentinel:// or redis[s]-cluster:// URL')
  })

  it('reads REDIS_TLS_CA_FILE\'s certificates for a TLS REDIS_URL, and refuses what cannot be one', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
    const caFile = join(DIR, 'ca.pem')
    writeFileSync(caFile, pem)
    expect(loadConfig({ ...REQUIRED, REDIS_URL: 'rediss-cluster://n1:7000', REDIS_TLS_CA_FILE: caFile }).redis?.tlsCa?.toString()).toBe(pem)
    expect(configError({ ...REQUIRED, REDIS_URL: 'redis-cluster://n1:7000', REDIS_TLS_CA_FILE: caFile }).message)
      .toBe('invalid configuration:\n  REDIS_TLS_CA_FILE needs a TLS REDIS_URL (rediss://, rediss-sentinel:// or rediss-cluster://)')
    expect(configError({ ...REQUIRED, REDIS_URL: 'rediss://cache', REDIS_TLS_CA_FILE: join(DIR, 'missing.pem') }).message)
      .toBe('invalid configuration:\n  REDIS_TLS_CA_FILE cannot be read (ENOENT)')
    writeFileSync(caFile, 'not a certificate')
    expect(configError({ ...REQUIRED, REDIS_URL: 'rediss://cache', REDIS_TLS_CA_FILE: caFile }).message)
      .toBe('invalid configuration:\n  REDIS_TLS_CA_FILE holds no PEM certificate')
  })

  it('names several bad variables in one message', () => {
    expect(configError({ MOR_URL: 'mor', MOR_API_USER: 'admin', PORT: 'abc', LOG_LEVEL: 'loud' }).message).toBe([
      'invalid configuration:',
      '  MOR_API_SECRET is required',
      '  MOR_URL must be an http(s) URL without query or fragment',
      '  PORT must be a whole number from 0 to 65535',
      '  LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
      '  GATEWAY_API_KEYS, GATEWAY_API_KEYS_FILE or JWT_JWKS_URL is required (or AUTH_DISABLED=true, which leaves /v1 open to anyone)'
    ].join('\n'))
  })

  it('never echoes a secret value in the error message', () => {
    const err = configError({
      MOR_URL: 'http://admin:Hunter2-url@10.0.0.5/billing?hash=71516eea4850f7e0300ac86adf9fb64bca845aa7',
      MOR_API_USER: 'admin',
      MOR_API_SECRET: 'Secret-456789',
      MOR_API_PASSWORD: 'Passw0rd-xyz',
      REDIS_URL: 'http://default:Redis-pass@cache:6379',
      PORT: 'Secret-port'
    })
    for (const value of ['Hunter2-url', '71516eea4850f7e0300ac86adf9fb64bca845aa7', 'Secret-456789', 'Passw0rd-xyz', 'Redis-pass', 'Secret-port']) {
      expect(err.message).not.toContain(value)
    }
  })

  describe('OpenTelemetry\'s variables', () => {
    it('prefers the traces endpoint as given, and turns tracing off with OTEL_SDK_DISABLED', () => {
      const both = { ...REQUIRED, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/otlp/traces' }
      expect(loadConfig(both).tracing?.url).toBe('https://traces.example.com/otlp/traces')
      expect(loadConfig({ ...both, OTEL_SDK_DISABLED: 'true' }).tracing).toBeUndefined()
    })

    it('refuses what it cannot honour, without echoing a header value', () => {
      expect(configError({ ...REQUIRED, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_TRACES_SAMPLER: 'sometimes' }).message).toBe([
        'invalid configuration:',
        '  OTEL_EXPORTER_OTLP_PROTOCOL must be http/json (the encoding this gateway sends)',
        '  OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio'
      ].join('\n'))
      expect(configError({ ...REQUIRED, OTEL_TRACES_SAMPLER_ARG: '1.5' }).message).toBe('invalid configuration:\n  OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1')
      const headers = configError({ ...REQUIRED, OTEL_EXPORTER_OTLP_HEADERS: 'Authorization Bearer-Leaked' }).message
      expect(headers).toBe('invalid configuration:\n  OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs separated by commas')
    })
  })

  describe('secrets from files (X_FILE)', () => {
    const secretFile = (name: string, content: string) => {
      const file = join(DIR, name)
      writeFileSync(file, content)
      return file
    }
    const { MOR_API_SECRET: _secret, ...WITHOUT_SECRET } = REQUIRED

    it('reads MOR_API_SECRET, MOR_API_PASSWORD and REDIS_URL from files, without their trailing newline', () => {
      const config = loadConfig({
        ...WITHOUT_SECRET,
        MOR_API_SECRET_FILE: secretFile('secret', 'S3cret from file\n'),
        MOR_API_PASSWORD_FILE: secretFile('password', 'pa55\r\n'),
        REDIS_URL_FILE: secretFile('redis', 'rediss://gw:pw@cache:6380\n')
      })
      expect([config.mor.secret, config.mor.password, config.redis?.url]).toStrictEqual(['S3cret from file', 'pa55', 'rediss://gw:pw@cache:6380'])
    })

    it('refuses a variable set both ways, a file that cannot be read, and an empty one, naming each', () => {
      expect(configError({ ...REQUIRED, MOR_API_SECRET_FILE: secretFile('secret', 'x\n') }).message)
        .toBe('invalid configuration:\n  MOR_API_SECRET and MOR_API_SECRET_FILE are both set: set only one')
      expect(configError({ ...WITHOUT_SECRET, MOR_API_SECRET_FILE: join(DIR, 'missing') }).message)
        .toBe('invalid configuration:\n  MOR_API_SECRET_FILE cannot be read (ENOENT)')
      expect(configError({ ...WITHOUT_SECRET, MOR_API_SECRET_FILE: secretFile('empty', '\n') }).message)
        .toBe('invalid configuration:\n  MOR_API_SECRET_FILE is an empty file')
    })

    it('names the file a bad value came from, without echoing the value', () => {
      const message = configError({ ...REQUIRED, REDIS_URL_FILE: secretFile('redis', 'http://user:Leaked-Pass@cache\n') }).message
      expect(message).toBe('invalid configuration:\n  REDIS_URL (read from REDIS_URL_FILE) must be a redis://, rediss://, redis[s]-sentinel:// or redis[s]-cluster:// URL')
      expect(message).not.toContain('Leaked-Pass')
    })
  })

  it('reports a blank secret as empty without echoing it', () => {
    expect(configError({ ...REQUIRED, MOR_API_SECRET: '   ' }).message).toBe('invalid configuration:\n  MOR_API_SECRET must not be empty')
  })
})

describe('ConfigSchema', () => {
  const NO_FILES = { GATEWAY_API_KEYS_FILE: [], REDIS_TLS_CA_FILE: undefined }
  const inputFor = (env: Record<string, unknown>) => inputOf(ConfigSchema, Value.Default(EnvSchema, { ...env }) as Record<string, unknown>, NO_FILES)

  it('decodes, from the checked variables, the whole config loadConfig returns', () => {
    expect(Value.Decode(ConfigSchema, inputFor(REQUIRED))).toStrictEqual(loadConfig(REQUIRED))
  })

  it('refuses a bad value at its setting\'s place, named by its variable', () => {
    const input = inputFor({ ...REQUIRED, PORT: 70_000 })
    expect(Value.Check(ConfigSchema, input)).toBe(false)
    expect([...Value.Errors(ConfigSchema, input)].map((error) => error.instancePath)).toStrictEqual(['/port/PORT'])
  })

  it('names any variable it declares whose value is bad', () => {
    for (const [name, variable] of Object.entries(EnvSchema.properties)) {
      const type = (variable as { type?: string }).type
      // Blank is no string variable's value: it trims to an empty one.
      const bad = type === 'integer' ? '1.5' : type === 'boolean' ? 'maybe' : '   '
      expect(configError({ ...REQUIRED, [name]: bad }).message.split('\n')).toContainEqual(expect.stringMatching(new RegExp(`^  ${name} `)))
    }
  })

  it('names every bad variable, however many (a bad union value does not hide the ones after it)', () => {
    expect(configError({ ...REQUIRED, CACHE_TTL_SECONDS: 'x', CACHE_MAX_ENTRIES: 'x', LEGACY_QUEUE: 'x', RATE_LIMIT_PER_MINUTE: 'x', PORT: 'x', LOG_LEVEL: 'loud', DOCS_ENABLED: 'maybe', OTEL_TRACES_SAMPLER: 'sometimes' }).message).toBe([
      'invalid configuration:',
      '  CACHE_TTL_SECONDS must be a whole number from 0 to 604800',
      '  CACHE_MAX_ENTRIES must be a whole number from 0 to 10000000',
      '  LEGACY_QUEUE must be a whole number from 0 to 100000',
      '  RATE_LIMIT_PER_MINUTE must be a whole number from 1 to 10000000',
      '  PORT must be a whole number from 0 to 65535',
      '  LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
      '  DOCS_ENABLED must be true or false',
      '  OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio'
    ].join('\n'))
  })

  it('lists the secrets its leaves let come from a file', () => {
    expect(FILE_SECRETS).toStrictEqual(['MOR_API_SECRET', 'MOR_API_PASSWORD', 'REDIS_URL'])
  })

  it('refuses a schema that declares a variable twice', () => {
    expect(() => variablesOf(Type.Object({ a: Var('X', Type.String()), b: Type.Object({ c: Var('X', Type.String()) }) })))
      .toThrow(new Error('X is declared twice in the configuration schema'))
  })
})

describe('loadSimulatorConfig', () => {
  it('fills every default from an empty environment', () => {
    expect(loadSimulatorConfig({})).toStrictEqual({ MOR_SIM_HOST: '127.0.0.1', MOR_SIM_PORT: 8090, MOR_SIM_ENCODING: 'gzip', MOR_SIM_DELAY_MS: 0 })
  })

  it('reads every variable when all are set', () => {
    expect(loadSimulatorConfig({ MOR_SIM_HOST: '0.0.0.0', MOR_SIM_PORT: '9000', MOR_SIM_ENCODING: 'gzip-file', MOR_SIM_DELAY_MS: '250' }))
      .toStrictEqual({ MOR_SIM_HOST: '0.0.0.0', MOR_SIM_PORT: 9000, MOR_SIM_ENCODING: 'gzip-file', MOR_SIM_DELAY_MS: 250 })
  })

  it('ignores the gateway\'s variables', () => {
    expect(loadSimulatorConfig({ PORT: 'abc', MOR_URL: 'nonsense' }))
      .toStrictEqual({ MOR_SIM_HOST: '127.0.0.1', MOR_SIM_PORT: 8090, MOR_SIM_ENCODING: 'gzip', MOR_SIM_DELAY_MS: 0 })
  })

  it('rejects an unknown MOR_SIM_ENCODING and a fractional MOR_SIM_DELAY_MS, naming both', () => {
    expect(() => loadSimulatorConfig({ MOR_SIM_ENCODING: 'zstd', MOR_SIM_DELAY_MS: '1.5' })).toThrow(ConfigError)
    expect(() => loadSimulatorConfig({ MOR_SIM_ENCODING: 'zstd', MOR_SIM_DELAY_MS: '1.5' })).toThrow(new ConfigError([
      'invalid configuration:',
      '  MOR_SIM_ENCODING must be one of gzip, gzip-file, plain',
      '  MOR_SIM_DELAY_MS must be a whole number from 0 to 60000'
    ].join('\n')))
  })
})
