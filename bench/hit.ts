// The cache-hit scenarios of `npm run bench`: the gateway's hits (a list, a page of a large list, a
// device's details; the in-process and Redis tiers; tracing on; the other designs for the hit path)
// against a bare Fastify route sending the same bytes, every server under test on a CPU apart from
// the load generator's.
//
// The goal's measure is CPU per answer at saturation, the bare route's over the gateway's: the CPU
// time each server's process spent over the answers it served, with both loaded at the same time
// on one CPU (so the machine's drift moves both alike), in the rounds where both always had work.
// Every round of every method is metered, so the rate-based methods (req/s side by side, and
// alternating rounds with each server alone on its CPU) are read from the same rounds beside it
// (docs/benchmarks.md, issue 27 entry: why they differ).
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LARGE_USER_DEVICES, LARGE_USER_ID } from '../src/demo/data.js'
import { alternate, atSaturation, freePort, load, median, medianOver, pairedRatio, pairedRatios, PER_CPU, PER_USER_CPU, sideBySide, sideBySideAcross, sideRatio, sideRatios, startProcess, stopProcess, type LoadResult, type SideBySide } from './lib.js'
import { cpuPerAnswer, cpuShare, SATURATED } from './meter.js'
import { beforeAfter, busyNote, cpuNote, extra, fmt, rows } from './report.js'
import { AUTH, BEFORE, KEY, bodyOf, dist, HIT_ROUNDS, HIT_SECONDS, node, PAIR_ROUNDS, SIDE_ROUNDS, startGateway, startRedis, type Started } from './setup.js'

const LIST = '/v1/users/5/devices'
// Alice's desk phone (user 2's device 5, src/demo/data.ts): a seeded device with details, of a user
// the bench's key may read.
const DEVICE = '/v1/devices/5'
const HIT_GOAL = 0.8
// A hit of each catalogue resource (src/catalogue/), as a frontend asks for it: its route and path.
const CATALOGUE_HITS: Array<[string, string]> = [
  ['/v1/users', '/v1/users'],
  ['/v1/users/:userId', '/v1/users/2'],
  ['/v1/users/:userId/calls', '/v1/users/2/calls?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z'],
  ['/v1/users/:userId/payments', '/v1/users/2/payments']
]
// What every hit row shares, as the scenarios set it up.
const scope = `in-process tier, a key scoped to users 1-10,42,${LARGE_USER_ID}, access log at default level`

const spread = (ratios: number[]) => `round ratios ${ratios.map((r) => r.toFixed(2)).join(' / ')}`

/** A load run of one server's path, metered: what every method below is made of. */
const hit = (server: Started, path: string, seconds = HIT_SECONDS) => () =>
  load(server.url + path, { seconds, headers: AUTH, pinned: true, pid: server.child.pid })

