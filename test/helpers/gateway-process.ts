// The compiled gateway (dist/src/server.js, built once per run by test/global-setup.ts) as a child
// process, the way operators run it: for tests about the process itself (memory, signals, faults).
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { TEST_API_KEY, TEST_API_SECRET, TEST_API_USER } from './gateway.js'
import { freePort } from '../../scripts/ports.js'

export { freePort }

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface GatewayProcess {
  proc: ChildProcess
  url: string
  /** Resident memory from the gateway's own /metrics (process_resident_memory_bytes). */
  rss: () => Promise<number>
  /** One value from the gateway's own /metrics, by its exact series name (NaN when absent). */
  metric: (series: string) => Promise<number>
  /** The log lines (JSON) written so far. */
  logs: () => string[]
  stop: () => Promise<number | null>
}

/** `nodeArgs`: options for node itself (V8 traces, say), before the script. */
export async function startGatewayProcess (morUrl: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<GatewayProcess> {
  const port = await freePort()
  const proc = spawn(process.execPath, [...nodeArgs, 'dist/src/server.js'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      MOR_URL: morUrl,
      MOR_API_USER: TEST_API_USER,
      MOR_API_SECRET: TEST_API_SECRET,
      GATEWAY_API_KEYS: TEST_API_KEY,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      // Limits stay out of the way unless a test is about them.
      RATE_LIMIT_PER_MINUTE: '1000000',
      UPSTREAM_BUDGET_PER_MINUTE: '1000000',
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 15_000
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`gateway exited with ${proc.exitCode}`)
    try {
      if ((await fetch(`${url}/health/live`)).ok) break
    } catch {}
    if (Date.now() > deadline) throw new Error('gateway did not start')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  async function metric (series: string): Promise<number> {
    const text = await (await fetch(`${url}/metrics`)).text()
    const line = text.split('\n').find((l) => l.startsWith(`${series} `))
    return Number(line?.slice(series.length + 1) ?? NaN)
  }
  return {
    proc,
    url,
    rss: async () => await metric('process_resident_memory_bytes'),
    metric,
    logs: () => output.split('\n').filter((line) => line !== ''),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), 12_000)
      const code = await exited
      clearTimeout(timer)
      return code
    }
  }
}
