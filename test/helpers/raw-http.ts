// Sends an HTTP/1.1 request exactly as written (no client-side URL normalization), so tests can
// probe request lines that fetch or undici would clean up first.
import { connect } from 'node:net'

export interface RawResponse {
  status: number
  head: string
  body: string
  /** The server closed the connection after answering. */
  closedByServer: boolean
}

export function rawRequest (port: number, requestText: string, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let ended = false
    const timer = setTimeout(() => finish(false), timeoutMs)
    function finish (closed: boolean) {
      clearTimeout(timer)
      socket.destroy()
      const text = Buffer.concat(chunks).toString('latin1')
      const split = text.indexOf('\r\n\r\n')
      const head = split < 0 ? text : text.slice(0, split)
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0)
      if (status === 0 && !closed) reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`))
      const body = split < 0 ? '' : text.slice(split + 4)
      if (status !== 0 || closed) resolve({ status, head, body: /\r\ntransfer-encoding: chunked/i.test(head) ? dechunk(body) : body, closedByServer: closed })
    }
    socket.on('data', (chunk) => {
      chunks.push(chunk)
      // A complete Content-Length body on a kept-alive connection: the answer is in.
      const text = Buffer.concat(chunks).toString('latin1')
      const split = text.indexOf('\r\n\r\n')
      const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, split))?.[1]
      const keptAlive = !/\r\nconnection: close/i.test(text.slice(0, split))
      const complete = length !== undefined ? text.length - split - 4 >= Number(length) : text.endsWith('\r\n0\r\n\r\n')
      if (split >= 0 && keptAlive && complete) finish(false)
    })
    socket.on('end', () => { if (!ended) { ended = true; finish(true) } })
    socket.on('error', reject)
    socket.write(requestText)
  })
}

function dechunk (body: string): string {
  let out = ''
  let at = 0
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at)
    const size = parseInt(body.slice(at, lineEnd), 16)
    if (!(size > 0)) return out
    out += body.slice(lineEnd + 2, lineEnd + 2 + size)
    at = lineEnd + 2 + size + 2
  }
}
