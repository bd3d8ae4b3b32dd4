// npm run soak: one gateway (with Redis when redis-server is installed) under a steady mixed load
// at a fixed rate, everything on loopback: ~70% cache hits on a few users, ~20% misses over the
// bulk users, ~10% legacy passthrough. Fails (exit 1) on any error, or when the gateway's RSS grows
// 10% or more from the end of the warm-up to the end of the run. SOAK_SECONDS=15 is the short form
// CI runs. Writes bench/results/soak.json.
import { spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Pool } from 'undici'
import { BULK_LAST_ID, DEMO_API_SECRET, DEMO_API_USER } from '../src/demo/data.js'
import { STATS_PATH } from '../src/demo/simulator.js'
import { devicesGetHash } from '../src/mor/sign.js'
import { DIST, freePort, killAll, ROOT, startProcess, stopProcess } from './lib.js'

function setting (name: string, def: number): number {
  const raw = process.env[name]
  const value = raw === undefined || raw === '' ? def : Number(raw)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number >= 1`)
  return value
}

const SECONDS = setting('SOAK_SECONDS', 60)
const RATE = setting('SOAK_RATE', 200)
const CONNECTIONS = setting('SOAK_CONNECTIONS', 32)
const SEED = setting('SOAK_SEED', 42)
// SOAK_REDIS=true|false; unset: with Redis when redis-server is installed.
const REDIS = process.env.SOAK_REDIS === undefined || process.env.SOAK_REDIS === ''
  ? spawnSync('sh', ['-c', 'command -v redis-server']).status === 0
  : process.env.SOAK_REDIS === 'true'
const WARMUP_SECONDS = 5
const HIT_SHARE = 0.7
const MISS_SHARE = 0.2
/**
 * The in-process tier's bound. Misses over a million users add entries for the whole run (the
 * default 10,000 fill in about 4 minutes at 40 misses/s), and a filling cache is growth by design,
 * not a leak. Sized to fill in half the warm-up, the working set is steady before the first sample,
 * so what grows after it is memory the gateway should not hold. SOAK_CACHE_ENTRIES=10000 runs the
 * default size instead.
 */
const CACHE_ENTRIES = setting('SOAK_CACHE_ENTRIES', Math.ceil((RATE * MISS_SHARE * WARMUP_SECONDS) / 2))
const SAMPLE_EVERY_MS = 5000
const MAX_GROWTH_PERCENT = 10
/** Past the schedule by this much, the runner stops sending: the run stays bounded in time. */
const LATE_LIMIT_MS = 30_000
const SIM_DELAY_MS = 20
/**
 * RSS is sampled right after a full GC, which this preload lets the runner ask for: otherwise the
 * figure mostly says how much garbage V8 let pile up before its next major GC (tens of MB at this
 * rate), not what the gateway retains. SIGWINCH because close-with-grace takes SIGHUP, SIGUSR2 and
 * the usual signals to mean "shut down", and because by default SIGWINCH does nothing.
 */
const GC_ON_SIGNAL = 'data:text/javascript,process.on("SIGWINCH",()=>globalThis.gc())'
const GC_SETTLE_MS = 250
const KEY = 'soak-key-0123456789abcdef'
// Seeded users 2..5 and twenty bulk users: the hot set every hit comes from.
const HOT = [2, 3, 4, 5, ...Array.from({ length: 20 }, (_, n) => 1000 + n)]
const COLD_FIRST_ID = 2000
const node = process.execPath
const dist = (path: string) => fileURLToPath(new URL(path, DIST))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** mulberry32: the same mix on every run. */
function random (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Kind = 'hit' | 'miss' | 'legacy'
interface Planned { kind: Kind, path: string, headers: Record<string, string> }

function planner (seed: number): () => Planned {
  const next = random(seed)
  const v1 = { authorization: `Bearer ${KEY}`, 'accept-encoding': 'br, gzip' }
  const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)] as T
  return () => {
    const r = next()
    if (r < HIT_SHARE) return { kind: 'hit', path: `/v1/users/${pick(HOT)}/devices`, headers: v1 }
    if (r < HIT_SHARE + MISS_SHARE) return { kind: 'miss', path: `/v1/users/${COLD_FIRST_ID + Math.floor(next() * (BULK_LAST_ID - COLD_FIRST_ID + 1))}/devices`, headers: v1 }
    const id = pick(HOT)
    return { kind: 'legacy', path: `/billing/api/devices_get?u=${DEMO_API_USER}&user_id=${id}&hash=${devicesGetHash(id, DEMO_API_SECRET)}`, headers: {} }
  }
}

async function metrics (url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`)
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`)
  return await res.text()
}
const gauge = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN)
/** RSS, with the V8 heap and Buffer memory in it to tell where growth is. */
const memoryOf = (text: string) => ({
  bytes: gauge(text, 'process_resident_memory_bytes'),
  heapUsedBytes: gauge(text, 'nodejs_heap_size_used_bytes'),
  externalBytes: gauge(text, 'nodejs_external_memory_bytes')
})
const cacheResultsOf = (text: string) => Object.fromEntries([...text.matchAll(/^gateway_cache_results_total\{result="([a-z-]+)"\} (\d+)/gm)].map((m) => [m[1], Number(m[2])]))

async function waitUntil (check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${timeoutMs} ms`)
    await sleep(100)
  }
}

