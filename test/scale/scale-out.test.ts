// Scale-out: several compiled gateways (as operators run them) behind a round-robin client, sharing
// one Redis and one MOR simulator. They must act as one gateway: one cache, one rate-limit budget,
// about one upstream call per cold user, and no failed request when an instance dies mid-run.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_API_SECRET, DEMO_API_USER } from '../../src/demo/data.js'
import { STATS_PATH } from '../../src/demo/simulator.js'
import { freePort } from '../../scripts/ports.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'
import { expectedBulkBody } from '../helpers/expected.js'
import { INSTANCE } from '../helpers/expected.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const SIM_DELAY_MS = 100
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Child { name: string, proc: ChildProcess, url: string, output: () => string, exited: Promise<void> }

const children = new Set<Child>()
// Timeouts bound every request, so no loop below can hang on a dead instance.
const agent = new Agent({ headersTimeout: 15_000, bodyTimeout: 15_000 })
let redis: TestRedis | undefined
let simUrl = ''

async function stop (child: Child): Promise<void> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) {
    child.proc.kill('SIGTERM')
    const timer = setTimeout(() => child.proc.kill('SIGKILL'), 5000)
    await child.exited
    clearTimeout(timer)
  }
  children.delete(child)
}

/** `node <script>` on a free port, once `ready` says so; a port another test took meanwhile gets a retry. */
async function startChild (name: string, script: string, env: (port: number) => Record<string, string>, ready: (url: string) => Promise<boolean>): Promise<Child> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const proc = spawn(process.execPath, [script], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env(port) }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const keep = (chunk: Buffer) => { output = (output + chunk.toString('utf8')).slice(-16_384) }
    proc.stdout?.on('data', keep)
    proc.stderr?.on('data', keep)
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
    const child: Child = { name, proc, url: `http://127.0.0.1:${port}`, output: () => output, exited }
    children.add(child)
    const deadline = Date.now() + 30_000
    while (proc.exitCode === null && proc.signalCode === null && Date.now() < deadline) {
      if (await ready(child.url).catch(() => false)) return child
      await sleep(50)
    }
    await stop(child)
    if (attempt === 3 || Date.now() >= deadline) throw new Error(`${name} did not start:\n${output}`)
  }
}

// Ready only once its Redis client is connected: before that a gateway neither shares its cache
// nor counts requests in Redis (both fail open), and the assertions below would be about luck.
async function redisUp (url: string): Promise<boolean> {
  const res = await request(`${url}/health/ready`, { dispatcher: agent })
  const body = await res.body.json() as { checks?: { redis?: string } }
  return res.statusCode === 200 && body.checks?.redis === 'up'
}

function startCluster (size: number, key: string, env: Record<string, string>): Promise<Child[]> {
  return Promise.all(Array.from({ length: size }, (_, i) => startChild(`gateway ${i + 1}`, 'dist/src/server.js', (port) => ({
    PORT: String(port),
    MOR_URL: `${simUrl}/billing`,
    MOR_API_USER: DEMO_API_USER,
    MOR_API_SECRET: DEMO_API_SECRET,
    GATEWAY_API_KEYS: key,
    REDIS_URL: redis?.url ?? '',
    LOG_LEVEL: 'warn',
    ...env
  }), redisUp)))
}

async function upstreamCalls (userId: number): Promise<number> {
  const res = await request(simUrl + STATS_PATH, { dispatcher: agent })
  const stats = await res.body.json() as { byUser: Record<string, number> }
  return stats.byUser[String(userId)] ?? 0
}

interface Answer { status: number, cacheStatus: string, etag: string, remaining: string, body: string }

async function getVia (base: string, path: string, key: string): Promise<Answer> {
  const res = await request(base + path, { headers: { authorization: `Bearer ${key}` }, dispatcher: agent })
  const header = (name: string) => String(res.headers[name] ?? '')
  return { status: res.statusCode, cacheStatus: header('cache-status'), etag: header('etag'), remaining: header('ratelimit-remaining'), body: await res.body.text() }
}

