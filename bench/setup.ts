// What every scenario of `npm run bench` shares: the knobs (from the environment), the servers it
// starts (the MOR simulator, the gateway as `npm start` runs it, an older build of it, Redis,
// nginx), and two small HTTP helpers.
import { spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEMO_API_SECRET, DEMO_API_USER } from '../src/demo/data.js'
import { debianTool, DIST, freePort, startProcess, type Placement } from './lib.js'

const knob = (name: string, fallback: number) => Number(process.env[name] ?? fallback)

export const SECONDS = knob('BENCH_SECONDS', 5)
// BENCH_ONLY=hit,passthrough,cold,eventloop,translate,memory runs a subset while investigating.
const ONLY = process.env.BENCH_ONLY?.split(',')
export const wanted = (name: string) => ONLY === undefined || ONLY.includes(name)
export const ROUNDS = knob('BENCH_ROUNDS', 5)
// The cache hit is a few tens of microseconds on a machine whose speed drifts by a third from
// second to second: more, shorter rounds, each paired with the bare route run just before it.
export const HIT_ROUNDS = 2 * ROUNDS - 1
export const HIT_SECONDS = Math.max(2, SECONDS - 2)
// Rounds of two servers loaded at the same time (lib.ts sideBySide): for one pair of processes, and
// for each pair when two started instances of each are paired every way (BENCH_PAIR_ROUNDS).
export const SIDE_ROUNDS = 7
export const PAIR_ROUNDS = knob('BENCH_PAIR_ROUNDS', 4)

export const KEY = 'bench-key-0123456789abcdef'
export const AUTH = { authorization: `Bearer ${KEY}` }
export const dist = (path: string) => fileURLToPath(new URL(path, DIST))
export const node = process.execPath

/** A server the bench started: its process (metered for CPU per answer) and its base URL. */
export interface Started { child: ChildProcess, url: string }

/**
 * BENCH_BEFORE=<dir>: the root of another checkout of this repo, built there (`npm ci && npm run
 * build`), whose gateway is measured beside this one in the same rounds: before and after a
 * change, on the same machine at the same time.
 */
export const BEFORE = beforeBuild(process.env.BENCH_BEFORE)

function beforeBuild (dir: string | undefined): { entry: string, label: string } | undefined {
  if (dir === undefined || dir === '') return undefined
  const entry = join(resolve(dir), 'dist/src/server.js')
  if (!existsSync(entry)) throw new Error(`BENCH_BEFORE=${dir}: no ${entry}; run \`npm ci && npm run build\` there first`)
  const commit = spawnSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout?.trim()
  return { entry, label: `gateway before (${commit || basename(resolve(dir))})` }
}

export async function startSimulator (env: Record<string, string> = {}) {
  const port = await freePort()
  const child = await startProcess(node, [dist('src/demo/main.js')], port, { MOR_SIM_PORT: String(port), ...env })
  return { child, url: `http://127.0.0.1:${port}/billing`, port }
}

/** The gateway as `npm start` runs it (or another build's entry, with the same environment). */
export async function startGateway (morUrl: string, env: Record<string, string> = {}, placement?: Placement, entry = dist('src/server.js')) {
  const port = await freePort()
  // As deployed: API keys and rate limiting on (set high enough never to refuse the load).
  const child = await startProcess(node, [entry], port, {
    MOR_URL: morUrl,
    MOR_API_USER: DEMO_API_USER,
    MOR_API_SECRET: DEMO_API_SECRET,
    GATEWAY_API_KEYS: KEY,
    RATE_LIMIT_PER_MINUTE: '10000000',
    UPSTREAM_BUDGET_PER_MINUTE: '10000000',
    PORT: String(port),
    ...env
  }, placement)
  return { child, url: `http://127.0.0.1:${port}`, port }
}

export async function startRedis (placement?: Placement) {
  const port = await freePort()
  const child = await startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], port, {}, placement)
  return { child, url: `redis://127.0.0.1:${port}` }
}

export const ensureNginx = () => debianTool('nginx', 'nginx-light')

export async function startNginx (binary: string, upstreamPort: number) {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'))
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream mor { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location /billing/api/ { proxy_pass http://mor; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}`)
  const child = await startProcess(binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], port)
  return { child, url: `http://127.0.0.1:${port}` }
}

/** A 200's body. A 503 is asked again a few times: a server just started on a busy machine can shed load for a moment. */
export async function bodyOf (url: string, tries = 10): Promise<Buffer> {
  const res = await fetch(url, { headers: AUTH })
  if (res.status === 503 && tries > 1) {
    await res.arrayBuffer()
    await new Promise((resolve) => setTimeout(resolve, 300))
    return bodyOf(url, tries - 1)
  }
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${(await res.text()).slice(0, 500)}`)
  return Buffer.from(await res.arrayBuffer())
}

export async function scrape (url: string, metric: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${metric} `))
  return Number(line?.split(' ')[1] ?? NaN)
}
