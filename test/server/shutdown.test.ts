// The process as operators run it: the compiled server in a child process. SIGTERM lets in-flight
// requests finish and exits 0; a configuration error exits 1 naming the variable.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type AddressInfo } from 'node:net'
import { Agent, request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { AUTH, TEST_API_KEY, TEST_API_SECRET, TEST_API_USER } from '../helpers/gateway.js'
import { refusedUrl } from '../helpers/fault-upstream.js'
import { expectedBulkBody } from '../helpers/expected.js'
import { waitFor } from '../helpers/wait.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

interface Child {
  proc: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

const children: Child[] = []
let sim: MorSimulator

beforeAll(async () => {
  // The server runs as built, the way `npm start` runs it.
  sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET, delayMs: 400 })
}, 120_000)
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL')
    await child.exited
  }
})
afterAll(async () => { await sim?.close() })

function startServer (env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['dist/src/server.js'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  proc.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString('utf8') })
  proc.stderr?.on('data', (chunk: Buffer) => { err += chunk.toString('utf8') })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  const child = { proc, stdout: () => out, stderr: () => err, exited }
  children.push(child)
  return child
}

const logLines = (child: Child) => child.stdout().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { msg: string, signal?: string, req?: { url?: string } })

const GATEWAY_ENV = { MOR_API_USER: TEST_API_USER, MOR_API_SECRET: TEST_API_SECRET, GATEWAY_API_KEYS: TEST_API_KEY, LOG_LEVEL: 'info' }

/** A listening server with 20 requests in flight, each for a different user, when SIGTERM arrives. */
async function terminateUnderLoad (client: Agent) {
  const port = Number(new URL(await refusedUrl()).port)
  const server = startServer({ ...GATEWAY_ENV, MOR_URL: sim.url, PORT: String(port) })
  await waitFor(() => logLines(server).some((l) => l.msg.startsWith('Server listening at')), { what: 'Server listening', timeoutMs: 10_000 })
  const base = `http://127.0.0.1:${port}`
  const ids = Array.from({ length: 20 }, (_, i) => 1000 + i)
  const callsBefore = sim.calls.total
  const inFlight = Promise.all(ids.map(async (id) => {
    const res = await request(`${base}/v1/users/${id}/devices`, { headers: AUTH, dispatcher: client })
    return { status: res.statusCode, body: await res.body.json() }
  }))
  // All 20 have reached MOR, which takes 400 ms to answer each.
  await waitFor(() => sim.calls.total === callsBefore + 20, { what: 'twenty upstream calls', timeoutMs: 10_000 })
  server.proc.kill('SIGTERM')
  return { server, base, ids, inFlight }
}

