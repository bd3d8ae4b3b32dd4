// Benchmark plumbing: child processes on loopback, free ports, load runs, statistics.
//
// The load comes from wrk (C, installed from Debian when missing): autocannon, written in
// JavaScript, needs about as much CPU as the server it loads, so on a small machine it measured
// its own scheduling as much as the server. A scenario with one server under test (the cache hit)
// also keeps them apart: wrk and anything auxiliary on CPU 0, the server under test on the
// others. A scenario with an upstream (the passthrough) cannot be split fairly on two CPUs (the
// simulator would starve either the relay or the load), so it runs unpinned as before.
// BENCH_LOADGEN=autocannon, or a machine without wrk or taskset, loads with autocannon. Each run
// can also meter the server it loads (meter.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { freePort, waitForPort } from '../scripts/ports.js'
import { cpuPerAnswer, meter, saturated, userCpuPerAnswer, type Metered } from './meter.js'

export const ROOT = new URL('../../', import.meta.url) // dist/bench/ -> project root
export const DIST = new URL('../', import.meta.url)

export { freePort, waitForPort }

const children = new Set<ChildProcess>()

const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim() || undefined

/** A Debian tool the bench needs: found on PATH (or in /usr/sbin), else installed once with apt-get. */
export function debianTool (command: string, pkg: string): string | undefined {
  const find = () => has(command) ?? (spawnSync('ls', [`/usr/sbin/${command}`], { encoding: 'utf8' }).stdout.trim() || undefined)
  const found = find()
  if (found || process.env.BENCH_NO_INSTALL === '1') return found
  process.stdout.write(`installing ${pkg} for the bench...\n`)
  spawnSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkg}`], { stdio: 'inherit' })
  return find()
}

const wrk = process.env.BENCH_LOADGEN === 'autocannon' ? undefined : debianTool('wrk', 'wrk')
const cpus = availableParallelism()
const pinnable = wrk !== undefined && cpus >= 2 && has('taskset') !== undefined
const LOAD_CPUS = '0'
const SERVER_CPUS = cpus === 2 ? '1' : `1-${cpus - 1}`

/** Where a process runs: with the load generator, apart from it, or wherever the OS puts it. */
export type Placement = 'load' | 'server' | undefined

const cpusOf = (placement: Placement) => (!pinnable || placement === undefined ? undefined : placement === 'load' ? LOAD_CPUS : SERVER_CPUS)

/** How the load is made, for the report. */
export const LOAD_GENERATOR = wrk === undefined
  ? 'autocannon in the bench process, sharing the CPUs with the servers'
  : `wrk (1 thread); cache-hit scenarios: wrk and Redis on CPU ${LOAD_CPUS}, the server under test on CPU ${SERVER_CPUS}${pinnable ? '' : ' (not pinned: no taskset or one CPU)'}; passthrough: unpinned`

const placed = (placement: Placement, command: string, args: string[]): [string, string[]] => {
  const cpusFor = cpusOf(placement)
  return cpusFor === undefined ? [command, args] : ['taskset', ['-c', cpusFor, command, ...args]]
}

/** Starts a process that must listen on `port`; it is killed when the bench ends, whatever happens. */
export async function startProcess (command: string, args: string[], port: number, env: Record<string, string> = {}, placement?: Placement): Promise<ChildProcess> {
  const [file, argv] = placed(placement, command, args)
  const child = spawn(file, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] })
  children.add(child)
  child.once('exit', () => children.delete(child))
  await waitForPort(port)
  return child
}

export async function stopProcess (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), 5000).unref()
  })
}

export function killAll (): void {
  for (const child of children) child.kill('SIGKILL')
}
process.once('exit', killAll)

export interface LoadResult extends Metered {
  rps: number
  p50: number
  p99: number
  errors: number
  non2xx: number
  /** Every round's req/s, in order, when the result is the median of alternating rounds. */
  rounds?: number[]
  /** Every round's own result, in order, when the result summarizes rounds. */
  runs?: LoadResult[]
}

export interface LoadOptions {
  seconds: number
  connections?: number
  headers?: Record<string, string>
  paths?: () => string
  /** GET unless given; with `body`, what legacy clients send (a form POST). */
  method?: 'GET' | 'POST'
  body?: string
  /** Pins wrk to the load generator's CPU (scenarios whose servers were started as 'server'). */
  pinned?: boolean
  /** The process of the server under load, to meter its CPU time per answer. */
  pid?: number | undefined
}

export async function load (url: string, opts: LoadOptions): Promise<LoadResult> {
  const metered = meter(opts.pid)
  // wrk takes one path per run; a run over many paths stays with autocannon.
  const result = wrk !== undefined && !opts.paths ? await wrkLoad(wrk, url, opts) : await autocannonLoad(url, opts)
  return { ...result, ...metered() }
}

async function autocannonLoad (url: string, opts: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections: opts.connections ?? 32,
    duration: opts.seconds,
    headers: opts.headers,
    ...(opts.method ? { method: opts.method } : {}),
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    ...(opts.paths ? { requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, path: opts.paths?.() ?? '/' }) }] } : {})
  })
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.timeouts, non2xx: result.non2xx, answers: result.requests.total }
}

/** One wrk run: the method, headers and body go in a Lua script, as wrk takes them. */
async function wrkLoad (wrk: string, url: string, opts: LoadOptions): Promise<LoadResult> {
  const script = join(mkdtempSync(join(tmpdir(), 'bench-wrk-')), 'request.lua')
  const lines = [`wrk.method = ${JSON.stringify(opts.method ?? 'GET')}`]
  for (const [name, value] of Object.entries(opts.headers ?? {})) lines.push(`wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`)
  if (opts.body !== undefined) lines.push(`wrk.body = ${JSON.stringify(opts.body)}`)
  writeFileSync(script, lines.join('\n') + '\n')
  const [file, args] = placed(opts.pinned === true ? 'load' : undefined, wrk, ['-t1', `-c${opts.connections ?? 32}`, `-d${opts.seconds}s`, '--latency', '-s', script, url])
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] })
    let text = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { text += chunk })
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited with ${code}: ${text}`))))
  })
  return parseWrk(out)
}

const MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 }

/** wrk's report: req/s, the 50% and 99% latencies (ms), socket errors and non-2xx/3xx answers. */
export function parseWrk (out: string): LoadResult {
  const latency = (pct: string) => {
    const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out)
    return m ? Number(m[1]) * (MS[m[2] ?? 'ms'] ?? 1) : NaN
  }
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN)
  if (Number.isNaN(rps)) process.stderr.write(`wrk reported no rate:\n${out.slice(0, 2000)}\n`)
  return {
    rps,
    p50: latency('50'),
    p99: latency('99'),
    errors: errors ? errors.slice(1).reduce((n, v) => n + Number(v), 0) : 0,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    answers: Number(/(\d+) requests in /.exec(out)?.[1] ?? NaN)
  }
}

/** What a comparison reads of a run; higher is better, so every ratio reads "target over baseline". */
export type Measure = (r: LoadResult) => number
/** Requests per second. */
export const RATE: Measure = (r) => r.rps
/** Answers per CPU-second of the server: the inverse of its CPU per answer, user and kernel. */
export const PER_CPU: Measure = (r) => 1e6 / cpuPerAnswer(r)
/** Answers per user-CPU-second: the kernel's share left out. */
export const PER_USER_CPU: Measure = (r) => 1e6 / userCpuPerAnswer(r)
/** A measure read only of runs at saturation (NaN for the others, which every ratio leaves out). */
export const atSaturation = (measure: Measure): Measure => (r) => saturated(r) ? measure(r) : NaN

/**
 * The target's measure over the baseline's (by default the rate), paired round by round (each
 * round runs them back to back) and the median of those ratios kept: a slow drift of the machine
 * moves both sides of a pair, and cancels, where a ratio of two medians taken from different rounds
 * would keep it.
 */
export function pairedRatio (target: LoadResult | undefined, baseline: LoadResult | undefined, measure: Measure = RATE): number {
  const a = target?.runs ?? []
  if (a.length === 0 || a.length !== baseline?.runs?.length) return target && baseline ? measure(target) / measure(baseline) : NaN
  return median(pairedRatios(target, baseline, measure))
}

/** Each round's ratio for pairedRatio, in order (a round whose measure is missing left out). */
export function pairedRatios (target: LoadResult | undefined, baseline: LoadResult | undefined, measure: Measure = RATE): number[] {
  const b = baseline?.runs ?? []
  return (target?.runs ?? []).map((run, i) => { const base = b[i]; return base ? measure(run) / measure(base) : NaN }).filter(Number.isFinite)
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] ?? 0 : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

/**
 * Runs candidates in alternation, after one discarded warm-up run each, and keeps each one's
 * median round: machines here are shared and noisy, so only same-run ratios mean much.
 */
