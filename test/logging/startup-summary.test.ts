// The start-up line's view of Redis: form, hosts and TLS, never a user or password.
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { describeRedis, startupSummary } from '../../src/logging/startup-summary.js'

describe('describeRedis', () => {
  it.each([
    [undefined, 'none (in-process cache only)'],
    ['redis://127.0.0.1:6379', 'single 127.0.0.1:6379'],
    ['rediss://gw:Pass-1@cache.example.com:6380/2', 'single cache.example.com:6380/2 (tls)'],
    ['rediss-sentinel://gw:Pass-2@s1:26379,[::1]:26380/cache/1', 'sentinel s1:26379,[::1]:26380 master cache (tls)'],
    ['redis-cluster://:Pass-3@n1:7000,n2', 'cluster n1:7000,n2:6379']
  ])('describes %s as %s', (url, text) => {
    expect(describeRedis(url)).toBe(text)
    for (const secret of ['Pass-1', 'Pass-2', 'Pass-3', 'gw']) expect(describeRedis(url)).not.toContain(secret)
  })
})

describe('startupSummary', () => {
  it('names the trace collector by origin and the sampler, never the endpoint\'s path or headers', () => {
    const config = loadConfig({
      MOR_URL: 'http://mor.example.com/billing',
      MOR_API_USER: 'admin',
      MOR_API_SECRET: 's',
      AUTH_DISABLED: 'true',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otlp.example.com/tenant-Secret-9/v1/traces',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer Header-Secret-8',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.1'
    })
    const summary = startupSummary(config, [])
    expect(summary).toMatchObject({ mor: 'http://mor.example.com', auth: 'disabled (open to anyone)', tracing: 'otlp https://otlp.example.com (parentbased_traceidratio 0.1)' })
    expect(JSON.stringify(summary)).not.toMatch(/Secret-9|Secret-8/)
  })
})
