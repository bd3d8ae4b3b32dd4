// Spawns a real, throwaway redis-server on a free loopback port, so tests can stop and restart it
// without touching any Redis the machine already runs.
import { spawn, type ChildProcess } from 'node:child_process'
import { freePort, waitForPort } from '../../scripts/ports.js'

export interface TestRedis {
  url: string
  port: number
  stop: () => Promise<void>
  start: () => Promise<void>
  /** SIGSTOP/SIGCONT: a Redis that accepts connections but answers nothing, like one stuck in a fork. */
  pause: () => void
  resume: () => void
  close: () => Promise<void>
}

export async function startRedis (): Promise<TestRedis> {
  const port = await freePort()
  let child: ChildProcess | undefined

  async function start () {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' })
    await waitForPort(port, 5000)
  }
  async function stop () {
    const running = child
    child = undefined
    if (!running || running.exitCode !== null) return
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve())
      running.kill('SIGKILL')
    })
  }
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    pause: () => { child?.kill('SIGSTOP') },
    resume: () => { child?.kill('SIGCONT') },
    close: stop
  }
}
