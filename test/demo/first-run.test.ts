// What a new user copies from the terminal must work as printed: the simulator's "point a gateway
// at it" command, and the demo banner's legacy curl line.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort, ROOT } from '../helpers/gateway-process.js'
import { waitFor } from '../helpers/wait.js'

const run = promisify(execFile)
const children: ChildProcess[] = []

/** Starts `node <script>` and collects its standard output. */
function start (script: string, env: Record<string, string>) {
  const proc = spawn(process.execPath, [script], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(proc)
  let out = ''
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  return { proc, output: () => out }
}

afterEach(() => { for (const child of children.splice(0)) child.kill('SIGKILL') })

describe('first run', () => {
  it('the simulator prints a gateway command that starts a working gateway as printed', async () => {
    const sim = start('dist/src/demo/main.js', { MOR_SIM_PORT: String(await freePort()) })
    await waitFor(() => sim.output().includes('npm start'), { what: 'the printed command' })
    const line = /point a gateway at it: (.*) npm start/.exec(sim.output())?.[1] ?? ''
    const env = Object.fromEntries(line.split(' ').map((pair) => pair.split('=') as [string, string]))
    expect(Object.keys(env)).toStrictEqual(['MOR_URL', 'MOR_API_USER', 'MOR_API_SECRET', 'GATEWAY_API_KEYS', 'PORT'])
    // As printed, but on a free port: the test machine may have something on 3000.
    const port = await freePort()
    start('dist/src/server.js', { ...env, PORT: String(port) })
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => undefined))?.ok === true, { timeoutMs: 15_000, what: 'the gateway' })
    // A gateway just started on a loaded machine may shed its first requests (503, Retry-After): it says to retry.
    const devices = () => fetch(`http://127.0.0.1:${port}/v1/users/2/devices`, { headers: { authorization: `Bearer ${env.GATEWAY_API_KEYS}` } })
    let res = await devices()
    await waitFor(async () => res.status !== 503 || (res = await devices()).status !== 503, { timeoutMs: 15_000, what: 'an answer that is not shed' })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { userId: number }).userId).toBe(2)
  })

  it('the demo banner\'s curl lines work as printed: legacy, a page, one device', async () => {
    const demo = start('dist/src/demo/demo.js', { PORT: String(await freePort()) })
    await waitFor(() => demo.output().includes('Stop'), { timeoutMs: 15_000, what: 'the banner' })
    const curlOf = async (label: string) => {
      const curl = new RegExp(`${label}\\s+(curl .*)$`, 'm').exec(demo.output())?.[1] ?? ''
      const args = [...curl.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '').slice(1)
      return (await run('curl', args)).stdout
    }
    const legacy = await curlOf('Legacy API')
    expect(legacy).toContain('<device_type>')
    expect(legacy).not.toContain('<error>')
    const page = JSON.parse(await curlOf('A page')) as { devices: Array<{ type: string }>, nextCursor: string | null }
    expect(page.devices).toHaveLength(100)
    expect(page.devices.every((d) => d.type.toLowerCase() === 'sip')).toBe(true)
    expect(page.nextCursor).toEqual(expect.any(String))
    const device = JSON.parse(await curlOf('One device')) as { id: number, userId: number }
    expect(device).toMatchObject({ id: 5, userId: 2 })
    // A write through the passthrough shows in the JSON API at once (the list was cached before it).
    const key = /API key\s+(\S+)/.exec(demo.output())?.[1] ?? ''
    const base = /Gateway\s+(\S+)/.exec(demo.output())?.[1] ?? ''
    const user3 = async () => ((await (await fetch(`${base}/v1/users/3/devices`, { headers: { authorization: `Bearer ${key}` } })).json()) as { devices: unknown[] }).devices.length
    expect(await user3()).toBe(1)
    expect(await curlOf('Legacy write')).toContain('<status>Device created</status>')
    await waitFor(async () => (await user3()) === 2, { timeoutMs: 1000, what: 'the created device in user 3\'s list' })
  })
})
