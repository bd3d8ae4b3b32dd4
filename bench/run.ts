// npm run bench: the gateway against what users would otherwise run, in one run on this machine,
// everything on loopback and bounded in time (about 3 minutes). Prints a table of req/s, p50/p99
// and ratios, and writes bench/results/latest.json.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEMO_API_SECRET, DEMO_API_USER, LARGE_USER_DEVICES, LARGE_USER_ID } from '../src/demo/data.js'
import { devicesGetHash } from '../src/mor/sign.js'
import { STATS_PATH } from '../src/demo/simulator.js'
import { alternate, debianTool, pairedRatio, sideBySide, sideBySideAcross, type Placement, DIST, freePort, killAll, load, LOAD_GENERATOR, ROOT, startProcess, stopProcess, type LoadResult } from './lib.js'
import { measureTranslate } from './translate.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
// BENCH_ONLY=hit,passthrough,cold,eventloop,translate,memory runs a subset while investigating.
const ONLY = process.env.BENCH_ONLY?.split(',')
const wanted = (name: string) => ONLY === undefined || ONLY.includes(name)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
// The cache hit is a few tens of microseconds on a machine whose speed drifts by a third from
// second to second: more, shorter rounds, each paired with the bare route run just before it.
const HIT_ROUNDS = 2 * ROUNDS - 1
const HIT_SECONDS = Math.max(2, SECONDS - 2)
// Rounds of two servers loaded at the same time (lib.ts sideBySide): for one pair of processes, and
// for each pair when two started instances of each are paired every way.
const SIDE_ROUNDS = 7
const PAIR_ROUNDS = 4
const KEY = 'bench-key-0123456789abcdef'
const AUTH = { authorization: `Bearer ${KEY}` }
const dist = (path: string) => fileURLToPath(new URL(path, DIST))
const node = process.execPath

interface Row { scenario: string, target: string, result?: LoadResult, ratio?: number, goal: string, pass?: boolean, note?: string }
const rows: Row[] = []
const extra: Record<string, unknown> = {}

async function startSimulator (env: Record<string, string> = {}) {
  const port = await freePort()
  const child = await startProcess(node, [dist('src/demo/main.js')], port, { MOR_SIM_PORT: String(port), ...env })
  return { child, url: `http://127.0.0.1:${port}/billing`, port }
}

async function startGateway (morUrl: string, env: Record<string, string> = {}, placement?: Placement) {
  const port = await freePort()
  // As deployed: API keys and rate limiting on (set high enough never to refuse the load).
  const child = await startProcess(node, [dist('src/server.js')], port, {
    MOR_URL: morUrl,
    MOR_API_USER: DEMO_API_USER,
    MOR_API_SECRET: DEMO_API_SECRET,
    GATEWAY_API_KEYS: KEY,
    RATE_LIMIT_PER_MINUTE: '10000000',
    UPSTREAM_BUDGET_PER_MINUTE: '10000000',
    PORT: String(port),
    ...env
  }, placement)
  return { child, url: `http://127.0.0.1:${port}`, port }
}

async function startRedis (placement?: Placement) {
  const port = await freePort()
  const child = await startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], port, {}, placement)
  return { child, url: `redis://127.0.0.1:${port}` }
}

const ensureNginx = () => debianTool('nginx', 'nginx-light')

async function startNginx (binary: string, upstreamPort: number) {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'))
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream mor { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location /billing/api/ { proxy_pass http://mor; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}`)
  const child = await startProcess(binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], port)
  return { child, url: `http://127.0.0.1:${port}` }
}

async function bodyOf (url: string): Promise<Buffer> {
  const res = await fetch(url, { headers: AUTH })
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`)
  return Buffer.from(await res.arrayBuffer())
}

async function scrape (url: string, metric: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${metric} `))
  return Number(line?.split(' ')[1] ?? NaN)
}

const fmt = (n: number | undefined, digits = 0) => n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits)

