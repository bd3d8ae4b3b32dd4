// npm run bench: the gateway against what users would otherwise run, in one run on this machine,
// everything on loopback and bounded in time (about 20 minutes). Prints a table of req/s, p50/p99
// and ratios (with BENCH_BEFORE, an older build's beside this one's), and writes
// bench/results/latest.json.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { DEMO_API_SECRET, DEMO_API_USER } from '../src/demo/data.js'
import { devicesGetHash } from '../src/mor/sign.js'
import { STATS_PATH } from '../src/demo/simulator.js'
import { alternate, freePort, killAll, load, LOAD_GENERATOR, pairedRatio, PER_CPU, ROOT, startProcess, stopProcess } from './lib.js'
import { cacheHitScenarios } from './hit.js'
import { beforeAfter, cpuNote, extra, fmt, printBeforeAfter, printTable, rows } from './report.js'
import { AUTH, BEFORE, dist, ensureNginx, HIT_ROUNDS, HIT_SECONDS, node, PAIR_ROUNDS, ROUNDS, scrape, SECONDS, startGateway, startNginx, startSimulator, wanted, type Started } from './setup.js'
import { measureTranslate } from './translate.js'

const PASSTHROUGH_GOAL = 0.75

/**
 * The passthrough for each method legacy clients use: GET with a signed query, and POST with a
 * form body (what MOR documents). The goal is against a bare Node relay for the same method;
 * nginx's ratio is reported beside it.
 */
