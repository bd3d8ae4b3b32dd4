// Baseline: the least a Node relay can do, to show in the same run how close the passthrough comes
// to Node's own ceiling. node:http in, undici's Pool.dispatch out (the gateway's pool settings),
// the request's method, Content-Type and body forwarded (a body read whole, as the gateway reads
// small ones), MOR's headers copied without hop-by-hop ones, and nothing else: no confinement, no
// forwarded headers, no request id, no metrics, no log, no limits, no backpressure, no failure
// handling worth the name.
import { createServer, type ServerResponse } from 'node:http'
import { Pool, type Dispatcher } from 'undici'
import { hopByHop } from '../../src/legacy/headers.js'

const upstream = new URL(process.env.UPSTREAM ?? '')
const pool = new Pool(upstream.origin, { connections: 64, pipelining: 1 })
// The gateway's own hop-by-hop set, so both relays send the client the same headers.
const dropped = hopByHop(undefined)

class Relay implements Dispatcher.DispatchHandler {
  status = 0
  headers: string[] = []
  constructor (readonly res: ServerResponse) {}
  onConnect (): void {}
  onHeaders (status: number, raw: Buffer[]): boolean {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = String(raw[i]?.toString('latin1')).toLowerCase()
      if (!dropped(name)) this.headers.push(name, String(raw[i + 1]?.toString('latin1')))
    }
    this.status = status
    return true
  }

  // No backpressure (the bench's answers are small): returning write()'s false with nothing to
  // resume MOR's side would leave the pool's sockets paused for good once clients go away.
  onData (chunk: Buffer): boolean {
    if (!this.res.headersSent) this.res.writeHead(this.status, this.headers)
    this.res.write(chunk)
    return true
  }

  onComplete (): void {
    if (!this.res.headersSent) this.res.writeHead(this.status, this.headers)
    this.res.end()
  }

  onError (): void { this.res.destroy() }
}

createServer((req, res) => {
  const headers = ['host', upstream.host]
  const type = req.headers['content-type']
  if (type !== undefined) headers.push('content-type', type)
  if (req.method === 'GET' || req.method === 'HEAD') {
    pool.dispatch({ origin: upstream.origin, method: req.method, path: req.url ?? '/', headers }, new Relay(res))
    return
  }
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    pool.dispatch({ origin: upstream.origin, method: req.method ?? 'POST', path: req.url ?? '/', headers, body: Buffer.concat(chunks) }, new Relay(res))
  })
}).listen(Number(process.env.PORT), '127.0.0.1')
