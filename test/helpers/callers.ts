// Shared set-up of the caller tests (keys, rate limits, CORS, proxies): one MOR simulator, a temp
// folder for key files, gateways closed after each test, and the problems they answer.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { problem } from './expected.js'
import { getJson, startGateway, TEST_API_SECRET, TEST_API_USER, type TestGateway } from './gateway.js'

export { problem }
export const MISSING_KEY = problem('unauthorized', 'Unauthorized', 401, 'Send an API key or a token as Authorization: Bearer <value>')
export const INVALID_KEY = problem('unauthorized', 'Unauthorized', 401, 'The API key or token is not valid')
export const RATE_LIMITED = problem('rate-limited', 'Too many requests', 429, 'Too many requests from this caller in this minute')
export const BUDGET_SPENT = problem('rate-limited', 'Too many requests', 429, 'This API key has used its budget of calls to MOR for this minute')
export const LEGACY_FORBIDDEN = problem('forbidden', 'Forbidden', 403, 'This client address may not use the legacy passthrough')
export const CHALLENGE = 'Bearer realm="mor-gateway"'
export const INVALID_TOKEN_CHALLENGE = 'Bearer realm="mor-gateway", error="invalid_token"'

export const KEY_ONE = 'file-key-one-0123456789'
export const KEY_TWO = 'file-key-two-0123456789'
export const KEY_THREE = 'file-key-three-0123456789'
export const OTHER_KEY = 'other-key-fedcba9876543210'
export const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

/** Registers the hooks in the calling test file and returns what its tests use. */
export function callerHarness () {
  const state = { sim: undefined as unknown as MorSimulator, dir: '' }
  const gateways: TestGateway[] = []
  beforeAll(async () => {
    state.sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
    state.dir = await mkdtemp(join(tmpdir(), 'mor-gateway-keys-'))
  })
  afterAll(async () => {
    await state.sim.close()
    await rm(state.dir, { recursive: true, force: true })
  })
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gw) => gw.close()))
  })
  return {
    get sim () { return state.sim },
    get dir () { return state.dir },
    async gateway (env: Record<string, string> = {}): Promise<TestGateway> {
      const gw = await startGateway(state.sim.url, env)
      gateways.push(gw)
      return gw
    },
    callsFor: (userId: number) => state.sim.calls.byUser.get(String(userId)) ?? 0,
    statusWith: async (url: string, key: string) => (await getJson(url, bearer(key))).status,
    logged: (gw: TestGateway) => gw.logs.map((line) => JSON.parse(line) as { level: number, msg: string, req?: { url: string, remoteAddress: string } })
  }
}

export { waitFor } from './wait.js'