export async function cacheHitScenarios (simUrl: string) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-hit-'))
  // As a frontend's key is configured: named, limited to some users (5, 2 and the large user among
  // them), its own rate.
  const keyFile = join(dir, 'keys')
  writeFileSync(keyFile, `${KEY} name=bench-portal users=1-10,42,${LARGE_USER_ID} rate=10000000\n`)
  const scoped = { GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: keyFile }
  // Every server under test apart from the load generator; Redis beside the load generator.
  const gateway = await startGateway(simUrl, scoped, 'server')
  const bodyFile = join(dir, 'body.json')
  writeFileSync(bodyFile, await bodyOf(gateway.url + LIST))
  const deviceBodyFile = join(dir, 'device.json')
  writeFileSync(deviceBodyFile, await bodyOf(gateway.url + DEVICE))
  // The gateway's hit headers, less those Fastify and Node send anyway: what the bare route that
  // sends the same contract adds.
  const hitHeaders = [...(await fetch(gateway.url + LIST, { headers: AUTH })).headers].filter(([name]) => !['date', 'connection', 'keep-alive', 'content-type', 'content-length'].includes(name))
  const headersFile = join(dir, 'headers.json')
  writeFileSync(headersFile, JSON.stringify(hitHeaders))
  // The catalogue's bodies as the gateway serves them to this key (the users list cut to its scope).
  const routesFile = join(dir, 'routes.json')
  writeFileSync(routesFile, JSON.stringify(await Promise.all(CATALOGUE_HITS.map(async ([route, path], i) => {
    const file = join(dir, `catalogue-${i}.json`)
    writeFileSync(file, await bodyOf(gateway.url + path))
    return [route, file]
  }))))
  const startBare = async (env: Record<string, string> = {}): Promise<Started> => {
    const port = await freePort()
    const child = await startProcess(node, [dist('bench/servers/bare.js')], port, { BODY_FILE: bodyFile, DEVICE_BODY_FILE: deviceBodyFile, ROUTES_FILE: routesFile, PORT: String(port), ...env }, 'server')
    return { child, url: `http://127.0.0.1:${port}` }
  }
  const bare = await startBare()
  // The build under BENCH_BEFORE, as deployed the same way: the same key, the same entries cached.
  const startBefore = async () => {
    if (BEFORE === undefined) return undefined
    const before = await startGateway(simUrl, scoped, 'server', BEFORE.entry)
    await bodyOf(before.url + LIST)
    await bodyOf(before.url + DEVICE)
    return before
  }
  const before = await startBefore()

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
  await bodyOf(traced.url + LIST)

  const redis = await startRedis('load')
  const redisGateway = await startGateway(simUrl, { ...scoped, REDIS_URL: redis.url, CACHE_MAX_ENTRIES: '0' }, 'server')
  await bodyOf(redisGateway.url + LIST) // stores the entry in Redis

  const variant = async (server: string): Promise<Started> => {
    const { child, url } = await startGateway(simUrl, scoped, 'server', dist(server))
    await bodyOf(url + LIST)
    return { child, url }
  }
  // The same gateway with hits answered by the framework instead of the front door's lane ...
  const framework = await variant('bench/servers/gateway-framework.js')
  // ... and with them served from one early Fastify hook, the other design for the hit path.
  const hook = await variant('bench/servers/gateway-hook.js')

  // Alternating rounds: each server alone on its CPU in turn, its baseline's round just before it.
  const targets: Record<string, () => Promise<LoadResult>> = {
    bare: hit(bare, LIST),
    lru: hit(gateway, LIST),
    ...(before ? { before: hit(before, LIST) } : {}),
    page: hit(gateway, pagePath),
    redis: hit(redisGateway, LIST),
    traced: hit(traced, LIST),
    hook: hit(hook, LIST),
    framework: hit(framework, LIST),
    bareDevice: hit(bare, DEVICE),
    device: hit(gateway, DEVICE),
    ...(before ? { beforeDevice: hit(before, DEVICE) } : {})
  }
  const results = await alternate(targets, HIT_ROUNDS, async () => {
    for (const server of [bare, gateway, ...(before ? [before] : [])]) for (const path of [LIST, DEVICE]) await hit(server, path, 4)()
    for (const server of [redisGateway, traced, hook, framework]) await hit(server, LIST, 4)()
    await hit(gateway, pagePath, 4)()
  })

  // Side by side, the goal's rounds: two servers on one CPU at the same time, each loaded by its
  // own wrk. First two bare routes, which shows how far two processes of one server differ; then
  // two instances of each server against two of the bare route, every pairing (one process can be
  // luckier than another of the same code for its whole life).
  const bareTwin = await startBare()
  const fairness = await sideBySide(hit(bare, LIST), hit(bareTwin, LIST), SIDE_ROUNDS)
  const gatewayTwin = await startGateway(simUrl, scoped, 'server')
  for (const path of [LIST, DEVICE, ...CATALOGUE_HITS.map(([, p]) => p)]) await bodyOf(gatewayTwin.url + path)
  const across = (as: Started[], bs: Started[], path: string) => sideBySideAcross(as.map((s) => hit(s, path)), bs.map((s) => hit(s, path)), PAIR_ROUNDS)
  const gateways = [gateway, gatewayTwin]
  const bares = [bare, bareTwin]
  const listTogether = await across(gateways, bares, LIST)
  const deviceTogether = await across(gateways, bares, DEVICE)
  // Every catalogue resource's hit, the same way: the one pipeline serves them all.
  const catalogueTogether: Array<[string, SideBySide]> = []
  for (const [, path] of CATALOGUE_HITS) catalogueTogether.push([path, await across(gateways, bares, path)])
  const beforeTwin = await startBefore()
  const befores = before && beforeTwin ? [before, beforeTwin] : []
  const beforeList = befores.length > 0 ? await across(befores, bares, LIST) : undefined
  const beforeDevice = befores.length > 0 ? await across(befores, bares, DEVICE) : undefined
  // And the two builds against each other, the same way: the change itself, with no baseline between.
  const headToHead = befores.length > 0 ? { list: await across(gateways, befores, LIST), device: await across(gateways, befores, DEVICE) } : undefined
  // What the answer's contract costs by itself: the bare route sending the gateway's headers, and
  // the gateway against it (the cost of everything the gateway does but send those headers).
  const bareContract = await startBare({ HEADERS_FILE: headersFile })
  const contractCost = await across([bareContract], bares, LIST)
  const beyondContract = await across(gateways, [bareContract], LIST)

  const beforeLabel = BEFORE?.label ?? 'before'
  const resources = [
    { resource: `list hit (GET ${LIST}, 5 devices)`, after: methodsOf('gateway', listTogether, results.lru, results.bare), before: beforeList && methodsOf(beforeLabel, beforeList, results.before, results.bare) },
    { resource: `device-details hit (GET ${DEVICE})`, after: methodsOf('gateway', deviceTogether, results.device, results.bareDevice), before: beforeDevice && methodsOf(beforeLabel, beforeDevice, results.beforeDevice, results.bareDevice) }
  ]
  for (const { resource, after, before: old } of resources) report(resource, after, old)
  for (const [path, together] of catalogueTogether) {
    const m = methodsOf('gateway', together, undefined, undefined)
    rows.push({
      scenario: `cache hit of a catalogue resource (GET ${path}), ${scope}: CPU per answer at saturation side by side, as above`,
      target: 'gateway',
      result: together.a,
      ratio: m.cpu,
      goal: `>= ${HIT_GOAL}`,
      pass: m.cpu >= HIT_GOAL,
      note: `${m.saturatedRounds} of ${together.ratios.length} rounds at saturation, ${spread(m.cpuRatios)}; req/s ${fmt(together.ratio, 2)}; ${cpuNote('gateway', together.a)}, ${cpuNote('bare route', together.b)}`
    })
  }
  extra.catalogueHits = Object.fromEntries(catalogueTogether.map(([path, together]) => [path, summary(methodsOf('gateway', together, undefined, undefined))]))
  if (headToHead) {
    for (const [resource, together] of [[resources[0]?.resource, headToHead.list], [resources[1]?.resource, headToHead.device]] as const) {
      const cpu = sideRatio(together, atSaturation(PER_CPU))
      beforeAfter.push({ resource: resource ?? '', method: 'head to head, side by side: the older build\'s CPU per answer over this tree\'s (above 1: this tree is cheaper)', goal: 'for comparison', before: NaN, after: cpu })
      rows.push({ scenario: `${resource}: this tree side by side with ${beforeLabel} on one CPU, CPU per answer at saturation (the older build's over this one's: above 1, this tree is cheaper)`, target: 'gateway', result: together.a, ratio: cpu, goal: 'for comparison', note: `req/s ${fmt(together.ratio, 2)}; ${spread(sideRatios(together, PER_CPU))}; ${cpuNote('gateway', together.a)}, ${cpuNote(beforeLabel, together.b)}` })
    }
    extra.hitHeadToHead = { list: sideRatio(headToHead.list, atSaturation(PER_CPU)), device: sideRatio(headToHead.device, atSaturation(PER_CPU)) }
  }
  rows.push({ scenario: `two bare routes side by side, the same way (one pair of processes, ${SIDE_ROUNDS} rounds): how far two processes of one server differ`, target: 'bare Fastify route', result: fairness.a, ratio: fairness.ratio, goal: 'for comparison', note: `req/s ${spread(fairness.ratios)}; CPU per answer ${fmt(sideRatio(fairness, PER_CPU), 2)} (${spread(sideRatios(fairness, PER_CPU))})` })
  extra.hitMethods = Object.fromEntries(resources.flatMap(({ resource, after, before: old }) => [[resource, summary(after)], ...(old ? [[`${resource}, ${old.name}`, summary(old)]] : [])]))
  extra.hitFairness = { ratio: fairness.ratio, ratios: fairness.ratios, cpu: sideRatio(fairness, PER_CPU), cpuRatios: sideRatios(fairness, PER_CPU) }
  rows.push({ scenario: `the bare route sending the gateway's ${hitHeaders.length} answer headers too (fixed values), side by side with the bare route`, target: 'bare Fastify route + headers', result: contractCost.a, ratio: sideRatio(contractCost, PER_CPU), goal: 'for comparison', note: `CPU per answer; req/s ${fmt(contractCost.ratio, 2)}; ${spread(sideRatios(contractCost, PER_CPU))}` })
  rows.push({ scenario: 'the list hit, side by side with the bare route sending the same headers', target: 'gateway', result: beyondContract.a, ratio: sideRatio(beyondContract, PER_CPU), goal: 'for comparison', note: `CPU per answer; req/s ${fmt(beyondContract.ratio, 2)}; ${spread(sideRatios(beyondContract, PER_CPU))}` })
  extra.hitContract = { contractCost: sideRatio(contractCost, PER_CPU), beyondContract: sideRatio(beyondContract, PER_CPU), contractCostRate: contractCost.ratio, beyondContractRate: beyondContract.ratio }

  // The rest in the alternating rounds, by req/s (their goals), CPU per answer beside it.
  const ratio = (name: string, baseline = 'bare') => pairedRatio(results[name], results[baseline])
  const cpu = (name: string, baseline = 'bare') => `CPU per answer ${fmt(pairedRatio(results[name], results[baseline], PER_CPU), 2)}`
  // A page is measured against the small hit of the same gateway in the same round.
  rows.push({ scenario: `page of 100 devices (from device 2,000) of a cached ${LARGE_USER_DEVICES.toLocaleString('en')}-device user (ratio: to the small list hit, alternating)`, target: 'gateway', result: results.page, ratio: ratio('page', 'lru'), goal: '>= 0.5', pass: ratio('page', 'lru') >= 0.5, note: cpu('page', 'lru') })
  rows.push({ scenario: 'cache hit, Redis tier (in-process tier off), alternating', target: 'gateway', result: results.redis, ratio: ratio('redis'), goal: '>= 0.5', pass: ratio('redis') >= 0.5, note: `${cpu('redis')} (the gateway's alone, not Redis's)` })
  rows.push({ scenario: 'cache hit, in-process tier, tracing on (OTLP export, 1% of traces sampled), alternating', target: 'gateway', result: results.traced, ratio: ratio('traced'), goal: 'for comparison', note: cpu('traced') })
  rows.push({ scenario: 'cache hit, in-process tier, the lane in an early Fastify hook instead of the front door, alternating', target: 'gateway', result: results.hook, ratio: ratio('hook'), goal: 'for comparison', note: cpu('hook') })
  rows.push({ scenario: 'cache hit, in-process tier, answered by the route (no lane), alternating', target: 'gateway', result: results.framework, ratio: ratio('framework'), goal: 'for comparison', note: cpu('framework') })
  rows.push({ scenario: 'baseline for all of these (list)', target: 'bare Fastify route, same bytes, no logger', result: results.bare, ratio: 1, goal: '', note: `${cpuNote('bare route', results.bare)}; ${busyNote(results.bare)}` })
  rows.push({ scenario: 'baseline for the device-details hit', target: 'bare Fastify route, same bytes, no logger', result: results.bareDevice, ratio: 1, goal: '', note: cpuNote('bare route', results.bareDevice) })
  await Promise.all([gateway, traced, redisGateway, hook, framework, bare, bareTwin, bareContract, gatewayTwin, redis, ...befores].map((s) => stopProcess(s.child)))
  sink.closeAllConnections()
  sink.close()
}

