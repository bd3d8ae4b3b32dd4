// Replays the Dockerfile without a container engine (CI has none): each stage in its own
// temporary root, its COPY and RUN lines as written (the context filtered by .dockerignore), then
// the last stage's CMD started against the MOR simulator the way a container would start it. It is
// read from the Dockerfile, not restated, so the two cannot drift. Docker-only properties (PID 1,
// file ownership, the base image's own Node) are out of its reach; docs/container.md says which.
// Run: npm run build && node dist/scripts/dockerfile-check.js
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, posix, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEMO_API_SECRET, DEMO_API_USER, SEEDED_USERS } from '../src/demo/data.js'
import { freePort } from './ports.js'
import { dockerignore, execForm, parseDockerfile, Stop, type Instruction } from './dockerfile-parse.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const SIMULATOR = fileURLToPath(new URL('../src/demo/main.js', import.meta.url))
const RUN_TIMEOUT_MS = 10 * 60_000
const READY_TIMEOUT_MS = 30_000
/** Past SHUTDOWN_GRACE_MS (10 s unless set) the gateway exits on its own, with 1. */
const STOP_TIMEOUT_MS = 15_000
const DEVICES_USER_ID = 2
/** Flags the replay honours or may safely ignore (ownership and platform are beyond it). */
const KNOWN_FLAGS: Record<string, string[]> = {
  FROM: ['platform'], COPY: ['from', 'chown', 'chmod', 'link'], HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries']
}

interface Stage { name: string, root: string, workdir: string, env: Record<string, string>, user: string, expose: string[], cmd?: string[], healthcheck?: { argv: string[], timeoutMs: number } }

let failures = 0
function report (ok: boolean, what: string, detail = ''): boolean {
  console.log(`${ok ? 'PASS' : 'FAIL'} ${what}${detail === '' ? '' : `: ${detail}`}`)
  if (!ok) failures++
  return ok
}

// ---- Processes ---------------------------------------------------------------------------------

const children = new Set<ChildProcess>()
interface Started { child: ChildProcess, output: () => string, exit: Promise<{ code: number | null, signal: NodeJS.Signals | null }> }

/** In its own process group, so npm's own children die with it on cleanup. */
function start (argv: string[], cwd: string, env: Record<string, string>): Started {
  const [command = '', ...args] = argv
  const child = spawn(command === 'node' ? process.execPath : command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let output = ''
  const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-20_000) }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exit = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (err) => { keep(Buffer.from(String(err))); children.delete(child); resolve({ code: null, signal: null }) })
    child.once('close', (code, signal) => { children.delete(child); resolve({ code, signal }) })
  })
  return { child, output: () => output, exit }
}

const killGroup = (child: ChildProcess) => { try { process.kill(-(child.pid ?? 0), 'SIGKILL') } catch {} }
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The exit status, or undefined if the process outlived `ms` (it is then killed). */
async function within (started: Started, ms: number) {
  let timer: NodeJS.Timeout | undefined
  const result = await Promise.race([started.exit, new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms) })])
  clearTimeout(timer)
  if (result === undefined) killGroup(started.child)
  return result
}

const tail = (text: string) => text.trim().split('\n').slice(-25).map((l) => `    ${l}`).join('\n')

async function get (url: string, headers: Record<string, string> = {}) {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(5000) })
    return { status: res.status, body: await res.text() }
  } catch (err) {
    return { status: 0, body: String(err) }
  }
}

// ---- The stages --------------------------------------------------------------------------------