async function cacheHitScenarios (simUrl: string) {
  const path = '/v1/users/5/devices'
  const dir = mkdtempSync(join(tmpdir(), 'bench-hit-'))
  // As a frontend's key is configured: named, limited to some users (5 and the large user among
  // them), its own rate.
  const keyFile = join(dir, 'keys')
  writeFileSync(keyFile, `${KEY} name=bench-portal users=1-10,42,${LARGE_USER_ID} rate=10000000\n`)
  const scoped = { GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: keyFile }
  // Every server under test apart from the load generator; Redis beside the load generator.
  const gateway = await startGateway(simUrl, scoped, 'server')
  const body = await bodyOf(gateway.url + path)
  const bodyFile = join(dir, 'body.json')
  writeFileSync(bodyFile, body)
  // The gateway's hit headers, less those Fastify and Node send anyway: what the bare route that
  // sends the same contract adds.
  const hitHeaders = [...(await fetch(gateway.url + path, { headers: AUTH })).headers].filter(([name]) => !['date', 'connection', 'keep-alive', 'content-type', 'content-length'].includes(name))
  const headersFile = join(dir, 'headers.json')
  writeFileSync(headersFile, JSON.stringify(hitHeaders))
  const startBare = async (env: Record<string, string> = {}) => {
    const port = await freePort()
    const child = await startProcess(node, [dist('bench/servers/bare.js')], port, { BODY_FILE: bodyFile, PORT: String(port), ...env }, 'server')
    return { child, url: `http://127.0.0.1:${port}` }
  }
  const { child: bare, url: bareUrl } = await startBare()

  // A page of 100 from the middle of a cached 5,000-device list, as a frontend pages through it.
  const list = `/v1/users/${LARGE_USER_ID}/devices`
  const nextOf = async (query: string) => (JSON.parse((await bodyOf(`${gateway.url}${list}?${query}`)).toString()) as { nextCursor: string }).nextCursor
  // Two pages of 1,000 (the largest) lead to device 2,000.
  const middle = await nextOf(`limit=1000&cursor=${await nextOf('limit=1000')}`)
  const pagePath = `${list}?limit=100&cursor=${middle}`
  await bodyOf(gateway.url + pagePath)

  // Tracing on, as production would run it: spans to a collector (a sink that takes every export),
  // 1% of new traces sampled. An unsampled hit stays in the lane; this measures what that costs.
  const sink = createServer((req, res) => { req.resume(); req.on('end', () => res.end('{}')) })
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve))
  const traced = await startGateway(simUrl, {
    ...scoped,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '0.01'
  }, 'server')
  await bodyOf(traced.url + path)

  const redis = await startRedis('load')
  const redisGateway = await startGateway(simUrl, { ...scoped, REDIS_URL: redis.url, CACHE_MAX_ENTRIES: '0' }, 'server')
  await bodyOf(redisGateway.url + path) // stores the entry in Redis

  const variant = async (server: string) => {
    const port = await freePort()
    const child = await startProcess(node, [dist(server)], port, {
      MOR_URL: simUrl, MOR_API_USER: DEMO_API_USER, MOR_API_SECRET: DEMO_API_SECRET, ...scoped, RATE_LIMIT_PER_MINUTE: '10000000', UPSTREAM_BUDGET_PER_MINUTE: '10000000', PORT: String(port)
    }, 'server')
    await bodyOf(`http://127.0.0.1:${port}${path}`)
    return { child, url: `http://127.0.0.1:${port}` }
  }
  // The same gateway with hits answered by the framework instead of the front door's lane ...
  const { child: framework, url: frameworkUrl } = await variant('bench/servers/gateway-framework.js')
  // ... and with them served from one early Fastify hook, the other design for the hit path.
  const { child: hook, url: hookUrl } = await variant('bench/servers/gateway-hook.js')

  const run = (base: string, to = path) => () => load(base + to, { seconds: HIT_SECONDS, headers: AUTH, pinned: true })
  const results = await alternate({ bare: run(bareUrl), lru: run(gateway.url), page: run(gateway.url, pagePath), redis: run(redisGateway.url), traced: run(traced.url), hook: run(hookUrl), framework: run(frameworkUrl) }, HIT_ROUNDS, async () => {
    for (const base of [bareUrl, gateway.url, redisGateway.url, traced.url, hookUrl, frameworkUrl]) await load(base + path, { seconds: 4, headers: AUTH, pinned: true })
    await load(gateway.url + pagePath, { seconds: 4, headers: AUTH, pinned: true })
  })
  // Each ratio pairs a round of the gateway with the bare route's round just before it.
  const ratio = (name: string) => pairedRatio(results[name], results.bare)
  // The goal's measure: the gateway and the bare route on one CPU at the same time, and first two
  // bare routes the same way, which shows how far two processes of one server differ.
  const { child: bareTwin, url: bareTwinUrl } = await startBare()
  const fairness = await sideBySide(run(bareUrl), run(bareTwinUrl), SIDE_ROUNDS)
  // Two instances of the gateway against two of the bare route, every pairing: one process can be
  // luckier than another of the same code for its whole life (see the two bare routes).
  const gatewayTwin = await startGateway(simUrl, scoped, 'server')
  await bodyOf(gatewayTwin.url + path)
  const gateways = [run(gateway.url), run(gatewayTwin.url)]
  const bares = [run(bareUrl), run(bareTwinUrl)]
  const together = await sideBySideAcross(gateways, bares, PAIR_ROUNDS)
  const spread = (s: typeof together) => `round ratios ${s.ratios.map((r) => r.toFixed(2)).join(' / ')}`
  // What the answer's contract costs by itself: the bare route sending the gateway's headers, and
  // the gateway against it (the cost of everything the gateway does but send those headers).
  const { child: bareContract, url: bareContractUrl } = await startBare({ HEADERS_FILE: headersFile })
  const contractCost = await sideBySideAcross([run(bareContractUrl)], bares, PAIR_ROUNDS)
  const beyondContract = await sideBySideAcross(gateways, [run(bareContractUrl)], PAIR_ROUNDS)
  rows.push({ scenario: `cache hit, in-process tier (5 devices, a key scoped to users 1-10,42,${LARGE_USER_ID}, access log at default level), loaded at the same time as the bare route, both on one CPU (two instances of each, every pairing)`, target: 'gateway', result: together.a, ratio: together.ratio, goal: '>= 0.85', pass: together.ratio >= 0.85, note: `${spread(together)}; two bare routes the same way: ${fairness.ratio.toFixed(2)} (${spread(fairness)})` })
  extra.hitSideBySide = { ratio: together.ratio, ratios: together.ratios, fairness: fairness.ratio, fairnessRatios: fairness.ratios }
  rows.push({ scenario: `the bare route sending the gateway's ${hitHeaders.length} answer headers too (fixed values), side by side with the bare route`, target: 'bare Fastify route + headers', result: contractCost.a, ratio: contractCost.ratio, goal: 'for comparison', note: spread(contractCost) })
  rows.push({ scenario: 'the same cache hit, side by side with the bare route sending the same headers', target: 'gateway', result: beyondContract.a, ratio: beyondContract.ratio, goal: 'for comparison', note: spread(beyondContract) })
  extra.hitContract = { contractCost: contractCost.ratio, beyondContract: beyondContract.ratio }
  rows.push({ scenario: 'the same cache hit, in alternating rounds (each paired with the bare route\'s round just before it)', target: 'gateway', result: results.lru, ratio: ratio('lru'), goal: 'for comparison' })
  // A page is measured against the small hit of the same gateway in the same round.
  const pageRatio = pairedRatio(results.page, results.lru)
  rows.push({ scenario: `page of 100 devices (from device 2,000) of a cached ${LARGE_USER_DEVICES.toLocaleString('en')}-device user (ratio: to the small hit above)`, target: 'gateway', result: results.page, ratio: pageRatio, goal: '>= 0.5', pass: pageRatio >= 0.5 })
  rows.push({ scenario: 'cache hit, Redis tier (in-process tier off)', target: 'gateway', result: results.redis, ratio: ratio('redis'), goal: '>= 0.5', pass: ratio('redis') >= 0.5 })
  rows.push({ scenario: 'cache hit, in-process tier, tracing on (OTLP export, 1% of traces sampled)', target: 'gateway', result: results.traced, ratio: ratio('traced'), goal: 'for comparison' })
  rows.push({ scenario: 'cache hit, in-process tier, the lane in an early Fastify hook instead of the front door', target: 'gateway', result: results.hook, ratio: ratio('hook'), goal: 'for comparison' })
  rows.push({ scenario: 'cache hit, in-process tier, answered by the route (no lane)', target: 'gateway', result: results.framework, ratio: ratio('framework'), goal: 'for comparison' })
  rows.push({ scenario: 'baseline for all of these', target: 'bare Fastify route, same bytes, no logger', result: results.bare, ratio: 1, goal: '' })
  await Promise.all([stopProcess(gateway.child), stopProcess(traced.child), stopProcess(redisGateway.child), stopProcess(hook), stopProcess(framework), stopProcess(bare), stopProcess(bareTwin), stopProcess(bareContract), stopProcess(gatewayTwin.child), stopProcess(redis.child)])
  sink.closeAllConnections()
  sink.close()
}

