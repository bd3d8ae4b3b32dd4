// The OpenAPI contract: committed files match what the app generates and serves, the document is
// valid OpenAPI 3.1, and the response checker used by the integration tests can fail.
import { readFileSync } from 'node:fs'
import { Validator } from '@seriousme/openapi-schema-validator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openApiDocument, DOCUMENTED_ENV } from '../../scripts/openapi.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { checkContract, CONTRACT } from '../helpers/contract.js'
import type { components, paths } from '../../openapi/types.js'

const committed = (name: string) => readFileSync(new URL(`../../openapi/${name}`, import.meta.url), 'utf8')

let generated: Awaited<ReturnType<typeof openApiDocument>>
let gw: TestGateway

beforeAll(async () => {
  generated = await openApiDocument()
  gw = await startGateway(DOCUMENTED_ENV.MOR_URL, { MOR_API_USER: DOCUMENTED_ENV.MOR_API_USER, MOR_API_SECRET: DOCUMENTED_ENV.MOR_API_SECRET })
})
afterAll(async () => { await gw.close() })

describe('the committed contract', () => {
  it.each(['openapi.json', 'openapi.yaml', 'types.ts'] as const)('openapi/%s is what `npm run openapi` generates now', (name) => {
    const key = ({ 'openapi.json': 'json', 'openapi.yaml': 'yaml', 'types.ts': 'types' } as const)[name]
    expect(committed(name), `openapi/${name} is stale: run npm run openapi`).toBe(generated[key])
  })

  it('is what the app serves at /openapi.json', async () => {
    const res = await fetch(`${gw.url}/openapi.json`)
    expect(res.status).toBe(200)
    expect(await res.json()).toStrictEqual(JSON.parse(committed('openapi.json')))
  })

  it('names every operation with a unique operationId', () => {
    const ids = Object.values(CONTRACT.paths).flatMap((ops) => Object.values(ops as Record<string, { operationId?: string }>).map((op) => op.operationId))
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('sends a person at the root to the documentation', async () => {
    const res = await fetch(`${gw.url}/`, { redirect: 'manual' })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/docs')
  })

  it('is not served, nor is Swagger UI, with DOCS_ENABLED=false; the API still is', async () => {
    const quiet = await startGateway(DOCUMENTED_ENV.MOR_URL, { MOR_API_USER: DOCUMENTED_ENV.MOR_API_USER, MOR_API_SECRET: DOCUMENTED_ENV.MOR_API_SECRET, DOCS_ENABLED: 'false' })
    try {
      for (const path of ['/openapi.json', '/docs', '/docs/', '/docs/static/index.html', '/']) {
        expect((await fetch(`${quiet.url}${path}`, { redirect: 'manual' })).status, path).toBe(404)
      }
      expect((await fetch(`${quiet.url}/health/live`)).status).toBe(200)
      expect((await fetch(`${gw.url}/docs/`)).status).toBe(200)
    } finally {
      await quiet.close()
    }
  })

  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator()
    const result = await validator.validate(JSON.parse(committed('openapi.json')) as Parameters<Validator['validate']>[0])
    expect(validator.version).toBe('3.1')
    expect(result).toStrictEqual({ valid: true })
  })

  it('describes the devices operation with its user id bounds, nullable fields, problems and headers', () => {
    const operation = CONTRACT.paths['/v1/users/{userId}/devices']?.get as unknown as {
      operationId: string
      parameters: Array<{ name: string, in: string, schema: { type?: string, minimum?: number, maximum?: number, pattern?: string } }>
      responses: Record<string, { headers?: Record<string, unknown>, content?: Record<string, unknown> }>
    }
    expect(operation.operationId).toBe('listUserDevices')
    // An integer with its bounds, which Swagger UI checks in words; no regex for it to quote.
    expect(operation.parameters.find((p) => p.name === 'userId')?.schema).toMatchObject({ type: 'integer', minimum: 0, maximum: 2147483647 })
    expect(operation.parameters.find((p) => p.name === 'userId')?.schema.pattern).toBeUndefined()
    expect(Object.keys(operation.responses).sort()).toStrictEqual(['200', '304', '400', '401', '403', '404', '409', '429', '500', '502', '503', '504'])
    for (const status of ['400', '401', '404', '409', '429', '500', '502', '503', '504']) expect(Object.keys(operation.responses[status]?.content ?? {})).toStrictEqual(['application/problem+json'])
    expect(Object.keys(operation.responses['200']?.headers ?? {})).toStrictEqual(['ETag', 'Cache-Status', 'Age', 'Cache-Control', 'Vary', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Link', 'Access-Control-Allow-Origin'])
    expect(Object.keys(operation.responses['429']?.headers ?? {})).toStrictEqual(['Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Access-Control-Allow-Origin'])
    // The /v1 rate-limit hook runs before anything can refuse a request: every answer below 500 says so.
    for (const status of ['304', '400', '401', '403', '404', '409']) expect(Object.keys(operation.responses[status]?.headers ?? {})).toContain('RateLimit-Reset')
    expect((operation as unknown as { security: unknown }).security).toStrictEqual([{ bearer: [] }])
    const device = CONTRACT.components.schemas.Device as { properties: Record<string, { type: unknown }> }
    expect(device.properties.ipAddress?.type).toStrictEqual(['string', 'null'])
    expect(device.properties.port?.type).toStrictEqual(['integer', 'null'])
    expect(device.properties.id?.type).toBe('integer')
  })

  it('documents CORS\'s Access-Control-Allow-Origin on every answer, as sent only when CORS_ORIGINS lists the Origin', () => {
    const answers = Object.values(CONTRACT.paths).flatMap((item) => Object.values(item).flatMap((operation) => Object.values(operation.responses)))
    expect(answers.length).toBeGreaterThan(20)
    for (const answer of answers) expect(answer.headers?.['Access-Control-Allow-Origin']).toMatchObject({ required: false, schema: { type: 'string' } })
  })

  it('says who may call each operation: a bearer credential on /v1, nobody else', () => {
    for (const [path, item] of Object.entries(CONTRACT.paths)) {
      for (const operation of Object.values(item as Record<string, { security?: unknown }>)) {
        expect(operation.security, path).toStrictEqual(path.startsWith('/v1/') ? [{ bearer: [] }] : [])
      }
    }
  })

  it('marks the legacy passthrough as one raw operation', () => {
    const legacy = CONTRACT.paths['/billing/api/{method}'] as unknown as Record<string, { operationId: string, 'x-raw-passthrough': boolean }>
    expect(Object.keys(legacy)).toStrictEqual(['get', 'post'])
    expect(legacy.post?.['x-raw-passthrough']).toBe(true)
    expect(legacy.get?.operationId).toBe('legacyPassthroughGet')
    // MOR's answer is XML or gzip, said so, not an anonymous byte stream.
    const ok = (legacy.get as unknown as { responses: Record<string, { content: Record<string, unknown> }> }).responses['200']
    expect(Object.keys(ok?.content ?? {})).toStrictEqual(['text/xml', 'application/gzip'])
  })

  it('gives frontend code types that follow the schema', () => {
    // A compile-time check as much as a runtime one: tsc fails if types.ts drifts from this shape.
    type Devices = paths['/v1/users/{userId}/devices']['get']['responses'][200]['content']['application/json']
    const sample: Devices = { userId: 2, devices: [{ id: 1, type: 'SIP', ipAddress: null, port: null, username: null, callerId: null, deviceGroupId: null, primary: null }], nextCursor: null }
    const problem: components['schemas']['Problem'] = { type: '/problems/not-found', title: 'Not found', status: 404, detail: 'x' }
    expect(sample.devices[0]?.id).toBe(1)
    expect(problem.status).toBe(404)
  })
})

describe('the response checker', () => {
  const url = 'http://gw/v1/users/2/devices'
  const okHeaders = new Headers({ 'content-type': 'application/json; charset=utf-8', etag: '"x"', 'cache-status': 'mor-gateway; hit', age: '1', 'cache-control': 'private, max-age=1', vary: 'Accept-Encoding', 'ratelimit-limit': '600', 'ratelimit-remaining': '599', 'ratelimit-reset': '60' })

  it('accepts a body that matches', () => {
    expect(() => checkContract('GET', url, 200, okHeaders, { userId: 2, devices: [], nextCursor: null })).not.toThrow()
  })

  it('rejects a body that does not match', () => {
    expect(() => checkContract('GET', url, 200, okHeaders, { userId: '2', devices: [], nextCursor: null })).toThrow(/does not match/)
    expect(() => checkContract('GET', url, 200, okHeaders, { userId: 2, devices: [{ id: 1 }], nextCursor: null })).toThrow(/does not match/)
    expect(() => checkContract('GET', url, 200, okHeaders, { userId: 2, devices: [] })).toThrow(/does not match/)
  })

  it('skips a header the contract marks as not always sent, and rejects a header value outside its schema', () => {
    expect(() => checkContract('GET', url, 200, new Headers({ ...Object.fromEntries(okHeaders), 'access-control-allow-origin': 'https://portal.example' }), { userId: 2, devices: [], nextCursor: null })).not.toThrow()
    const badAge = new Headers(okHeaders)
    badAge.set('age', '-1')
    expect(() => checkContract('GET', url, 200, badAge, { userId: 2, devices: [], nextCursor: null })).toThrow(/header Age of the 200 answer .* does not match/)
    const badControl = new Headers(okHeaders)
    badControl.set('cache-control', 'public')
    expect(() => checkContract('GET', url, 200, badControl, { userId: 2, devices: [], nextCursor: null })).toThrow(/header Cache-Control of the 200 answer .* does not match/)
  })

  it('rejects an undocumented status, a missing header and a wrong content type', () => {
    expect(() => checkContract('GET', url, 418, okHeaders, {})).toThrow(/not documented/)
    const noAge = new Headers(okHeaders)
    noAge.delete('age')
    expect(() => checkContract('GET', url, 200, noAge, { userId: 2, devices: [], nextCursor: null })).toThrow(/lacks the documented Age header/)
    expect(() => checkContract('GET', url, 400, new Headers({ 'content-type': 'application/json', 'ratelimit-limit': '600', 'ratelimit-remaining': '599', 'ratelimit-reset': '60' }), {})).toThrow(/content type application\/json/)
  })
})