async function passthroughScenario (sim: Started & { port: number }) {
  const nginxBinary = ensureNginx()
  const signed = `u=${DEMO_API_USER}&user_id=3&hash=${devicesGetHash(3, DEMO_API_SECRET)}`
  const calls = {
    GET: { path: `/billing/api/devices_get?${signed}`, opts: {} },
    POST: { path: '/billing/api/devices_get', opts: { method: 'POST' as const, body: signed, headers: { 'content-type': 'application/x-www-form-urlencoded' } } }
  }
  const gateway = await startGateway(sim.url)
  const before = BEFORE && await startGateway(sim.url, {}, undefined, BEFORE.entry)
  const proxyPort = await freePort()
  const bareProxy = await startProcess(node, [dist('bench/servers/bare-proxy.js')], proxyPort, { UPSTREAM: `http://127.0.0.1:${sim.port}`, PORT: String(proxyPort) })
  const relayPort = await freePort()
  const bareRelay = await startProcess(node, [dist('bench/servers/bare-relay.js')], relayPort, { UPSTREAM: `http://127.0.0.1:${sim.port}`, PORT: String(relayPort) })
  const nginx = nginxBinary ? await startNginx(nginxBinary, sim.port) : undefined
  const RELAY = 'bare Node relay (node:http + undici dispatch, no features)'
  // Each with the process whose CPU is metered; nginx's work is in its worker, not metered.
  const targets: Record<string, { url: string, pid?: number | undefined }> = {
    direct: { url: `http://127.0.0.1:${sim.port}`, pid: sim.child.pid },
    // Node's ceiling: what any relay written in Node pays before features (bench/servers/bare-relay.ts).
    // Run just before the gateway, whose ratio pairs the two round by round.
    [RELAY]: { url: `http://127.0.0.1:${relayPort}`, pid: bareRelay.pid },
    gateway: { url: gateway.url, pid: gateway.child.pid },
    ...(before && BEFORE ? { [BEFORE.label]: { url: before.url, pid: before.child.pid } } : {}),
    'bare @fastify/http-proxy': { url: `http://127.0.0.1:${proxyPort}`, pid: bareProxy.pid },
    ...(nginx ? { nginx: { url: nginx.url } } : {})
  }
  const judged = (name: string) => name === 'gateway' || name === BEFORE?.label
  for (const [method, { path, opts }] of Object.entries(calls)) {
    const runs = Object.fromEntries(Object.entries(targets).map(([name, { url, pid }]) => [name, () => load(url + path, { seconds: SECONDS, pid, ...opts })]))
    const results = await alternate(runs, ROUNDS, async () => {
      for (const { url } of Object.values(targets)) await load(url + path, { seconds: 2, ...opts })
    })
    const resource = `legacy passthrough, ${method === 'GET' ? 'signed GET' : 'form POST'}`
    for (const name of Object.keys(targets)) {
      const ratio = pairedRatio(results[name], results[RELAY])
      const ofNginx = results.nginx ? pairedRatio(results[name], results.nginx) : undefined
      const cpu = pairedRatio(results[name], results[RELAY], PER_CPU)
      rows.push({
        scenario: `${resource}, small gzipped answer (ratio: req/s to the bare Node relay's, alternating rounds)`,
        target: name,
        result: results[name],
        ratio,
        goal: name === 'gateway' ? `>= ${PASSTHROUGH_GOAL} of the bare Node relay` : judged(name) ? 'for comparison' : '',
        ...(name === 'gateway' ? { pass: ratio >= PASSTHROUGH_GOAL } : {}),
        note: [
          ofNginx !== undefined ? `${ofNginx.toFixed(2)} of nginx` : 'nginx unavailable',
          judged(name) ? `CPU per answer ${fmt(cpu, 2)} of the relay's (${cpuNote(name, results[name])}, ${cpuNote('relay', results[RELAY])})` : undefined
        ].filter(Boolean).join('; ')
      })
    }
    if (BEFORE) {
      const old = results[BEFORE.label]
      beforeAfter.push({ resource, method: 'req/s, alternating', goal: `>= ${PASSTHROUGH_GOAL}`, before: pairedRatio(old, results[RELAY]), after: pairedRatio(results.gateway, results[RELAY]) })
      beforeAfter.push({ resource, method: 'CPU per answer, alternating', goal: 'for comparison', before: pairedRatio(old, results[RELAY], PER_CPU), after: pairedRatio(results.gateway, results[RELAY], PER_CPU) })
    }
  }
  const started: Array<Started['child']> = [gateway.child, bareProxy, bareRelay, ...(before ? [before.child] : []), ...(nginx ? [nginx.child] : [])]
  await Promise.all(started.map(stopProcess))
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

async function main () {
  const started = Date.now()
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 1024 ** 3)} GiB, Node ${process.version}`
  process.stdout.write(`bench on ${machine}; ${SECONDS} s per run and ${ROUNDS} alternating rounds (cache hits: ${HIT_SECONDS} s and ${HIT_ROUNDS}; side by side: ${PAIR_ROUNDS} per pair), warm-up runs discarded; load: ${LOAD_GENERATOR}${BEFORE ? `; before: ${BEFORE.entry}` : ''}\n`)
  const sim = await startSimulator()
  if (wanted('hit')) await cacheHitScenarios(sim.url)
  if (wanted('passthrough')) await passthroughScenario(sim)
  if (wanted('cold')) await coldMissScenario()
  if (wanted('eventloop')) await eventLoopScenario(sim.url)
  await stopProcess(sim.child)
  if (wanted('translate')) await translateScenario()
  if (wanted('memory')) memoryScenario()
  const table = printTable()
  const beforeAfterTable = printBeforeAfter(BEFORE?.label ?? 'before')
  const outDir = new URL('bench/results/', ROOT)
  mkdirSync(outDir, { recursive: true })
  writeFileSync(new URL('latest.json', outDir), JSON.stringify({ date: new Date().toISOString(), machine, loadGenerator: LOAD_GENERATOR, seconds: SECONDS, rounds: ROUNDS, rows, extra, table, ...(BEFORE ? { before: BEFORE, beforeAfter, beforeAfterTable } : {}), durationSeconds: (Date.now() - started) / 1000 }, null, 2))
  process.stdout.write(`\nwrote bench/results/latest.json in ${fmt((Date.now() - started) / 1000)} s\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${String(err)}\n`)
  process.exitCode = 1
}).finally(killAll)
