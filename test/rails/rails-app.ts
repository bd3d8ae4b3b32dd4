// Spawns the Rails oracle (params_app.rb) on a free loopback port and talks raw HTTP/1.1 to it over
// one keep-alive socket, so a test decides the framing (Content-Length or chunked) byte for byte.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'

const APP = fileURLToPath(new URL('params_app.rb', import.meta.url))
const INSTALL = 'the Rails differential test needs Ruby and Rails: apt-get install ruby ruby-rack ruby-actionpack'

export interface RailsApp { readonly port: number, close: () => Promise<void> }

/** Starts params_app.rb; fails (never skips) when Ruby or ActionPack is missing. */
export async function startRailsApp (): Promise<RailsApp> {
  const child: ChildProcess = spawn('ruby', [APP], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = ''
    child.on('error', (e) => reject(new Error(`${INSTALL} (${e.message})`)))
    child.on('exit', (code) => reject(new Error(`${INSTALL} (ruby exited with ${String(code)}: ${stderr.trim()})`)))
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString()
      const m = /listening (\d+)/.exec(stdout)
      if (m !== null) resolve(Number(m[1]))
    })
  })
  return {
    port,
    async close () {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }
}

/** One keep-alive connection: `send` writes a raw request and resolves with the response body. */
export interface RawClient { send: (request: Buffer) => Promise<string>, close: () => void }

export async function rawClient (port: number): Promise<RawClient> {
  const socket: Socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  let buffered = Buffer.alloc(0)
  const waiting: Array<{ resolve: (body: string) => void, reject: (e: Error) => void }> = []
  socket.on('error', (e) => { for (const w of waiting.splice(0)) w.reject(e) })
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk])
    for (;;) {
      const headEnd = buffered.indexOf('\r\n\r\n')
      if (headEnd === -1) return
      const length = Number(/content-length: (\d+)/i.exec(buffered.toString('latin1', 0, headEnd))?.[1])
      if (buffered.length < headEnd + 4 + length) return
      const body = buffered.toString('utf8', headEnd + 4, headEnd + 4 + length)
      buffered = buffered.subarray(headEnd + 4 + length)
      waiting.shift()?.resolve(body)
    }
  })
  return {
    send: async (request) => await new Promise<string>((resolve, reject) => {
      waiting.push({ resolve, reject })
      socket.write(request)
    }),
    close: () => { socket.end() }
  }
}

/** A request as the gateway sees it, plus how it travels. */
export interface WireRequest {
  readonly method: string
  readonly action?: string
  readonly query: string
  readonly contentType?: string
  readonly body: Buffer | null
  readonly chunked?: boolean
  /** Extra header lines, e.g. `Content-Encoding: gzip`. */
  readonly headers?: readonly string[]
}

/** The request's bytes: a latin1 request line, and the body framed by Content-Length or chunks. */
export function rawRequest (r: WireRequest): Buffer {
  let head = `${r.method} /billing/api/${r.action ?? 'device_update'}${r.query === '' ? '' : `?${r.query}`} HTTP/1.1\r\nHost: 127.0.0.1\r\n`
  if (r.contentType !== undefined) head += `Content-Type: ${r.contentType}\r\n`
  for (const line of r.headers ?? []) head += `${line}\r\n`
  if (r.body === null) return Buffer.from(`${head}\r\n`, 'latin1')
  if (r.chunked !== true) return Buffer.concat([Buffer.from(`${head}Content-Length: ${r.body.length}\r\n\r\n`, 'latin1'), r.body])
  const pieces: Buffer[] = [Buffer.from(`${head}Transfer-Encoding: chunked\r\n\r\n`, 'latin1')]
  // Uneven chunks, so a chunk boundary can fall anywhere in the body.
  for (let at = 0, size = 1; at < r.body.length; at += size, size = size * 3 + 1) {
    const chunk = r.body.subarray(at, at + size)
    pieces.push(Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, Buffer.from('\r\n'))
  }
  pieces.push(Buffer.from('0\r\n\r\n'))
  return Buffer.concat(pieces)
}

/** The body bytes of a chunked request, as the gateway has them once Node decoded the chunks. */
export function dechunk (raw: Buffer): Buffer {
  let at = raw.indexOf('\r\n\r\n') + 4
  const out: Buffer[] = []
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at)
    const size = parseInt(raw.toString('latin1', at, lineEnd), 16)
    if (size === 0) return Buffer.concat(out)
    out.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size))
    at = lineEnd + 2 + size + 2
  }
}