/**
 * The passthrough for each method legacy clients use: GET with a signed query, and POST with a
 * form body (what MOR documents). The goal is against a bare Node relay for the same method;
 * nginx's ratio is reported beside it.
 */
async function passthroughScenario (sim: { url: string, port: number }) {
  const nginxBinary = ensureNginx()
  const signed = `u=${DEMO_API_USER}&user_id=3&hash=${devicesGetHash(3, DEMO_API_SECRET)}`
  const calls = {
    GET: { path: `/billing/api/devices_get?${signed}`, opts: {} },
    POST: { path: '/billing/api/devices_get', opts: { method: 'POST' as const, body: signed, headers: { 'content-type': 'application/x-www-form-urlencoded' } } }
  }
  const gateway = await startGateway(sim.url)
  const proxyPort = await freePort()
  const bareProxy = await startProcess(node, [dist('bench/servers/bare-proxy.js')], proxyPort, { UPSTREAM: `http://127.0.0.1:${sim.port}`, PORT: String(proxyPort) })
  const relayPort = await freePort()
  const bareRelay = await startProcess(node, [dist('bench/servers/bare-relay.js')], relayPort, { UPSTREAM: `http://127.0.0.1:${sim.port}`, PORT: String(relayPort) })
  const nginx = nginxBinary ? await startNginx(nginxBinary, sim.port) : undefined
  const RELAY = 'bare Node relay (node:http + undici dispatch, no features)'
  const targets: Record<string, string> = {
    direct: `http://127.0.0.1:${sim.port}`,
    // Node's ceiling: what any relay written in Node pays before features (bench/servers/bare-relay.ts).
    // Run just before the gateway, whose ratio pairs the two round by round.
    [RELAY]: `http://127.0.0.1:${relayPort}`,
    gateway: gateway.url,
    'bare @fastify/http-proxy': `http://127.0.0.1:${proxyPort}`,
    ...(nginx ? { nginx: nginx.url } : {})
  }
  for (const [method, { path, opts }] of Object.entries(calls)) {
    const runs = Object.fromEntries(Object.entries(targets).map(([name, base]) => [name, () => load(base + path, { seconds: SECONDS, ...opts })]))
    const results = await alternate(runs, ROUNDS, async () => {
      for (const base of Object.values(targets)) await load(base + path, { seconds: 2, ...opts })
    })
    for (const name of Object.keys(targets)) {
      const ratio = pairedRatio(results[name], results[RELAY])
      const ofNginx = results.nginx ? pairedRatio(results[name], results.nginx) : undefined
      rows.push({
        scenario: `legacy passthrough, ${method === 'GET' ? 'signed GET' : 'form POST'}, small gzipped answer (ratio: to the bare Node relay)`,
        target: name,
        result: results[name],
        ratio,
        goal: name === 'gateway' ? '>= 0.8 of the bare Node relay' : '',
        ...(name === 'gateway' ? { pass: ratio >= 0.8 } : {}),
        note: ofNginx !== undefined ? `${ofNginx.toFixed(2)} of nginx` : 'nginx unavailable'
      })
    }
  }
  await Promise.all([stopProcess(gateway.child), stopProcess(bareProxy), stopProcess(bareRelay), ...(nginx ? [stopProcess(nginx.child)] : [])])
}

