// The bench's report: the table's rows, the before/after comparison (BENCH_BEFORE), and printing.
import { medianOver, type LoadResult } from './lib.js'
import { cpuPerAnswer, cpuShare } from './meter.js'

export interface Row { scenario: string, target: string, result?: LoadResult | undefined, ratio?: number, goal: string, pass?: boolean, note?: string }
export const rows: Row[] = []
export const extra: Record<string, unknown> = {}

/** One measure of one resource, for the build under BENCH_BEFORE and for this one, from the same rounds. */
export interface BeforeAfter { resource: string, method: string, goal: string, before: number, after: number }
export const beforeAfter: BeforeAfter[] = []

export const fmt = (n: number | undefined, digits = 0) => n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits)

/** A server's CPU per answer, the share of a CPU it used and how much of the time it had work, as the notes give them. */
export const cpuNote = (name: string, r: LoadResult | undefined) =>
  `${name} ${fmt(medianOver(r, cpuPerAnswer), 1)} µs CPU/answer, ${fmt(medianOver(r, cpuShare) * 100)}% of a CPU, work ${fmt(medianOver(r, (run) => run.demand ?? NaN) * 100)}% of the time`

/** How busy each CPU was (anyone's work), median over a summary's rounds. */
export const busyNote = (r: LoadResult | undefined) => {
  const cpus = r?.runs?.[0]?.cpuBusy?.length ?? r?.cpuBusy?.length ?? 0
  return `CPUs busy ${Array.from({ length: cpus }, (_, i) => `${fmt(medianOver(r, (run) => run.cpuBusy?.[i] ?? NaN) * 100)}%`).join(' / ')}`
}

/** The row's note, and every round's req/s: a median hides how far apart the rounds were. */
function noteOf (r: Row): string {
  const rounds = r.result?.rounds
  return [r.note, rounds && rounds.length > 1 ? `rounds ${rounds.join(' / ')} req/s` : undefined].filter(Boolean).join('; ')
}

const markdown = (header: string[], align: string[], lines: string[][]) =>
  [header, align, ...lines].map((cols) => `| ${cols.join(' | ')} |`).join('\n')

export function printTable (): string {
  const header = ['scenario', 'target', 'req/s', 'p50 ms', 'p99 ms', 'ratio', 'goal', 'ok', 'note']
  const lines = rows.map((r) => [r.scenario, r.target, fmt(r.result?.rps), fmt(r.result?.p50, 1), fmt(r.result?.p99, 1), fmt(r.ratio, 2), r.goal, r.pass === undefined ? '' : r.pass ? 'yes' : 'NO', noteOf(r)])
  const table = markdown(header, ['---', '---', '---:', '---:', '---:', '---:', '---', '---', '---'], lines)
  process.stdout.write(`\n${table}\n`)
  return table
}

export function printBeforeAfter (label: string): string | undefined {
  if (beforeAfter.length === 0) return undefined
  const lines = beforeAfter.map((c) => [c.resource, c.method, c.goal, fmt(c.before, 2), fmt(c.after, 2)])
  const table = markdown(['resource', 'method', 'goal', label, 'after (this tree)'], ['---', '---', '---', '---:', '---:'], lines)
  process.stdout.write(`\nbefore and after, same run:\n\n${table}\n`)
  return table
}