async function start () {
  const simPort = await freePort()
  const sim = await startProcess(node, [dist('src/demo/main.js')], simPort, { MOR_SIM_PORT: String(simPort), MOR_SIM_DELAY_MS: String(SIM_DELAY_MS) })
  const redisPort = REDIS ? await freePort() : 0
  const redis = REDIS ? await startProcess('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], redisPort) : undefined
  const port = await freePort()
  // As deployed (access log at the default level) but for the in-process tier's bound; limits out of the way.
  const gateway = await startProcess(node, ['--expose-gc', '--import', GC_ON_SIGNAL, dist('src/server.js')], port, {
    MOR_URL: `http://127.0.0.1:${simPort}/billing`,
    MOR_API_USER: DEMO_API_USER,
    MOR_API_SECRET: DEMO_API_SECRET,
    GATEWAY_API_KEYS: KEY,
    RATE_LIMIT_PER_MINUTE: '10000000',
    UPSTREAM_BUDGET_PER_MINUTE: '10000000',
    CACHE_MAX_ENTRIES: String(CACHE_ENTRIES),
    REDIS_URL: redis ? `redis://127.0.0.1:${redisPort}` : '',
    PORT: String(port)
  })
  const url = `http://127.0.0.1:${port}`
  if (redis) await waitUntil(async () => /^gateway_redis_up 1$/m.test(await metrics(url)), 'the gateway\'s Redis connection')
  return { url, gateway, simUrl: `http://127.0.0.1:${simPort}`, children: [gateway, sim, ...(redis ? [redis] : [])] }
}

const percentile = (sorted: Float64Array, p: number) => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN

async function soak (url: string, gateway: ChildProcess) {
  const total = SECONDS * RATE
  const pool = new Pool(url, { connections: CONNECTIONS, headersTimeout: 10_000, bodyTimeout: 10_000 })
  const plan = planner(SEED)
  const latencies: number[] = []
  const byKind: Record<Kind, { sent: number, byStatus: Record<string, number> }> = { hit: { sent: 0, byStatus: {} }, miss: { sent: 0, byStatus: {} }, legacy: { sent: 0, byStatus: {} } }
  const errorSamples: string[] = []
  let errors = 0
  let inFlight = 0
  let freed: (() => void) | undefined
  const release = () => { inFlight--; freed?.(); freed = undefined }

  // Latency counts from when a request was due, not when a free connection let it go: a gateway
  // that falls behind shows it (no coordinated omission).
  async function one ({ kind, path, headers }: Planned, due: number, measured: boolean): Promise<void> {
    let outcome: string
    try {
      const res = await pool.request({ method: 'GET', path, headers })
      await res.body.dump({ limit: Infinity })
      outcome = String(res.statusCode)
      if (res.statusCode >= 400) errors++
    } catch (err) {
      outcome = (err as { code?: string }).code ?? 'error'
      errors++
    }
    if (measured) latencies.push(performance.now() - due)
    const counts = byKind[kind].byStatus
    counts[outcome] = (counts[outcome] ?? 0) + 1
    if (!/^[23]/.test(outcome) && errorSamples.length < 10) errorSamples.push(`${kind} ${path.split('?')[0] ?? ''}: ${outcome}`)
  }

  const rss: Array<{ atSeconds: number } & ReturnType<typeof memoryOf>> = []
  const began = performance.now()
  const sample = async () => {
    const atSeconds = Math.round((performance.now() - began) / 1000)
    gateway.kill('SIGWINCH')
    await sleep(GC_SETTLE_MS)
    const taken = { atSeconds, ...memoryOf(await metrics(url)) }
    rss.push(taken)
    return taken
  }
  const sampler = setInterval(() => { sample().catch(() => {}) }, SAMPLE_EVERY_MS)
  const running = new Set<Promise<void>>()
  let sent = 0
  for (; sent < total; sent++) {
    const due = began + (sent * 1000) / RATE
    const ahead = due - performance.now()
    if (ahead > 1) await sleep(ahead)
    // Only this loop takes connections, so one release is enough to go on.
    if (inFlight >= CONNECTIONS) await new Promise<void>((resolve) => { freed = resolve })
    if (performance.now() - due > LATE_LIMIT_MS) break
    const planned = plan()
    byKind[planned.kind].sent++
    inFlight++
    const request = one(planned, due, due - began >= WARMUP_SECONDS * 1000).finally(release)
    running.add(request)
    request.finally(() => running.delete(request)).catch(() => {})
  }
  await Promise.all(running)
  const seconds = (performance.now() - began) / 1000
  clearInterval(sampler)
  const end = await sample()
  await pool.close()
  const sorted = Float64Array.from(latencies).sort()
  // A request the runner could not send in time counts as an error too.
  return { total, sent, seconds, errors: errors + (total - sent), errorSamples, byKind, rss, end, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] ?? NaN }
}