async function coldMissScenario () {
  const sim = await startSimulator({ MOR_SIM_DELAY_MS: '300' })
  const gateway = await startGateway(sim.url)
  const userId = 4242
  const started = performance.now()
  const statuses = await Promise.all(Array.from({ length: 1000 }, () =>
    fetch(`${gateway.url}/v1/users/${userId}/devices`, { headers: AUTH }).then(async (res) => { await res.arrayBuffer(); return res.status })))
  const ms = performance.now() - started
  const stats = await (await fetch(`http://127.0.0.1:${sim.port}${STATS_PATH}`)).json() as { byUser: Record<string, number> }
  const calls = stats.byUser[String(userId)] ?? 0
  const ok = statuses.filter((s) => s === 200).length
  rows.push({ scenario: 'cold misses, 1,000 concurrent for one user', target: 'gateway', goal: 'exactly 1 upstream call', pass: calls === 1 && ok === 1000, note: `${calls} upstream call(s), ${ok}/1000 answered 200 in ${fmt(ms)} ms` })
  extra.coldMisses = { upstreamCalls: calls, ok, ms }
  await Promise.all([stopProcess(gateway.child), stopProcess(sim.child)])
}

async function translateScenario () {
  const t = await measureTranslate()
  rows.push({ scenario: `translate a 5,000-device answer (${fmt(t.xmlBytes / 1024)} KiB XML, ${fmt(t.gzipBytes / 1024)} KiB gzip)`, target: 'gateway: gunzip+validate+parse+map+JSON', ratio: t.ratio, goal: '<= 1.3x bare parse', pass: t.ratio <= 1.3, note: `gateway ${fmt(t.gatewayMs, 1)} ms, bare fast-xml-parser ${fmt(t.bareMs, 1)} ms` })
  extra.translate = t
}

