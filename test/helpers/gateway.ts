// Starts the gateway app on a real loopback socket, built as server.ts builds it, with its logs
// captured so a test can check what was (and was not) written.
import type { FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { checkContract } from './contract.js'

export const TEST_API_USER = 'admin'
export const TEST_API_SECRET = 'test-secret-9f8e7d'
/** The gateway API key test gateways accept, and the header that sends it. */
export const TEST_API_KEY = 'test-key-0123456789abcdef'
export const AUTH = { authorization: `Bearer ${TEST_API_KEY}` }

export interface TestGateway {
  app: FastifyInstance
  url: string
  config: Config
  logs: string[]
  close: () => Promise<void>
}

/** `beforeListen` runs on the built app before it listens (and so before it is ready). */
export async function startGateway (morUrl: string, env: Record<string, string> = {}, { beforeListen }: { beforeListen?: (app: FastifyInstance) => void } = {}): Promise<TestGateway> {
  const config = loadConfig({
    MOR_URL: morUrl,
    MOR_API_USER: TEST_API_USER,
    MOR_API_SECRET: TEST_API_SECRET,
    GATEWAY_API_KEYS: TEST_API_KEY,
    LOG_LEVEL: 'debug',
    // Limits stay out of the way unless a test is about them.
    RATE_LIMIT_PER_MINUTE: '1000000',
    UPSTREAM_BUDGET_PER_MINUTE: '1000000',
    ...env
  })
  const logs: string[] = []
  const instance = await buildApp(config, { logStream: { write (line) { logs.push(line) } } })
  beforeListen?.(instance)
  await instance.listen({ host: '127.0.0.1', port: 0 })
  const { port } = instance.server.address() as AddressInfo
  return { app: instance, url: `http://127.0.0.1:${port}`, config, logs, close: () => instance.close() }
}

/**
 * A JSON GET, with the test API key unless `auth` is false, that returns status, content type
 * and parsed body. Every answer of a documented
 * route is checked against the committed OpenAPI contract on the way.
 */
export async function getJson (url: string, headers: Record<string, string> = {}, { auth = true } = {}) {
  const res = await fetch(url, { headers: auth ? { ...AUTH, ...headers } : headers })
  const text = await res.text()
  const body = text === '' ? undefined : JSON.parse(text) as unknown
  checkContract('GET', url, res.status, res.headers, body)
  return { status: res.status, type: res.headers.get('content-type'), headers: res.headers, body }
}

/** Settings that turn caching off, for tests about what happens on every upstream call. */
export const NO_CACHE = { CACHE_TTL_SECONDS: '0', CACHE_STALE_SECONDS: '0', CACHE_NEGATIVE_TTL_SECONDS: '0' }

/**
 * A device write (or any request with a JSON body) with the test API key unless `headers` names
 * another: status, headers and parsed body, checked against the committed contract like getJson.
 */
export async function sendJson (method: string, url: string, body?: unknown, headers: Record<string, string> = {}, type = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json') {
  const res = await fetch(url, {
    method,
    headers: { ...AUTH, ...(body === undefined ? {} : { 'content-type': type }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) })
  })
  const text = await res.text()
  const parsed = text === '' ? undefined : JSON.parse(text) as unknown
  checkContract(method, url, res.status, res.headers, parsed)
  return { status: res.status, headers: res.headers, body: parsed, text }
}