async function main () {
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`
  process.stdout.write(`soak: ${SECONDS} s at ${RATE} req/s, ${CONNECTIONS} connections, ${REDIS ? 'with' : 'without'} Redis, in-process tier of ${CACHE_ENTRIES} entries, on ${machine}\n`)
  const { url, gateway, simUrl, children } = await start()
  // The hot set is cached before the clock starts, so its requests are hits from the first one.
  for (const id of HOT) {
    const res = await fetch(`${url}/v1/users/${id}/devices`, { headers: { authorization: `Bearer ${KEY}` } })
    await res.arrayBuffer()
    if (res.status !== 200) throw new Error(`warming user ${id} answered ${res.status}`)
  }
  const upstreamBefore = (await (await fetch(simUrl + STATS_PATH)).json() as { total: number }).total
  const run = await soak(url, gateway)
  const cacheResults = cacheResultsOf(await metrics(url))
  const upstreamCalls = (await (await fetch(simUrl + STATS_PATH)).json() as { total: number }).total - upstreamBefore
  await Promise.all(children.map(stopProcess))

  // The first sample at or after the warm-up is the start; the one taken after the last answer, the end.
  const first = run.rss.find((s) => s.atSeconds >= WARMUP_SECONDS) ?? run.rss[0]
  const last = run.end
  const growth = first && last ? ((last.bytes - first.bytes) / first.bytes) * 100 : NaN
  const pass = run.errors === 0 && growth < MAX_GROWTH_PERCENT
  const mib = (bytes: number | undefined) => bytes === undefined ? '-' : (bytes / 1024 ** 2).toFixed(1)
  const summary = `soak ${pass ? 'PASS' : 'FAIL'}: ${run.sent}/${run.total} requests in ${run.seconds.toFixed(1)} s ` +
    `(${(run.sent / run.seconds).toFixed(0)} req/s; hit ${run.byKind.hit.sent}, miss ${run.byKind.miss.sent}, legacy ${run.byKind.legacy.sent}), ` +
    `${run.errors} errors, p50 ${run.p50.toFixed(1)} ms, p99 ${run.p99.toFixed(1)} ms, ` +
    `RSS ${mib(first?.bytes)} -> ${mib(last?.bytes)} MiB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)}%, limit ${MAX_GROWTH_PERCENT}%), ${upstreamCalls} upstream calls`
  for (const line of run.errorSamples) process.stdout.write(`  error: ${line}\n`)
  process.stdout.write(`${summary}\n`)

  const outDir = new URL('bench/results/', ROOT)
  mkdirSync(outDir, { recursive: true })
  writeFileSync(new URL('soak.json', outDir), JSON.stringify({
    date: new Date().toISOString(),
    machine,
    settings: { seconds: SECONDS, rate: RATE, connections: CONNECTIONS, seed: SEED, redis: REDIS, cacheEntries: CACHE_ENTRIES, warmupSeconds: WARMUP_SECONDS, simDelayMs: SIM_DELAY_MS, latencyFrom: 'scheduled send time, after the warm-up', rssAfter: 'a full GC' },
    requests: { planned: run.total, sent: run.sent, notSent: run.total - run.sent, byKind: run.byKind },
    errors: run.errors,
    errorSamples: run.errorSamples,
    latencyMs: { p50: run.p50, p99: run.p99, max: run.max },
    rss: { startBytes: first?.bytes, endBytes: last?.bytes, growthPercent: growth, limitPercent: MAX_GROWTH_PERCENT, samples: run.rss },
    cacheResults,
    upstreamCalls,
    pass,
    summary
  }, null, 2))
  process.exitCode = pass ? 0 : 1
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${String(err)}\n`)
  process.exitCode = 1
}).finally(killAll)