async function eventLoopScenario (simUrl: string) {
  const gateway = await startGateway(simUrl)
  await scrape(gateway.url, 'nodejs_eventloop_lag_p99_seconds') // resets the histogram
  let n = 0
  const result = await load(`${gateway.url}/v1/users/100/devices`, {
    seconds: Math.max(SECONDS * 2, 10),
    connections: 8,
    headers: { ...AUTH, 'cache-control': 'no-cache' },
    // Different 5,000-device users, always revalidated: every request translates a large answer.
    paths: () => `/v1/users/${100 + (n++ % 100)}/devices`
  })
  const p99 = await scrape(gateway.url, 'nodejs_eventloop_lag_p99_seconds') * 1000
  rows.push({ scenario: 'event-loop delay while 5,000-device answers are translated under load', target: 'gateway', result, goal: 'p99 <= 20 ms', pass: p99 <= 20, note: `event-loop p99 ${fmt(p99, 1)} ms` })
  extra.eventLoopP99Ms = p99
  await stopProcess(gateway.child)
}

function memoryScenario () {
  const out = execFileSync(node, ['--expose-gc', dist('bench/memory.js')], { encoding: 'utf8' })
  const m = JSON.parse(out) as { rssBytesPerEntry: number, averageBodyBytes: number, documentedBytesPerEntry: number, withinBound: boolean, rssGrowthBytes: number }
  rows.push({ scenario: 'memory, 100,000 cached users in the in-process tier', target: 'gateway', goal: `RSS/entry <= body + overhead (${m.documentedBytesPerEntry} B)`, pass: m.withinBound, note: `${m.rssBytesPerEntry} B RSS per entry (${m.averageBodyBytes} B body), ${fmt(m.rssGrowthBytes / 1024 / 1024)} MiB in all` })
  extra.memory = m
}

/** The row's note, and every round's req/s: a median hides how far apart the rounds were. */
function noteOf (r: Row): string {
  const rounds = r.result?.rounds
  return [r.note, rounds && rounds.length > 1 ? `rounds ${rounds.join(' / ')} req/s` : undefined].filter(Boolean).join('; ')
}

function printTable () {
  const header = ['scenario', 'target', 'req/s', 'p50 ms', 'p99 ms', 'ratio', 'goal', 'ok', 'note']
  const lines = rows.map((r) => [r.scenario, r.target, fmt(r.result?.rps), fmt(r.result?.p50, 1), fmt(r.result?.p99, 1), fmt(r.ratio, 2), r.goal, r.pass === undefined ? '' : r.pass ? 'yes' : 'NO', noteOf(r)])
  const table = [header, ['---', '---', '---:', '---:', '---:', '---:', '---', '---', '---'], ...lines].map((cols) => `| ${cols.join(' | ')} |`).join('\n')
  process.stdout.write(`\n${table}\n`)
  return table
}

async function main () {
  const started = Date.now()
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 1024 ** 3)} GiB, Node ${process.version}`
  process.stdout.write(`bench on ${machine}; ${SECONDS} s per run and ${ROUNDS} alternating rounds (cache hits: ${HIT_SECONDS} s and ${HIT_ROUNDS}), warm-up runs discarded; load: ${LOAD_GENERATOR}\n`)
  const sim = await startSimulator()
  if (wanted('hit')) await cacheHitScenarios(sim.url)
  if (wanted('passthrough')) await passthroughScenario(sim)
  if (wanted('cold')) await coldMissScenario()
  if (wanted('eventloop')) await eventLoopScenario(sim.url)
  await stopProcess(sim.child)
  if (wanted('translate')) await translateScenario()
  if (wanted('memory')) memoryScenario()
  const table = printTable()
  const outDir = new URL('bench/results/', ROOT)
  mkdirSync(outDir, { recursive: true })
  writeFileSync(new URL('latest.json', outDir), JSON.stringify({ date: new Date().toISOString(), machine, loadGenerator: LOAD_GENERATOR, seconds: SECONDS, rounds: ROUNDS, rows, extra, table, durationSeconds: (Date.now() - started) / 1000 }, null, 2))
  process.stdout.write(`\nwrote bench/results/latest.json in ${fmt((Date.now() - started) / 1000)} s\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${String(err)}\n`)
  process.exitCode = 1
}).finally(killAll)
