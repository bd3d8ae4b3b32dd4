// The OpenAPI contract: committed files match what the app generates and serves, the document is
// valid OpenAPI 3.1, it names its answers and narrows its problems from the one table, and the
// response checker used by the integration tests can fail.
import { readFileSync } from 'node:fs'
import { Validator } from '@seriousme/openapi-schema-validator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openApiDocument, DOCUMENTED_ENV } from '../../scripts/openapi.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { checkContract, CONTRACT } from '../helpers/contract.js'
import type { components, paths } from '../../openapi/types.js'
import { USER_ID_PATTERN } from '../../src/schemas/device.js'
import { LIMIT_PATTERN, TYPE_LIST_PATTERN } from '../../src/schemas/device-list.js'
import { OPERATION_PROBLEMS, type OperationId } from '../../src/schemas/problem-answers.js'
import { PROBLEM_SLUGS } from '../../src/problems/catalog.js'

interface DocResponse { content?: Record<string, { schema: unknown }> }

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

  it('describes the devices operation with its user id rule, nullable fields, problems and headers', () => {
    const operation = CONTRACT.paths['/v1/users/{userId}/devices']?.get as unknown as {
      operationId: string
      parameters: Array<{ name: string, in: string, schema: { type?: string, maxLength?: number, pattern?: string } }>
      responses: Record<string, { headers?: Record<string, unknown>, content?: Record<string, { schema: unknown }> }>
    }
    expect(operation.operationId).toBe('listUserDevices')
    // The text the route checks, so a validator in front of the gateway refuses `02` as the gateway does.
    expect(operation.parameters.find((p) => p.name === 'userId')?.schema).toMatchObject({ type: 'string', pattern: USER_ID_PATTERN, maxLength: 10 })
    expect(operation.parameters.find((p) => p.name === 'limit')?.schema).toMatchObject({ type: 'string', pattern: LIMIT_PATTERN })
    expect(operation.parameters.find((p) => p.name === 'type')?.schema).toMatchObject({ type: 'string', pattern: TYPE_LIST_PATTERN })
    expect(Object.keys(operation.responses).sort()).toStrictEqual(['200', '304', '400', '401', '403', '404', '409', '429', '500', '502', '503', '504'])
    for (const status of ['400', '401', '404', '409', '429', '500', '502', '503', '504']) expect(Object.keys(operation.responses[status]?.content ?? {})).toStrictEqual(['application/problem+json'])
    expect(operation.responses['200']?.content?.['application/json']?.schema).toStrictEqual({ anyOf: [{ $ref: '#/components/schemas/DeviceList' }, { $ref: '#/components/schemas/DevicePage' }] })
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

  it('names the list, page and details answers, the write bodies and the catalogue\'s answers as components', () => {
    expect(Object.keys(CONTRACT.components.schemas).sort()).toStrictEqual(['CallList', 'Device', 'DeviceCreate', 'DeviceCreated', 'DeviceDetails', 'DeviceList', 'DevicePage', 'DevicePatch', 'PaymentList', 'Problem', 'User', 'UserList'])
    const details = CONTRACT.paths['/v1/devices/{deviceId}']?.get as unknown as { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }
    expect(details.responses['200']?.content?.['application/json']?.schema).toStrictEqual({ $ref: '#/components/schemas/DeviceDetails' })
    const bodyOf = (path: string, method: string) => (CONTRACT.paths[path]?.[method] as unknown as { requestBody?: { content: Record<string, { schema: unknown }> } }).requestBody?.content
    expect(bodyOf('/v1/users/{userId}/devices', 'post')).toStrictEqual({ 'application/json': { schema: { $ref: '#/components/schemas/DeviceCreate' } } })
    expect(bodyOf('/v1/devices/{deviceId}', 'patch')).toStrictEqual({ 'application/merge-patch+json': { schema: { $ref: '#/components/schemas/DevicePatch' } } })
  })

  it('narrows each problem answer to the types, title and status its row of the table gives, and lists every status of every operation', () => {
    const narrowed = (response: DocResponse | undefined) => {
      const schema = response?.content?.['application/problem+json']?.schema as { allOf: [unknown, { properties: Record<string, { enum: unknown[] }> }] } | undefined
      return { type: schema?.allOf[1].properties.type?.enum, status: schema?.allOf[1].properties.status?.enum }
    }
    for (const [path, item] of Object.entries(CONTRACT.paths)) {
      for (const operation of Object.values(item) as Array<{ operationId: OperationId, responses: Record<string, DocResponse> }>) {
        const table = OPERATION_PROBLEMS[operation.operationId] as Record<number, { slugs: readonly string[] }>
        const problemStatuses = Object.entries(operation.responses).filter(([, response]) => response.content?.['application/problem+json']).map(([status]) => status)
        expect(problemStatuses, `${path} ${operation.operationId}`).toStrictEqual(Object.keys(table))
        for (const status of problemStatuses) {
          expect(narrowed(operation.responses[status]), `${operation.operationId} ${status}`).toStrictEqual({
            type: table[Number(status)]?.slugs.map((slug) => `/problems/${slug}`),
            status: [Number(status)]
          })
        }
      }
    }
    expect(narrowed(CONTRACT.paths['/v1/users/{userId}/devices']?.get?.responses['409']).type).toStrictEqual(['/problems/stale-cursor'])
    // Shedding load is answered on every route but liveness (a busy process is alive).
    for (const [path, item] of Object.entries(CONTRACT.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const carries503Overloaded = narrowed(operation.responses['503']).type?.includes('/problems/overloaded') === true
        expect(carries503Overloaded, `${method} ${path}`).toBe(path !== '/health/live')
      }
    }
  })

  it('answers every problem type of the catalog on some operation', () => {
    const answered = new Set(Object.values(OPERATION_PROBLEMS).flatMap((answers) => Object.values(answers as Record<number, { slugs: readonly string[] }>).flatMap(({ slugs }) => slugs)))
    expect([...answered].sort()).toStrictEqual([...PROBLEM_SLUGS].sort())
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

  it('marks the legacy passthrough as one raw path, its POST body as MOR\'s parameters in a form, a multipart form or JSON', () => {
    const legacy = CONTRACT.paths['/billing/api/{method}'] as unknown as Record<string, {
      operationId: string
      'x-raw-passthrough': boolean
      requestBody?: { required: boolean, content: Record<string, { schema: { type: string, properties: Record<string, unknown>, additionalProperties: unknown } }> }
      responses: Record<string, { headers?: Record<string, unknown>, content?: Record<string, unknown> }>
    }>
    expect(Object.keys(legacy)).toStrictEqual(['get', 'post', 'head'])
    expect(legacy.post?.['x-raw-passthrough']).toBe(true)
    expect(legacy.get?.operationId).toBe('legacyPassthroughGet')
    // MOR's answer is XML or gzip, said so, not an anonymous byte stream.
    expect(Object.keys(legacy.get?.responses['200']?.content ?? {})).toStrictEqual(['text/xml', 'application/gzip', 'application/octet-stream'])
    const body = legacy.post?.requestBody
    expect(body?.required).toBe(false)
    expect(Object.keys(body?.content ?? {})).toStrictEqual(['application/x-www-form-urlencoded', 'multipart/form-data', 'application/json'])
    for (const media of Object.values(body?.content ?? {})) {
      expect(media.schema.type).toBe('object')
      expect(Object.keys(media.schema.properties)).toEqual(expect.arrayContaining(['u', 'p', 'hash', 'user_id', 'device_id', 'device']))
      expect(media.schema.additionalProperties).toMatchObject({ maxLength: expect.any(Number) as number })
    }
    // HEAD on a write method is refused, naming the methods that would do.
    expect(Object.keys(legacy.head?.responses ?? {})).toContain('405')
    expect(Object.keys(legacy.head?.responses['405']?.headers ?? {})).toStrictEqual(['Allow', 'Access-Control-Allow-Origin'])
    expect(legacy.head?.responses['200']?.content).toBeUndefined()
  })

  it('gives frontend code types that follow the schema, with named answers and narrowed problems', () => {
    // A compile-time check as much as a runtime one: tsc fails if types.ts drifts from this shape.
    type Devices = paths['/v1/users/{userId}/devices']['get']['responses'][200]['content']['application/json']
    const list: components['schemas']['DeviceList'] = { userId: 2, devices: [{ id: 1, type: 'SIP', ipAddress: null, port: null, username: null, callerId: null, deviceGroupId: null, primary: null }], nextCursor: null }
    const page: components['schemas']['DevicePage'] = { ...list, nextCursor: 'MS4y' }
    const sample: Devices = page
    const details: components['schemas']['DeviceDetails']['codecs'] = { audio: ['alaw'], video: [] }
    const problem: components['schemas']['Problem'] = { type: '/problems/not-found', title: 'Not found', status: 404, detail: 'x' }
    type Stale = paths['/v1/users/{userId}/devices']['get']['responses'][409]['content']['application/problem+json']
    const stale: Stale = { type: '/problems/stale-cursor', title: 'Stale cursor', status: 409, detail: 'x' }
    // @ts-expect-error a 409 carries no other problem type
    const notStale: Stale['type'] = '/problems/overloaded'
    expect([sample.devices[0]?.id, details?.audio, problem.status, stale.type, notStale]).toStrictEqual([1, ['alaw'], 404, '/problems/stale-cursor', '/problems/overloaded'])
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

  it('checks the contract\'s string formats: a device\'s date-time and a user\'s date', () => {
    const details = (CONTRACT.components.schemas.DeviceDetails as { examples: Array<Record<string, unknown>> }).examples[0] as Record<string, unknown>
    const deviceUrl = 'http://gw/v1/devices/5'
    expect(() => checkContract('GET', deviceUrl, 200, okHeaders, details)).not.toThrow()
    expect(() => checkContract('GET', deviceUrl, 200, okHeaders, { ...details, registrationExpires: '2025-13-15T10:30:00Z' })).toThrow(/does not match/)
    const user = (CONTRACT.components.schemas.User as { examples: Array<Record<string, unknown>> }).examples[0] as { agreement: Record<string, unknown> }
    const userUrl = 'http://gw/v1/users/2'
    expect(() => checkContract('GET', userUrl, 200, okHeaders, user)).not.toThrow()
    expect(() => checkContract('GET', userUrl, 200, okHeaders, { ...user, agreement: { ...user.agreement, date: '2023-02-29' } })).toThrow(/does not match/)
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