/**
 * The next instance for each request. One that refuses or drops a connection is taken out and the
 * request goes to the next, as a load balancer with health checks would do for a GET.
 */
function roundRobin (instances: Child[], key: string) {
  const down = new Set<number>()
  let next = 0
  let retries = 0
  const pick = () => {
    for (let n = 0; n < instances.length; n++) {
      const i = next++ % instances.length
      if (!down.has(i)) return i
    }
    throw new Error('every instance is down')
  }
  return {
    down,
    retries: () => retries,
    at: (i: number, path: string) => getVia(instances[i]?.url ?? '', path, key),
    async get (path: string): Promise<Answer> {
      for (;;) {
        const i = pick()
        try {
          return await getVia(instances[i]?.url ?? '', path, key)
        } catch {
          down.add(i)
          retries++
        }
      }
    }
  }
}

const devicesPath = (userId: number) => `/v1/users/${userId}/devices`

beforeAll(async () => {
  // The gateways run as built, the way `npm start` runs them.
  redis = await startRedis()
  const sim = await startChild('MOR simulator', 'dist/src/demo/main.js', (port) => ({ MOR_SIM_PORT: String(port), MOR_SIM_DELAY_MS: String(SIM_DELAY_MS) }),
    async (url) => (await request(url + STATS_PATH, { dispatcher: agent }).then((res) => res.body.dump().then(() => res.statusCode))) === 200)
  simUrl = sim.url
}, 180_000)

afterAll(async () => {
  await agent.close()
  await Promise.all([...children].map(stop))
  await redis?.close()
}, 30_000)

