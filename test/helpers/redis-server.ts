// Spawns a real, throwaway redis-server on a free loopback port, so tests can stop and restart it
// without touching any Redis the machine already runs.
import { spawn, type ChildProcess } from 'node:child_process'
import { freePort, waitForPort } from '../../scripts/ports.js'

/** One redis-server process that a test can kill (SIGKILL: no goodbye to clients) and start again. */
export interface RedisProcess {
  start: () => Promise<void>
  stop: () => Promise<void>
  /** SIGSTOP/SIGCONT: a Redis that accepts connections but answers nothing, like one stuck in a fork. */
  pause: () => void
  resume: () => void
}

export interface TestRedis extends RedisProcess {
  url: string
  port: number
  close: () => Promise<void>
}

/** `redis-server <args>`, started (and ready once `port` accepts connections). */
export async function redisProcess (args: string[], port: number): Promise<RedisProcess> {
  let child: ChildProcess | undefined
  async function start () {
    child = spawn('redis-server', args, { stdio: 'ignore' })
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
  return { start, stop, pause: () => { child?.kill('SIGSTOP') }, resume: () => { child?.kill('SIGCONT') } }
}

export async function startRedis (): Promise<TestRedis> {
  const port = await freePort()
  const redis = await redisProcess(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], port)
  return { ...redis, url: `redis://127.0.0.1:${port}`, port, close: redis.stop }
}