/** A resource's rows by every method (and its before/after lines): the goal's first, judged for this tree only. */
function report (resource: string, after: Methods, old: Methods | undefined) {
  for (const m of old ? [after, old] : [after]) {
    const judged = m === after
    const { together } = m
    rows.push({
      scenario: `cache hit, ${resource}, ${scope}: **CPU per answer at saturation** (the bare route's over the gateway's), both loaded at the same time on one CPU, two instances of each paired every way, rounds where both had work at least ${fmt(SATURATED * 100)}% of the time`,
      target: m.name,
      result: together.a,
      ratio: m.cpu,
      goal: judged ? `>= ${HIT_GOAL}` : 'for comparison',
      ...(judged ? { pass: m.cpu >= HIT_GOAL } : {}),
      note: `${m.saturatedRounds} of ${together.ratios.length} rounds at saturation${m.saturatedRounds < MIN_SATURATED ? ' (too few: all rounds counted)' : ''}, ${spread(m.cpuRatios)}; ${cpuNote(m.name, together.a)}, ${cpuNote('bare route', together.b)}; user CPU alone ${fmt(m.userCpu, 2)}; ${busyNote(together.a)}`
    })
    rows.push({ scenario: 'the same rounds (all of them), req/s', target: m.name, result: together.a, ratio: m.sideRate, goal: 'for comparison', note: spread(together.ratios) })
    rows.push({ scenario: 'the same hit in alternating rounds (each server alone on its CPU, paired with the bare route\'s round just before it), req/s', target: m.name, result: m.alone, ratio: m.rate, goal: 'for comparison', note: `${cpuNote(m.name, m.alone)}, ${cpuNote('bare route', m.baseline)}; ${busyNote(m.alone)}` })
    rows.push({ scenario: 'those alternating rounds, CPU per answer', target: m.name, ratio: m.aloneCpu, goal: 'for comparison', note: spread(pairedRatios(m.alone, m.baseline, PER_CPU)) })
  }
  if (old) {
    for (const [method, key] of [['CPU per answer at saturation, side by side', 'cpu'], ['req/s, side by side (same rounds)', 'sideRate'], ['req/s, alternating', 'rate'], ['CPU per answer, alternating', 'aloneCpu']] as const) {
      beforeAfter.push({ resource, method, goal: key === 'cpu' ? `>= ${HIT_GOAL}` : 'for comparison', before: old[key], after: after[key] })
    }
  }
}