describe('the server process', () => {
  it('finishes every in-flight request on SIGTERM, refuses new ones, logs it and exits 0', async () => {
    const client = new Agent()
    const { server, base, ids, inFlight } = await terminateUnderLoad(client)
    await waitFor(() => logLines(server).some((l) => l.msg === 'shutting down'), { what: 'the shutdown log line', timeoutMs: 10_000 })

    // A new connection after SIGTERM is refused, or answered 503 while the server drains.
    const fresh = new Agent()
    const late = await request(`${base}/v1/users/1100/devices`, { headers: AUTH, dispatcher: fresh }).then(
      async (res) => { await res.body.dump(); return res.statusCode },
      (err: unknown) => (err as { code?: string }).code
    )
    await fresh.close()
    expect(['ECONNREFUSED', 503]).toContain(late)

    const answers = await inFlight
    expect(answers).toStrictEqual(ids.map((id) => ({ status: 200, body: expectedBulkBody(id) })))
    // The client hangs up once it has its answers (see the next test for one that does not).
    await client.close()
    expect(await server.exited).toBe(0)
    expect(server.stderr()).toBe('')
    expect(logLines(server).filter((l) => l.msg === 'shutting down')).toStrictEqual([expect.objectContaining({ signal: 'SIGTERM' })])
    expect(sim.calls.byUser.get('1100')).toBeUndefined()
  })

  // Bug: server.close() closes the connections idle at that moment; the ones serving the in-flight
  // requests turn idle later and stay open (keep-alive timeout 72 s), so close-with-grace kills the
  // process after its 10 s grace with "killed by timeout (10000ms)" and exit code 1.
  it('exits 0 after draining even while clients keep their connections alive', async () => {
    const client = new Agent()
    try {
      const { server, inFlight } = await terminateUnderLoad(client)
      expect((await inFlight).map((a) => a.status)).toStrictEqual(Array.from({ length: 20 }, () => 200))
      expect(await server.exited).toBe(0)
    } finally {
      await client.destroy()
    }
  })

  it('exits 1 with a message naming MOR_URL when it is missing', async () => {
    const server = startServer({ ...GATEWAY_ENV, PORT: '0' })
    expect(await server.exited).toBe(1)
    expect(server.stderr()).toBe('mor-gateway: invalid configuration:\n  MOR_URL is required\n')
    expect(server.stdout()).toBe('')
  })

  it('exits 1 naming PORT when the port is taken, without a stack trace', async () => {
    const busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const port = (busy.address() as AddressInfo).port
    try {
      const server = startServer({ ...GATEWAY_ENV, MOR_URL: sim.url, PORT: String(port) })
      expect(await server.exited).toBe(1)
      expect(server.stderr()).toBe(`mor-gateway: port ${port} on 127.0.0.1 is already in use: set PORT (or HOST) to a free one\n`)
    } finally {
      busy.close()
    }
  })

  it('exits 1 with a clean message, not a stack trace, when GATEWAY_API_KEYS_FILE cannot be read', async () => {
    const server = startServer({ ...GATEWAY_ENV, MOR_URL: sim.url, PORT: '0', GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: '/nonexistent/keys' })
    expect(await server.exited).toBe(1)
    expect(server.stderr()).toBe('mor-gateway: invalid configuration:\n  GATEWAY_API_KEYS_FILE cannot be read (ENOENT)\n')
  })

  it('gives up on a request that outlives SHUTDOWN_GRACE_MS and exits 1', async () => {
    const port = Number(new URL(await refusedUrl()).port)
    // At debug, to see the request arrive. Load shedding must not answer it 503 at once: set out of
    // the way, and readiness is 200 before it is sent.
    const server = startServer({ ...GATEWAY_ENV, LOG_LEVEL: 'debug', MAX_EVENT_LOOP_DELAY_MS: '60000', MOR_URL: sim.url, PORT: String(port), SHUTDOWN_GRACE_MS: '300' })
    await waitFor(() => logLines(server).some((l) => l.msg === 'gateway started'), { what: 'the start-up line', timeoutMs: 10_000 })
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200, { what: 'readiness' })
    // A legacy client that sends its headers and a tenth of its body, then nothing: a request in
    // flight for as long as REQUEST_TIMEOUT_MS (30 s) allows.
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => {})
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write('POST /billing/api/devices_get HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nu=admin&a=')
    await waitFor(() => logLines(server).some((l) => l.msg === 'incoming request' && l.req?.url === '/billing/api/devices_get'), { what: 'the request to arrive' })
    server.proc.kill('SIGTERM')
    try {
      expect(await server.exited).toBe(1)
      // close-with-grace names the grace it gave up after: the configured one, not its 10 s default.
      expect(server.stderr()).toBe('killed by timeout (300ms)\n')
    } finally {
      socket.destroy()
    }
  })

  it('logs one start-up line saying what it will do, secrets from files, and no secret anywhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-secrets-'))
    writeFileSync(join(dir, 'secret'), `${TEST_API_SECRET}\n`)
    writeFileSync(join(dir, 'redis'), 'redis://gateway:Redis-Pass-77@127.0.0.1:1/3\n')
    const morUrl = new URL(sim.url)
    morUrl.username = 'basic-user'
    morUrl.password = 'Url-Pass-55'
    const server = startServer({
      ...GATEWAY_ENV, MOR_API_SECRET: '', MOR_API_SECRET_FILE: join(dir, 'secret'), REDIS_URL_FILE: join(dir, 'redis'), MOR_URL: morUrl.href, PORT: '0', REDIS_TIMEOUT_MS: '50'
    })
    try {
      await waitFor(() => logLines(server).some((l) => l.msg === 'gateway started'), { what: 'the start-up line', timeoutMs: 10_000 })
      const line = logLines(server).find((l) => l.msg === 'gateway started') as unknown as Record<string, unknown>
      const port = Number(/:([0-9]+)$/.exec((line.listeners as string[])[0] as string)?.[1])
      expect(line).toMatchObject({ mor: new URL(sim.url).origin, redis: 'single 127.0.0.1:1/3', auth: 'api-keys', apiKeys: 1, passthrough: true, docs: true, tracing: 'off', listeners: [`http://127.0.0.1:${port}`] })
      // The secret read from the file signs calls: MOR accepts them.
      const res = await request(`http://127.0.0.1:${port}/v1/users/2/devices`, { headers: AUTH })
      expect(res.statusCode).toBe(200)
      await res.body.dump()
      server.proc.kill('SIGTERM')
      expect(await server.exited).toBe(0)
      for (const secret of [TEST_API_SECRET, TEST_API_KEY, 'Redis-Pass-77', 'Url-Pass-55', 'basic-user']) {
        expect(server.stdout() + server.stderr()).not.toContain(secret)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
