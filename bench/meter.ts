// Metering a load run on Linux: the CPU time the server's process spent in it (all its threads,
// user and kernel, from /proc/<pid>/stat) over the answers it served, how much of the run it had
// work (its main thread running or waiting to run, /proc/<pid>/task/<pid>/schedstat), and how busy
// each CPU was (/proc/stat). CPU per answer at saturation is what an answer costs; unlike a rate it
// does not depend on how much of a CPU the server was given (docs/benchmarks.md, issue 27 entry).
// Elsewhere than Linux the readings are missing and the ratios read NaN.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** What a metered run adds to its result. */
export interface Metered {
  /** Answers the load generator received in the run. */
  answers?: number
  /** The metered server's CPU time in the run, user and kernel, and user alone (ms), and the run's length. */
  cpu?: { totalMs: number, userMs: number, wallMs: number }
  /** How busy each of the machine's CPUs was in the run (0-1, anyone's work). */
  cpuBusy?: number[]
  /**
   * The share of the run the metered server's main thread was running or waiting to run (0-1),
   * from /proc/<pid>/schedstat: near 1 when the server always had work (saturated), lower when it
   * sat waiting for requests.
   */
  demand?: number
}

/** The metered server's CPU time per answer in a run (µs), user and kernel. */
export const cpuPerAnswer = (r: Metered | undefined): number => r?.cpu && r.answers ? (r.cpu.totalMs * 1000) / r.answers : NaN
/** The same, user time alone: what the instruction counts in docs/benchmarks.md count. */
export const userCpuPerAnswer = (r: Metered | undefined): number => r?.cpu && r.answers ? (r.cpu.userMs * 1000) / r.answers : NaN
/** The share of one CPU the metered server used in a run. */
export const cpuShare = (r: Metered | undefined): number => r?.cpu ? r.cpu.totalMs / r.cpu.wallMs : NaN

/** A run counts as at saturation when the server's main thread had work for this much of it. */
export const SATURATED = 0.9
export const saturated = (r: Metered | undefined): boolean => (r?.demand ?? 0) >= SATURATED

let clockTicks: number | undefined
const ticksPerSecond = () => (clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100)

/** A process's CPU time so far (ms), all its threads: utime and stime from /proc/<pid>/stat. */
export function cpuTimeOf (pid: number): { userMs: number, systemMs: number } | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined // not Linux, or the process is gone
  }
  // The fields after the command, which is in parentheses and may hold spaces: the 3rd field
  // (state) first, so utime (14th) and stime (15th) are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ms = 1000 / ticksPerSecond()
  return { userMs: Number(fields[11]) * ms, systemMs: Number(fields[12]) * ms }
}

/** A thread's time on a CPU and waiting for one so far (ns), from /proc/<pid>/task/<tid>/schedstat. */
function schedOf (pid: number): { runNs: number, waitNs: number } | undefined {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number)
    return run === undefined || wait === undefined ? undefined : { runNs: run, waitNs: wait }
  } catch {
    return undefined
  }
}

/** Each CPU's busy and total ticks so far, from /proc/stat (idle and iowait count as not busy). */
function cpuTicks (): Array<{ busy: number, total: number }> {
  let text = ''
  try {
    text = readFileSync('/proc/stat', 'utf8')
  } catch {
    return []
  }
  return text.split('\n').filter((line) => /^cpu\d/.test(line)).map((line) => {
    const n = line.trim().split(/\s+/).slice(1, 9).map(Number)
    const total = n.reduce((a, b) => a + b, 0)
    return { busy: total - (n[3] ?? 0) - (n[4] ?? 0), total }
  })
}

/** Starts metering a run: call the result when it ends. */
export function meter (pid: number | undefined): () => Omit<Metered, 'answers'> {
  const startedAt = performance.now()
  const cpu = pid === undefined ? undefined : cpuTimeOf(pid)
  const sched = pid === undefined ? undefined : schedOf(pid)
  const ticks = cpuTicks()
  return () => {
    const wallMs = performance.now() - startedAt
    const now = pid === undefined ? undefined : cpuTimeOf(pid)
    const schedNow = pid === undefined ? undefined : schedOf(pid)
    const demand = sched && schedNow ? (schedNow.runNs - sched.runNs + schedNow.waitNs - sched.waitNs) / 1e6 / wallMs : undefined
    const after = cpuTicks()
    const cpuBusy = after.map((t, i) => {
      const b = ticks[i]
      return b === undefined || t.total === b.total ? NaN : (t.busy - b.busy) / (t.total - b.total)
    })
    if (cpu === undefined || now === undefined) return { cpuBusy }
    const userMs = now.userMs - cpu.userMs
    return { cpu: { totalMs: userMs + now.systemMs - cpu.systemMs, userMs, wallMs }, cpuBusy, ...(demand === undefined ? {} : { demand }) }
  }
}
