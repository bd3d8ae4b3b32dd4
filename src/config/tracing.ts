// The tracing setting, read from OpenTelemetry's standard variables: where spans go over
// OTLP/HTTP and which traces are recorded. Tracing is off unless an OTLP endpoint is set.
import { Type } from 'typebox'
import { SAMPLERS } from '../tracing/sampler.js'
import { Int, list, OneOf, Vars } from './variables.js'

// An OTLP endpoint, without user:password@ (fetch refuses such URLs): credentials go in
// OTEL_EXPORTER_OTLP_HEADERS.
const OtlpUrl = () => Type.Optional(Type.String({ pattern: '^https?://[^\\s/?#@]+(/[^\\s?#]*)?$', errorMessage: 'must be an http(s) URL without credentials, query or fragment (credentials go in OTEL_EXPORTER_OTLP_HEADERS)' }))

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

export const Tracing = Vars({
  OTEL_SDK_DISABLED: Type.Boolean({ default: false }),
  OTEL_EXPORTER_OTLP_ENDPOINT: OtlpUrl(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: OtlpUrl(),
  OTEL_EXPORTER_OTLP_PROTOCOL: Type.Optional(Type.Literal('http/json', { errorMessage: 'must be http/json (the encoding this gateway sends)' })),
  OTEL_EXPORTER_OTLP_HEADERS: Type.Optional(Type.String({ pattern: '^\\s*[^=,\\s]+\\s*=[^,]*(,\\s*[^=,\\s]+\\s*=[^,]*)*$', errorMessage: 'must be key=value pairs separated by commas' })),
  OTEL_EXPORTER_OTLP_TIMEOUT: Int(1, 600_000, 10_000),
  OTEL_SERVICE_NAME: Type.String({ minLength: 1, maxLength: 200, default: 'mor-gateway' }),
  OTEL_TRACES_SAMPLER: OneOf(SAMPLERS, { default: 'parentbased_always_on' }),
  OTEL_TRACES_SAMPLER_ARG: Type.String({ pattern: '^(0(\\.[0-9]+)?|1(\\.0+)?)$', default: '1', errorMessage: 'must be a ratio from 0 to 1' }),
  OTEL_BSP_SCHEDULE_DELAY: Int(1, 600_000, 5000)
}, (env) => {
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
})
