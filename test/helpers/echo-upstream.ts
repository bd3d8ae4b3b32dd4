// An upstream that answers with what it received (method, URL, headers, body digest), and sends
// hop-by-hop response headers of its own, to check both directions of the passthrough.
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Echo {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  bodyLength: number
  bodySha256: string
}

export async function startEchoUpstream () {
  const state = { requests: 0 }
  const server = createServer((req, res) => {
    state.requests++
    const hash = createHash('sha256')
    let length = 0
    req.on('data', (chunk: Buffer) => { hash.update(chunk); length += chunk.length })
    req.on('end', () => {
      const echo: Echo = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyLength: length, bodySha256: hash.digest('hex') }
      res.writeHead(200, [
        'content-type', 'application/json',
        'connection', 'keep-alive, x-hop',
        'keep-alive', 'timeout=5',
        'x-hop', 'connection-scoped',
        'x-upstream', 'echo',
        'set-cookie', 'a=1; Path=/',
        'set-cookie', 'b=2; Path=/'
      ])
      res.end(JSON.stringify(echo))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/billing`,
    host: `127.0.0.1:${port}`,
    get requests () { return state.requests },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}