export async function alternate (targets: Record<string, () => Promise<LoadResult>>, rounds: number, warmup: () => Promise<void>): Promise<Record<string, LoadResult>> {
  await warmup()
  const runs: Record<string, LoadResult[]> = {}
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(targets)) (runs[name] ??= []).push(await run())
  }
  const out: Record<string, LoadResult> = {}
  for (const [name, results] of Object.entries(runs)) {
    const summary = summarize(results)
    if (summary) out[name] = summary
  }
  return out
}

/** One target's rounds as one result: its median round, with every round's errors, req/s and own result. */
function summarize (results: LoadResult[]): LoadResult | undefined {
  const pick = median(results.map((r) => r.rps))
  const chosen = results.find((r) => r.rps === pick) ?? results[0]
  return chosen && {
    ...chosen,
    errors: results.reduce((n, r) => n + r.errors, 0),
    non2xx: results.reduce((n, r) => n + r.non2xx, 0),
    rounds: results.map((r) => Math.round(r.rps)),
    runs: results
  }
}

/** The median over a summary's rounds of what `of` reads of each (a CPU share, a CPU's busy time). */
export const medianOver = (r: LoadResult | undefined, of: (run: LoadResult) => number): number => median((r?.runs ?? (r ? [r] : [])).map(of).filter(Number.isFinite))

/** Two servers' rates over rounds in which both were loaded at the same time. */
export interface SideBySide {
  /** The median over rounds of a's rate over b's. */
  ratio: number
  /** Each round's ratio, in order. */
  ratios: number[]
  /** a's round with the median rate, with every round's rate and result. */
  a: LoadResult | undefined
  /** The same of b. */
  b: LoadResult | undefined
}

/** Each round's ratio of a's measure over b's, in order. */
export function sideRatios (s: SideBySide, measure: Measure): number[] {
  const as = s.a?.runs ?? []
  const bs = s.b?.runs ?? []
  return as.map((a, i) => { const b = bs[i]; return b ? measure(a) / measure(b) : NaN })
}

/** The median over rounds of a's measure over b's. */
export const sideRatio = (s: SideBySide, measure: Measure): number => median(sideRatios(s, measure).filter(Number.isFinite))

/**
 * Two servers pinned to the same CPU and loaded at the same time, each by its own wrk on the load
 * generator's CPU. Both run at the same instants on the same machine, so the machine's speed (it
 * drifts by a third within seconds here, which paired but consecutive rounds still feel) moves both
 * alike, and their CPU per answer compares what an answer costs each. Their rates' ratio says the
 * same only while the scheduler gives both the same share of the CPU, that is while both always
 * have work: a server left waiting for requests (its wrk short of CPU) yields its share to the
 * other, which pulls the rates' ratio towards 1. Which one starts first alternates from round to round.
 * One round together comes first and is not counted: after sitting idle through other scenarios,
 * a gateway's first round together came out 10-20% below its later ones in every run.
 * A round a wrk did not report a rate for is left out (and said, on stderr).
 */
export async function sideBySide (a: () => Promise<LoadResult>, b: () => Promise<LoadResult>, rounds: number): Promise<SideBySide> {
  return sideBySideAcross([a], [b], rounds)
}

/**
 * sideBySide over every pair of several started instances of a and of b, `rounds` counted rounds
 * per pair, the median over all of them. Two processes of the same server can differ by several
 * percent for their whole life (two bare routes measured 0.91 of each other in one run, 1.02 in
 * the next), so a ratio from one pair of processes carries that luck; pairing instances cancels it.
 */
export async function sideBySideAcross (as: Array<() => Promise<LoadResult>>, bs: Array<() => Promise<LoadResult>>, rounds: number): Promise<SideBySide> {
  const ratios: number[] = []
  const results: LoadResult[] = []
  const others: LoadResult[] = []
  for (const a of as) for (const b of bs) await pairRounds(a, b, rounds, ratios, results, others)
  return { ratio: median(ratios), ratios, a: summarize(results), b: summarize(others) }
}

async function pairRounds (a: () => Promise<LoadResult>, b: () => Promise<LoadResult>, rounds: number, ratios: number[], results: LoadResult[], others: LoadResult[]): Promise<void> {
  await Promise.all([a(), b()])
  for (let round = 0; round < rounds; round++) {
    const [ra, rb] = round % 2 === 0 ? await Promise.all([a(), b()]) : await Promise.all([b(), a()]).then(([y, x]) => [x, y])
    const ratio = ra.rps / rb.rps
    if (!Number.isFinite(ratio) || ratio <= 0) {
      process.stderr.write(`side by side: round ${round + 1} left out (req/s ${ra.rps} and ${rb.rps})\n`)
      continue
    }
    results.push(ra)
    others.push(rb)
    ratios.push(ratio)
  }
}
