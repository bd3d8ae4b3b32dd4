// A client over a raw socket that misbehaves on purpose: writes what it is told when it is told,
// stalls, resets. It keeps every byte the server sends, so a test can count the answers.
import { connect, type Socket } from 'node:net'

export interface RawClient {
  socket: Socket
  send: (data: string | Buffer) => Promise<void>
  /** Everything received so far, as latin1 text. */
  received: () => string
  /** Resolves once the server has closed (or reset) the connection. */
  closed: Promise<void>
  isClosed: () => boolean
  /** Final answers' status codes so far (100 Continue is not an answer). */
  statuses: () => number[]
  /** A TCP reset: the abrupt way a client leaves. */
  reset: () => void
}

export async function rawClient (port: number): Promise<RawClient> {
  const socket = connect(port, '127.0.0.1')
  const chunks: Buffer[] = []
  let isClosed = false
  socket.on('data', (chunk: Buffer) => { chunks.push(chunk) })
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => { isClosed = true; resolve() }))
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve).once('error', reject) })
  const received = () => Buffer.concat(chunks).toString('latin1')
  return {
    socket,
    send: (data) => new Promise((resolve) => {
      if (socket.destroyed) return resolve()
      socket.write(data, () => resolve())
    }),
    received,
    closed,
    isClosed: () => isClosed,
    statuses: () => statusCodes(received()),
    reset: () => { if (!socket.destroyed) socket.resetAndDestroy() }
  }
}

/**
 * The final status codes in a stream of HTTP/1.1 answers, 1xx left out. A status line is looked for
 * anywhere, not only at a line start: a second answer glued to the end of a body is what it catches.
 */
export function statusCodes (text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])).filter((status) => status >= 200)
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `task` over `items` with at most `limit` at once. */
export async function inBatches<T, R> (items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await task(items[i] as T)
    }
  }))
  return out
}
