// Baseline: the least a Node relay can do, to show in the same run how close the legacy lane comes
// to Node's own ceiling. node:http in, undici's Pool.dispatch out (the lane's own client and pool
// settings), MOR's headers copied without hop-by-hop ones, and nothing else: no confinement, no
// forwarded headers, no request id, no metrics, no log, no backpressure, no failure handling
// worth the name.
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
  pool.dispatch({ origin: upstream.origin, method: 'GET', path: req.url ?? '/', headers: ['host', upstream.host] }, new Relay(res))
}).listen(Number(process.env.PORT), '127.0.0.1')
