// Stoplight Prism as a validating proxy in front of a server: `prism proxy openapi/openapi.json
// <upstream> --errors`, a child process on a free loopback port, stopped by close(). Prism checks
// each request against the committed contract (refusing a bad one with 422 before the upstream
// sees it) and each answer the upstream gives (a violation becomes Prism's own 500, and is listed
// in `sl-violations` either way). It reads the document from disk: every $ref in it is local
// (test/contract/prism-faults.test.ts checks), so nothing is fetched.
import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/** The committed contract, as Prism reads it. */
export const CONTRACT_PATH = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url))

/** Prism prints its address once every operation is loaded; nothing else on stdout says it is up. */
const LISTENING = /Prism is listening on (http:\/\/127\.0\.0\.1:\d+)/
const START_TIMEOUT_MS = 15_000

export interface Prism {
  url: string
  close: () => Promise<void>
}

function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}

/** Starts Prism in front of `upstream` with the contract at `document`, on a port the OS picks. */
export async function startPrism (upstream: string, document = CONTRACT_PATH): Promise<Prism> {
  // Prism's own entry point, run by this Node: no npx, no shell, no lookup on the network.
  const cli = createRequire(import.meta.url).resolve('@stoplight/prism-cli/dist/index.js')
  const child = spawn(process.execPath, [cli, 'proxy', document, upstream, '--errors', '--host', '127.0.0.1', '--port', '0', '--cors=false'], {
    // Plain text, so the line that says Prism listens reads as written.
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  // What Prism printed, for the error when it does not start.
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Prism did not start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS)
      const look = () => {
        const match = LISTENING.exec(output)
        if (match?.[1] !== undefined) { clearTimeout(timer); resolve(match[1]) }
      }
      child.stdout.on('data', look)
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`Prism exited (${code}) before listening:\n${output}`)) })
    })
    return { url, close: () => stop(child) }
  } catch (err) {
    await stop(child)
    throw err
  }
}

export interface PrismAnswer {
  status: number
  headers: Headers
  text: string
  /** What Prism found wrong with the request or the answer (its `sl-violations` header), warnings included. */
  violations: Array<{ location: string[], severity: string, message: string }>
}

/** A request through Prism, with what Prism said about it. */
export async function viaPrism (prism: Prism, path: string, init: RequestInit = {}): Promise<PrismAnswer> {
  const res = await fetch(`${prism.url}${path}`, init)
  const text = await res.text()
  const header = res.headers.get('sl-violations')
  return { status: res.status, headers: res.headers, text, violations: header === null ? [] : JSON.parse(header) as PrismAnswer['violations'] }
}

/** Where Prism's 422 says the request breaks the contract, e.g. `query.limit` (Prism lower-cases path parameter names). */
export function refusedAt (answer: PrismAnswer): string[] {
  if (answer.status !== 422) return []
  const body = JSON.parse(answer.text) as { validation?: Array<{ location: string[] }> }
  return (body.validation ?? []).map(({ location }) => location.join('.'))
}