describe.each([3, 2])('%i gateway instances sharing one Redis', (size) => {
  const key = `scale-${size}-key-0123456789abcdef`
  const limitedKey = `scale-${size}-limited-0123456789`
  // This variant's users: bulk users no other variant asks for, so upstream counts are its own.
  const base = size * 50_000
  let gateways: Child[] = []
  let limited: Child[] = []

  beforeAll(async () => {
    const [open, strict] = await Promise.all([
      // Limits out of the way unless a test is about them; a short upstream timeout so the lock a
      // killed instance leaves behind expires within seconds (UPSTREAM_TIMEOUT_MS + 1 s).
      startCluster(size, key, { RATE_LIMIT_PER_MINUTE: '1000000', UPSTREAM_BUDGET_PER_MINUTE: '1000000', UPSTREAM_TIMEOUT_MS: '3000' }),
      startCluster(size, limitedKey, { RATE_LIMIT_PER_MINUTE: '30' })
    ])
    gateways = open
    limited = strict
  }, 90_000)
  afterAll(async () => { await Promise.all([...gateways, ...limited].map(stop)) }, 30_000)

  it('serves a user fetched through one instance as a hit from every other, with one upstream call', async () => {
    const userId = base + 1
    const lb = roundRobin(gateways, key)
    const first = await lb.get(devicesPath(userId))
    const others: Answer[] = []
    for (let n = 1; n < size; n++) others.push(await lb.get(devicesPath(userId)))

    expect([first.status, first.cacheStatus]).toStrictEqual([200, 'mor-gateway; fwd=miss; stored'])
    expect(JSON.parse(first.body)).toStrictEqual(expectedBulkBody(userId))
    expect(others.map((a) => ({ status: a.status, hit: a.cacheStatus.startsWith('mor-gateway; hit'), etag: a.etag, body: a.body })))
      .toStrictEqual(Array.from({ length: size - 1 }, () => ({ status: 200, hit: true, etag: first.etag, body: first.body })))
    expect(await upstreamCalls(userId)).toBe(1)
  })

  it('enforces one rate-limit budget: 30 requests round-robin pass, the 31st is 429 on every instance', async () => {
    const lb = roundRobin(limited, limitedKey)
    const path = devicesPath(base + 2)
    const passed: Answer[] = []
    for (let n = 0; n < 30; n++) passed.push(await lb.get(path))
    const refused: Answer[] = []
    for (let i = 0; i < size; i++) refused.push(await lb.at(i, path))

    expect(passed.map((a) => [a.status, a.remaining])).toStrictEqual(Array.from({ length: 30 }, (_, n) => [200, String(29 - n)]))
    expect(refused.map((a) => ({ status: a.status, remaining: a.remaining, body: JSON.parse(a.body) as unknown }))).toStrictEqual(Array.from({ length: size }, () => ({
      status: 429,
      remaining: '0',
      body: { type: '/problems/rate-limited', title: 'Too many requests', status: 429, detail: 'Too many requests from this caller in this minute', instance: INSTANCE }
    })))
  })

  it('coalesces 300 concurrent requests for one cold user into at most one upstream call per instance', async () => {
    const userId = base + 3
    const lb = roundRobin(gateways, key)
    const answers = await Promise.all(Array.from({ length: 300 }, () => lb.get(devicesPath(userId))))

    expect(answers.filter((a) => a.status !== 200)).toStrictEqual([])
    expect(new Set(answers.map((a) => a.body)).size).toBe(1)
    expect(JSON.parse(answers[0]?.body ?? '')).toStrictEqual(expectedBulkBody(userId))
    // Ideally 1 (the Redis lock); a request that looked Redis up just before the first call stored
    // its answer and locked just after it unlocked makes a second one, so 1 is not guaranteed.
    const calls = await upstreamCalls(userId)
    expect(calls).toBeGreaterThanOrEqual(1)
    expect(calls).toBeLessThanOrEqual(size)
  })

  // Last in this block: it kills gateway 1.
  it('answers all of 300 requests from the others when an instance is SIGKILLed mid-run, and they still share the cache', async () => {
    const RUN = 300
    const KILL_AT = 100
    const CONCURRENCY = 6
    const lb = roundRobin(gateways, key)
    const hot = Array.from({ length: 10 }, (_, n) => base + 100 + n)
    for (const id of hot) await lb.get(devicesPath(id))
    expect(await Promise.all(hot.map(upstreamCalls))).toStrictEqual(hot.map(() => 1))

    // Half hits on warm users, half cold users: the victim dies with misses in flight, each holding
    // the cross-instance lock that the request retried elsewhere then waits out.
    const pathOf = (n: number) => devicesPath(n % 2 === 0 ? hot[(n / 2) % hot.length] ?? 0 : base + 1000 + n)
    const victim = gateways[0] as Child
    const outcomes: Array<number | string> = []
    let issued = 0
    const client = async () => {
      while (issued < RUN) {
        const n = issued++
        if (n === KILL_AT) victim.proc.kill('SIGKILL')
        outcomes.push(await lb.get(pathOf(n)).then((a) => a.status, (err: unknown) => String(err)))
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, client))
    await victim.exited

    expect(victim.proc.signalCode).toBe('SIGKILL')
    expect(outcomes).toStrictEqual(Array.from({ length: RUN }, () => 200))
    expect([...lb.down]).toStrictEqual([0])
    expect(lb.retries()).toBeGreaterThanOrEqual(1)

    // The survivors still share one cache: what the victim stored, and what one of them stores now.
    const fresh = base + 50
    const first = await lb.at(1, devicesPath(fresh))
    const hits: boolean[] = []
    for (let i = 1; i < size; i++) {
      for (const id of i === 1 ? hot : [...hot, fresh]) {
        const answer = await lb.at(i, devicesPath(id))
        hits.push(answer.status === 200 && answer.cacheStatus.startsWith('mor-gateway; hit'))
      }
    }
    expect(first.cacheStatus).toBe('mor-gateway; fwd=miss; stored')
    expect(hits).toStrictEqual(hits.map(() => true))
    expect(await Promise.all([...hot, fresh].map(upstreamCalls))).toStrictEqual([...hot, fresh].map(() => 1))
  }, 60_000)
})