// Fewer saturated rounds than this and the goal's ratio is read from all rounds, and says so.
const MIN_SATURATED = 3

/**
 * One build's hit of one resource by every method. The goal's: CPU per answer side by side, in
 * the rounds where both servers always had work (a server waiting for requests yields its share of
 * the CPU to the other, and its CPU per answer grows with the wake-ups per answer).
 */
function methodsOf (name: string, together: SideBySide, alone: LoadResult | undefined, baseline: LoadResult | undefined) {
  const saturatedRatios = sideRatios(together, atSaturation(PER_CPU)).filter(Number.isFinite)
  const cpuRatios = saturatedRatios.length >= MIN_SATURATED ? saturatedRatios : sideRatios(together, PER_CPU).filter(Number.isFinite)
  return {
    name,
    cpu: median(cpuRatios),
    cpuRatios,
    saturatedRounds: saturatedRatios.length,
    userCpu: sideRatio(together, PER_USER_CPU),
    sideRate: together.ratio,
    rate: pairedRatio(alone, baseline),
    aloneCpu: pairedRatio(alone, baseline, PER_CPU),
    together,
    alone,
    baseline
  }
}

type Methods = ReturnType<typeof methodsOf>

/** A resource's ratios by every method, for bench/results/latest.json. */
function summary (m: Methods) {
  const { together, alone, baseline } = m
  return {
    cpuSideBySide: m.cpu,
    saturatedRounds: m.saturatedRounds,
    userCpuSideBySide: m.userCpu,
    rateSideBySide: m.sideRate,
    rateAlternating: m.rate,
    cpuAlternating: m.aloneCpu,
    cpuRatios: m.cpuRatios,
    allCpuRatios: sideRatios(together, PER_CPU),
    rateRatios: together.ratios,
    demand: { sideBySide: (together.a?.runs ?? []).map((r) => r.demand), bareSideBySide: (together.b?.runs ?? []).map((r) => r.demand) },
    microsPerAnswer: { sideBySide: medianOver(together.a, cpuPerAnswer), bareSideBySide: medianOver(together.b, cpuPerAnswer), alternating: medianOver(alone, cpuPerAnswer), bareAlternating: medianOver(baseline, cpuPerAnswer) },
    cpuShare: { sideBySide: medianOver(together.a, cpuShare), bareSideBySide: medianOver(together.b, cpuShare), alternating: medianOver(alone, cpuShare), bareAlternating: medianOver(baseline, cpuShare) }
  }
}