/** What `RUN` sees: the stage's ENV over a bare environment, npm reaching its local cache first. */
function runEnv (stage: Stage): Record<string, string> {
  const passed = ['PATH', 'HOME', 'TMPDIR', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']
  const env: Record<string, string> = {}
  for (const name of passed) {
    const value = process.env[name]
    if (value !== undefined) env[name] = value
  }
  return { ...env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false', ...stage.env }
}

function parseEnvLine (rest: string): Record<string, string> {
  const tokens = rest.match(/(?:[^\s"]+|"[^"]*")+/g) ?? []
  const unquote = (s: string) => s.replace(/"/g, '')
  if (tokens[0] !== undefined && !tokens[0].includes('=')) return { [tokens[0]]: unquote(rest.slice(tokens[0].length).trim()) }
  return Object.fromEntries(tokens.map((t) => { const at = t.indexOf('='); return [t.slice(0, at), unquote(t.slice(at + 1))] }))
}

/** COPY: a folder's contents go into the destination, files into it when it ends in / or there are several. */
function copy (ins: Instruction, stage: Stage, stages: Map<string, Stage>, ignored: (path: string) => boolean) {
  const parts = ins.rest.split(/\s+/)
  const dest = parts.pop() ?? ''
  const from = ins.flags.get('from')
  const source = from === undefined ? undefined : stages.get(from)
  if (from !== undefined && source === undefined) throw new Stop(`line ${ins.line}: no stage ${from}`)
  const into = join(stage.root, posix.resolve(stage.workdir, dest))
  for (const part of parts) {
    const src = source === undefined ? join(REPO, part) : join(source.root, posix.resolve(source.workdir, part))
    if (source === undefined && ignored(posix.normalize(part))) throw new Stop(`line ${ins.line}: ${part} is excluded by .dockerignore`)
    if (!existsSync(src)) throw new Stop(`line ${ins.line}: ${part} not found`)
    const intoDir = dest.endsWith('/') || parts.length > 1 || (existsSync(into) && statSync(into).isDirectory())
    const target = statSync(src).isDirectory() || !intoDir ? into : join(into, basename(src))
    const filter = (path: string) => source !== undefined || relative(REPO, path) === '' || !ignored(relative(REPO, path).split('\\').join('/'))
    cpSync(src, target, { recursive: true, filter, verbatimSymlinks: true })
  }
}

async function build (instructions: Instruction[], root: string, ignored: (path: string) => boolean): Promise<Stage> {
  const stages = new Map<string, Stage>()
  let stage: Stage | undefined
  for (const ins of instructions) {
    const unknown = [...ins.flags.keys()].filter((flag) => !(KNOWN_FLAGS[ins.keyword] ?? []).includes(flag))
    if (unknown.length > 0) throw new Stop(`line ${ins.line}: ${ins.keyword} --${unknown.join(' --')} is not replayed by this check`)
    if (ins.keyword === 'FROM') {
      const [image = '', as, name] = ins.rest.split(/\s+/)
      const parent = stages.get(image)
      const dir = join(root, `${stages.size}-${name ?? 'stage'}`)
      if (parent) cpSync(parent.root, dir, { recursive: true, verbatimSymlinks: true })
      mkdirSync(dir, { recursive: true })
      const from = parent ?? { workdir: '/', env: {}, user: 'root', expose: [] }
      stage = { ...from, env: { ...from.env }, expose: [...from.expose], name: as?.toUpperCase() === 'AS' && name ? name : String(stages.size), root: dir }
      stages.set(stage.name, stage)
      continue
    }
    if (stage === undefined) throw new Stop(`line ${ins.line}: ${ins.keyword} before FROM`)
    // Docker substitutes variables in these, never in exec-form arrays or in RUN (the shell does).
    if (['FROM', 'WORKDIR', 'ENV', 'COPY', 'USER', 'EXPOSE'].includes(ins.keyword) && ins.rest.includes('$')) throw new Stop(`line ${ins.line}: variables are not supported by this check`)
    switch (ins.keyword) {
      case 'WORKDIR': stage.workdir = posix.resolve(stage.workdir, ins.rest); mkdirSync(join(stage.root, stage.workdir), { recursive: true }); break
      case 'ENV': Object.assign(stage.env, parseEnvLine(ins.rest)); break
      case 'USER': stage.user = ins.rest; break
      case 'EXPOSE': stage.expose.push(...ins.rest.split(/\s+/)); break
      case 'COPY': copy(ins, stage, stages, ignored); break
      case 'CMD': stage.cmd = execForm(ins.rest) ?? ['/bin/sh', '-c', ins.rest]; break
      case 'HEALTHCHECK': {
        const argv = execForm(ins.rest.replace(/^CMD\s+/, ''))
        if (argv === undefined) throw new Stop(`line ${ins.line}: HEALTHCHECK in shell form; write it in exec form`)
        const timeout = /^([0-9]+)s$/.exec(ins.flags.get('timeout') ?? '30s')?.[1]
        if (timeout === undefined) throw new Stop(`line ${ins.line}: HEALTHCHECK --timeout in whole seconds, please (e.g. 5s)`)
        stage.healthcheck = { argv, timeoutMs: 1000 * Number(timeout) }
        break
      }
      case 'RUN': {
        const began = Date.now()
        const run = start(execForm(ins.rest) ?? ['sh', '-c', ins.rest], join(stage.root, stage.workdir), runEnv(stage))
        const result = await within(run, RUN_TIMEOUT_MS)
        const what = `${stage.name}: RUN ${ins.rest} (${((Date.now() - began) / 1000).toFixed(1)} s)`
        if (!report(result?.code === 0, what, result === undefined ? 'timed out' : result.code === 0 ? '' : `exit ${result.code}\n${tail(run.output())}`)) throw new Stop(what)
        break
      }
      default: throw new Stop(`line ${ins.line}: ${ins.keyword} is not replayed by this check; teach it first`)
    }
  }
  if (stage === undefined) throw new Stop('no FROM in the Dockerfile')
  return stage
}

// ---- The checks --------------------------------------------------------------------------------

/** What the issue asks of the final stage, read from the Dockerfile. */
function checkDefinition (run: Stage, instructions: Instruction[]) {
  const images = instructions.filter((i) => i.keyword === 'FROM').map((i) => i.rest.split(/\s+/)[0] ?? '')
  const external = images.filter((image) => !instructions.some((i) => i.keyword === 'FROM' && i.rest.split(/\s+/)[2] === image))
  report(external.every((image) => /:[^:]+$/.test(image) && !image.endsWith(':latest')), 'base image pinned by tag', external.join(', '))
  report(run.user !== 'root' && run.user !== '0' && !run.user.startsWith('0:'), 'runs as a non-root user', run.user)
  report(run.env.NODE_ENV === 'production' && run.env.HOST === '0.0.0.0', 'NODE_ENV=production and HOST=0.0.0.0', `NODE_ENV=${run.env.NODE_ENV} HOST=${run.env.HOST}`)
  report(run.expose.includes(run.env.PORT ?? '3000'), 'EXPOSE includes PORT', run.expose.join(' '))
  report(run.cmd?.[0] === 'node', 'CMD starts node itself (signals reach the gateway)', JSON.stringify(run.cmd))
}

/** Dev-only packages, as the lockfile marks them, must not be in the final stage. */
function checkNoDevDependencies (run: Stage) {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> }
  const dev = Object.entries(lock.packages).filter(([path, p]) => p.dev === true && path !== '').map(([path]) => path)
  const present = dev.filter((path) => existsSync(join(run.root, run.workdir, path)))
  const ok = dev.includes('node_modules/typescript') && dev.includes('node_modules/vitest') && present.length === 0
  report(ok, 'no devDependencies in the final stage', `${present.length} of ${dev.length} dev-only packages present${present.length === 0 ? '' : `, e.g. ${present.slice(0, 5).join(' ')}`}`)
}

async function smoke (run: Stage) {
  if (run.cmd === undefined || run.healthcheck === undefined) throw new Stop('the final stage has no CMD or HEALTHCHECK')
  const [simPort, port, metricsPort] = [await freePort(), await freePort(), await freePort()]
  const sim = start(['node', SIMULATOR], REPO, { PATH: process.env.PATH ?? '', MOR_SIM_PORT: String(simPort), MOR_SIM_HOST: '127.0.0.1' })
  let morUrl: string | undefined
  for (const deadline = Date.now() + READY_TIMEOUT_MS; morUrl === undefined && Date.now() < deadline && sim.child.exitCode === null; await sleep(50)) {
    morUrl = /simulator \(simulated data\) at (http[^\s,]+)/.exec(sim.output())?.[1]
  }
  if (!report(morUrl !== undefined, 'MOR simulator started', morUrl ?? tail(sim.output()))) throw new Stop('no simulator')

  const key = `check-${randomBytes(24).toString('hex')}`
  const env = { PATH: process.env.PATH ?? '', ...run.env, HOST: '127.0.0.1', PORT: String(port), METRICS_PORT: String(metricsPort), MOR_URL: morUrl ?? '', MOR_API_USER: DEMO_API_USER, MOR_API_SECRET: DEMO_API_SECRET, GATEWAY_API_KEYS: key }
  const cwd = join(run.root, run.workdir)
  const gateway = start(run.cmd, cwd, env)
  const base = `http://127.0.0.1:${port}`
  let ready = { status: 0, body: '' }
  for (const deadline = Date.now() + READY_TIMEOUT_MS; ready.status !== 200 && Date.now() < deadline && gateway.child.exitCode === null; await sleep(100)) {
    ready = await get(`${base}/health/ready`)
  }
  if (!report(ready.status === 200, 'CMD starts; GET /health/ready is 200', ready.status === 200 ? ready.body : `${ready.status}\n${tail(gateway.output())}`)) throw new Stop('not ready')

  const devices = await get(`${base}/v1/users/${DEVICES_USER_ID}/devices`, { authorization: `Bearer ${key}` })
  const ids = devices.status === 200 ? (JSON.parse(devices.body) as { devices: Array<{ id: number }> }).devices.map((d) => d.id) : []
  const expected = SEEDED_USERS.find((u) => u.id === DEVICES_USER_ID)?.devices.map((d) => d.device_id) ?? []
  report(devices.status === 200 && JSON.stringify(ids) === JSON.stringify(expected), `GET /v1/users/${DEVICES_USER_ID}/devices is 200 with the simulator's devices`, `${devices.status} ids ${JSON.stringify(ids)}${devices.status === 200 ? '' : `\n${tail(gateway.output())}`}`)
  const metrics = await get(`http://127.0.0.1:${metricsPort}/metrics`)
  report(metrics.status === 200, 'GET /metrics on METRICS_PORT is 200', String(metrics.status))

  const health = await within(start(run.healthcheck.argv, cwd, env), run.healthcheck.timeoutMs)
  report(health?.code === 0, 'HEALTHCHECK exits 0 while the gateway runs', health === undefined ? 'timed out' : `exit ${health.code}`)

  const stopping = Date.now()
  gateway.child.kill('SIGTERM')
  const stopped = await within(gateway, STOP_TIMEOUT_MS)
  report(stopped?.code === 0, `SIGTERM: exits 0 within ${STOP_TIMEOUT_MS / 1000} s`, stopped === undefined ? `still running\n${tail(gateway.output())}` : `exit ${stopped.code ?? stopped.signal} after ${Date.now() - stopping} ms`)
  // The negative case: a HEALTHCHECK that passes with nothing listening would prove nothing.
  const after = await within(start(run.healthcheck.argv, cwd, env), run.healthcheck.timeoutMs)
  report(after !== undefined && after.code !== 0, 'HEALTHCHECK fails once the gateway is gone', after === undefined ? 'timed out' : `exit ${after.code}`)
}

// ---- Main --------------------------------------------------------------------------------------

const root = mkdtempSync(join(tmpdir(), 'dockerfile-check-'))
const cleanup = () => {
  for (const child of children) killGroup(child)
  rmSync(root, { recursive: true, force: true })
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { cleanup(); console.log(`FAIL dockerfile check: interrupted by ${signal}`); process.exit(130) })
}

const began = Date.now()
try {
  console.log(`note: replayed with this machine's Node ${process.version}, not the base image's`)
  const instructions = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'))
  const ignored = dockerignore(existsSync(join(REPO, '.dockerignore')) ? readFileSync(join(REPO, '.dockerignore'), 'utf8') : '')
  const run = await build(instructions, root, ignored)
  checkDefinition(run, instructions)
  checkNoDevDependencies(run)
  await smoke(run)
} catch (err) {
  report(false, 'dockerfile check', err instanceof Stop ? err.message : String((err as Error).stack ?? err))
} finally {
  cleanup()
}
console.log(`${failures === 0 ? 'PASS' : 'FAIL'} dockerfile check: ${failures} failure(s) in ${((Date.now() - began) / 1000).toFixed(1)} s`)
process.exit(failures === 0 ? 0 : 1)
