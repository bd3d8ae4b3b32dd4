// Spawns a real, throwaway redis-server on a free loopback port, so tests can stop and restart it
// without touching any Redis the machine already runs.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, connect } from 'node:net'
import type { AddressInfo } from 'node:net'

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

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function waitForPort (port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
      socket.on('error', () => resolve(false))
    })
    if (open) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`)
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
