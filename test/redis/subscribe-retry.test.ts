// A SUBSCRIBE that times out on a live connection (a loaded Redis, past REDIS_TIMEOUT_MS) is asked
// again, so the instance still joins the invalidation bus and greets the others. Against a
// minimal Redis speaking RESP over a real socket, which answers the first SUBSCRIBE too late: no
// real Redis can be made to do that on cue.
import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createRedisStore, type RedisStore } from '../../src/redis/store.js'
import { waitFor } from '../helpers/wait.js'

const silent = { warn () {}, info () {}, error () {}, debug () {}, trace () {}, fatal () {}, child () { return silent }, level: 'silent', silent () {} }
const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`

/** The commands of a RESP buffer: arrays of bulk strings, as clients send them. */
function commands (data: string): string[][] {
  const out: string[][] = []
  const lines = data.split('\r\n')
  for (let i = 0; i < lines.length; i++) {
    const count = /^\*(\d+)$/.exec(lines[i] ?? '')
    if (count === null) continue
    const args: string[] = []
    for (let n = 0; n < Number(count[1]); n++) { args.push(lines[i + 2] ?? ''); i += 2 }
    out.push(args)
  }
  return out
}

/** A Redis that answers the handshake at once, the first SUBSCRIBE late and the others at once. */
async function unreliableRedis (): Promise<{ server: Server, port: number, subscribes: () => number }> {
  let subscribes = 0
  const sockets: Socket[] = []
  const server = createServer((socket) => {
    sockets.push(socket)
    socket.on('error', () => {})
    socket.on('data', (data) => {
      for (const [name = '', ...args] of commands(data.toString('latin1'))) {
        const command = name.toLowerCase()
        if (command === 'info') socket.write(bulk('# Server\r\nredis_version:7.0.0\r\nloading:0\r\n'))
        else if (command === 'subscribe') {
          // The first is answered late, as by a Redis too slow for the client's timeout; the rest at once.
          const reply = `*3\r\n${bulk('subscribe')}${bulk(args[0] ?? '')}:1\r\n`
          if (++subscribes === 1) setTimeout(() => socket.write(reply), 150)
          else socket.write(reply)
        } else socket.write('+OK\r\n')
      }
    })
  })
  server.on('close', () => { for (const socket of sockets) socket.destroy() })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return { server, port, subscribes: () => subscribes }
}

let cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const done of cleanup.reverse()) await done()
  cleanup = []
})

describe('the Redis store\'s subscription', () => {
  it('asks again after a SUBSCRIBE that timed out, and then says it is subscribed', async () => {
    const redis = await unreliableRedis()
    cleanup.push(() => new Promise<void>((resolve) => redis.server.close(() => resolve())))
    const store: RedisStore = createRedisStore({ url: `redis://127.0.0.1:${redis.port}`, timeoutMs: 50 }, silent as never)
    cleanup.push(() => store.close())
    let subscribed = 0
    store.subscribe('bus', () => {}, () => { subscribed++ })
    await waitFor(() => subscribed === 1, { what: 'the subscription confirmed', timeoutMs: 3000 })
    expect(redis.subscribes()).toBe(2)
  })
})
