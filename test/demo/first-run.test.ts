// What a new user copies from the terminal must work as printed: the simulator's "point a gateway
// at it" command, and the demo banner's curl lines (reads, the legacy passthrough, the JSON writes).
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

  it('the demo banner\'s curl lines work as printed: legacy, a page, one device, and the three JSON writes', async () => {
    const demo = start('dist/src/demo/demo.js', { PORT: String(await freePort()) })
    await waitFor(() => demo.output().includes('Stop'), { timeoutMs: 15_000, what: 'the banner' })
    /** One banner line's output, run as a shell would run it; a gateway just started may shed a request (503, nothing done): run again. */
    const curlOf = async (label: string) => {
      const line = new RegExp(`^\\s*${label}\\s+(curl .*)$`, 'm').exec(demo.output())?.[1]
      if (line === undefined) throw new Error(`no "${label}" curl line in the banner`)
      const [command, ...args] = shellWords(line)
      expect(command).toBe('curl')
      let out = ''
      await waitFor(async () => !(out = (await run('curl', args)).stdout).includes('"type":"/problems/overloaded"'), { timeoutMs: 15_000, what: `"${label}" not shed` })
      return out
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
    const get = (path: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } })
    const user3 = async () => ((await (await get('/v1/users/3/devices')).json()) as { devices: unknown[] }).devices.length
    expect(await user3()).toBe(1)
    expect(await curlOf('Legacy write')).toContain('<status>Device created</status>')
    await waitFor(async () => (await user3()) === 2, { timeoutMs: 1000, what: 'the created device in user 3\'s list' })

    // The JSON writes, as printed and in the printed order; each shows at once in what was read (and cached) before it.
    const user2 = async () => (JSON.parse(await curlOf('Try it')) as { userId: number, devices: Array<{ id: number }> })
    expect((await user2()).devices.map((d) => d.id)).toStrictEqual([5, 6, 7])
    const addOutput = await curlOf('Add a device')
    const added = JSON.parse(addOutput) as { id: number, userId: number, type: string, description: string | null }
    expect(added).toMatchObject({ id: expect.any(Number), userId: 2, type: 'SIP', description: 'Lobby phone' })
    // The line carries an Idempotency-Key: running it again replays the first answer, and adds nothing.
    expect(await curlOf('Add a device')).toBe(addOutput)
    const listed = await user2()
    expect(listed.userId).toBe(2)
    expect(listed.devices.map((d) => d.id)).toStrictEqual([5, 6, 7, added.id])
    const changed = JSON.parse(await curlOf('Change one')) as { id: number, userId: number, description: string | null }
    expect(changed).toMatchObject({ id: 5, userId: 2, description: 'Front desk' })
    expect(JSON.parse(await curlOf('One device'))).toStrictEqual(changed)
    // `-i`: the status line and headers come first, then an empty body.
    const removed = await curlOf('Remove one')
    expect(/^HTTP\/[0-9.]+ ([0-9]{3})/.exec(removed)?.[1]).toBe('204')
    expect(removed.split(/\r?\n\r?\n/).slice(1).join('')).toBe('')
    expect((await get('/v1/devices/84')).status).toBe(404)
    const user5 = (await (await get('/v1/users/5/devices')).json()) as { devices: Array<{ id: number }> }
    expect(user5.devices.map((d) => d.id)).toStrictEqual([80, 81, 82, 83])
  }, 60_000)
})

/**
 * A command line split into words as a POSIX shell splits it, for the quoting the banner uses:
 * '...' and "..." taken literally, bare words, adjacent pieces joined into one word. Anything a shell
 * would read otherwise (an expansion, an escape, an operator, an unclosed quote) is refused, so a
 * banner line that would not run as printed fails here rather than being read kindly.
 */
function shellWords (line: string): string[] {
  const words: string[] = []
  let word: string | undefined
  const piece = /\s+|'([^']*)'|"([^"]*)"|([^\s'"]+)/y
  while (piece.lastIndex < line.length) {
    const at = piece.lastIndex
    const m = piece.exec(line)
    if (m === null) throw new Error(`unclosed quote at ${at} in: ${line}`)
    const [whole, single, double, bare] = m
    if (single === undefined && double === undefined && bare === undefined) {
      if (word !== undefined) words.push(word)
      word = undefined
      continue
    }
    if (double !== undefined && /[$`\\!]/.test(double)) throw new Error(`a shell would expand or unescape ${whole}`)
    if (bare !== undefined && (/[$`\\;&|<>()*?[\]{}!]/.test(bare) || (word === undefined && /^[#~]/.test(bare)))) throw new Error(`a shell would read ${whole} otherwise`)
    word = (word ?? '') + (single ?? double ?? bare)
  }
  if (word !== undefined) words.push(word)
  return words
}
