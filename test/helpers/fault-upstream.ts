// A raw HTTP server standing in for a misbehaving MOR: each test sets how it answers. It counts
// requests, and can be closed to leave a port that refuses connections.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export type FaultHandler = (req: IncomingMessage, res: ServerResponse) => void

export interface FaultUpstream {
  url: string
  requests: number
  handle: (handler: FaultHandler) => void
  close: () => Promise<void>
}

export async function startFaultUpstream (): Promise<FaultUpstream> {
  let handler: FaultHandler = (_req, res) => { res.writeHead(500).end() }
  const sockets = new Set<Socket>()
  const state = { requests: 0 }
  const server = createServer((req, res) => {
    state.requests++
    req.resume()
    handler(req, res)
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/billing`,
    get requests () { return state.requests },
    handle (next) { handler = next },
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy()
      server.close(() => resolve())
    })
  }
}

/** A loopback URL where nothing listens, so connections are refused. */
export async function refusedUrl (): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return `http://127.0.0.1:${port}/billing`
}
