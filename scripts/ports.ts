// Loopback ports for the servers that tests, the benchmark and the soak start.
import { createServer, connect, type AddressInfo } from 'node:net'

/** A port free right now on 127.0.0.1 (the OS picks it; it is released before returning). */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Resolves once something accepts connections on the port; rejects after `timeoutMs`. */
export async function waitForPort (port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
      socket.on('error', () => resolve(false))
    })
    if (open) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`)
}
