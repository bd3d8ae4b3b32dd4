// Benchmark plumbing: child processes on loopback, free ports, autocannon runs, statistics.
import { spawn, type ChildProcess } from 'node:child_process'
import autocannon from 'autocannon'
import { freePort, waitForPort } from '../scripts/ports.js'

export const ROOT = new URL('../../', import.meta.url) // dist/bench/ -> project root
export const DIST = new URL('../', import.meta.url)

export { freePort, waitForPort }

const children = new Set<ChildProcess>()

/** Starts a process that must listen on `port`; it is killed when the bench ends, whatever happens. */
export async function startProcess (command: string, args: string[], port: number, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] })
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

export interface LoadResult {
  rps: number
  p50: number
  p99: number
  errors: number
  non2xx: number
  /** Every round's req/s, in order, when the result is the median of alternating rounds. */
  rounds?: number[]
}

export interface LoadOptions {
  seconds: number
  connections?: number
  headers?: Record<string, string>
  paths?: () => string
  /** GET unless given; with `body`, what legacy clients send (a form POST). */
  method?: 'GET' | 'POST'
  body?: string
}

export async function load (url: string, opts: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections: opts.connections ?? 32,
    duration: opts.seconds,
    headers: opts.headers,
    ...(opts.method ? { method: opts.method } : {}),
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    ...(opts.paths ? { requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, path: opts.paths?.() ?? '/' }) }] } : {})
  })
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.timeouts, non2xx: result.non2xx }
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
    const pick = median(results.map((r) => r.rps))
    const chosen = results.find((r) => r.rps === pick) ?? results[0]
    if (chosen) out[name] = { ...chosen, errors: results.reduce((n, r) => n + r.errors, 0), non2xx: results.reduce((n, r) => n + r.non2xx, 0), rounds: results.map((r) => Math.round(r.rps)) }
  }
  return out
}
