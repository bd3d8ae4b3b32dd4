// The invalidation bus: an invalidation is done when every instance known on the bus has said it
// dropped its copies. The peer bookkeeping alone, then a gateway against a hand-driven peer on a
// real Redis, so each answer (or silence) comes exactly when the test says.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Redis } from 'ioredis'
import { createPeers, readMessage, writeMessage, type BusMessage } from '../../src/cache/bus.js'
import { ACK_WAIT_MS } from '../../src/plugins/invalidation.js'
import { upstreamKeyPrefix } from '../../src/redis/namespace.js'
import { startRedis } from '../helpers/redis-server.js'
import { closeAfterTest, gateway, simulator } from '../helpers/scoped.js'
import { freePort } from '../helpers/gateway-process.js'
import { waitFor } from '../helpers/wait.js'

describe('createPeers', () => {
  afterEach(() => { vi.useRealTimers() })

  it('waits for every instance it knows, and for nobody it does not', async () => {
    const peers = createPeers()
    expect(await peers.expect('t0', 1000).done).toStrictEqual([]) // alone: done at once
    peers.heard('b')
    peers.heard('c')
    const wait = peers.expect('t1', 1000)
    let done = false
    wait.done.then(() => { done = true }, () => {})
    peers.acked('b', 't1')
    peers.acked('c', 'other token')
    await Promise.resolve()
    expect(done).toBe(false)
    peers.acked('c', 't1')
    expect(await wait.done).toStrictEqual([])
    expect(peers.size).toBe(2)
  })

  it('forgets an instance that did not answer in time, until it speaks again; one that left is not waited for', async () => {
    vi.useFakeTimers()
    const peers = createPeers()
    peers.heard('b')
    peers.heard('c')
    const wait = peers.expect('t1', 500)
    peers.acked('b', 't1')
    vi.advanceTimersByTime(500)
    expect(await wait.done).toStrictEqual(['c'])
    expect(peers.size).toBe(1)
    peers.heard('c')
    const next = peers.expect('t2', 500)
    peers.left('c')
    peers.acked('b', 't2')
    expect(await next.done).toStrictEqual([])
    expect(peers.size).toBe(1)
  })

  it('ends a wait at once when its message never went out', async () => {
    const peers = createPeers()
    peers.heard('b')
    const wait = peers.expect('t1', 60_000)
    wait.cancel()
    expect(await wait.done).toStrictEqual([])
    expect(peers.size).toBe(1)
  })
})

/** A stand-in for another gateway on the bus, answering only when the test says. */
async function handDrivenPeer (redisUrl: string, channel: string) {
  const sub = new Redis(redisUrl)
  const pub = new Redis(redisUrl)
  closeAfterTest(async () => { sub.disconnect(); pub.disconnect() })
  const heard: BusMessage[] = []
  sub.on('message', (_channel: string, text: string) => {
    const message = readMessage(text)
    if (message !== undefined && message.from !== 'peer') heard.push(message)
  })
  await sub.subscribe(channel)
  const say = async (message: BusMessage) => { await pub.publish(channel, writeMessage(message)) }
  await say({ kind: 'hello', from: 'peer', reply: false })
  return { heard, say }
}

describe('a gateway and another instance on the bus', () => {
  async function setup () {
    const redis = await startRedis()
    closeAfterTest(() => redis.close())
    const sim = await simulator()
    const port = await freePort()
    const gw = await gateway(sim.url, { REDIS_URL: redis.url, METRICS_PORT: String(port) })
    await waitFor(() => gw.app.redisStore?.available === true)
    const peer = await handDrivenPeer(redis.url, `${upstreamKeyPrefix(gw.config.mor)}:invalidate`)
    await waitFor(() => gw.app.invalidation.peers === 1, { what: 'the gateway to know the peer' })
    const admin = `http://127.0.0.1:${port}`
    const purge = () => fetch(`${admin}/admin/cache/users/2`, { method: 'DELETE' }).then((res) => res.status)
    const metric = async (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(await (await fetch(`${admin}/metrics`)).text())?.[1])
    return { gw, peer, purge, metric }
  }
  const invalidations = (heard: BusMessage[]) => heard.filter((m): m is Extract<BusMessage, { kind: 'invalidate' }> => m.kind === 'invalidate' && m.cause === 'purge')

  it('answers a greeting, and an invalidation is done only once the peer has acknowledged it', async () => {
    const { peer, purge, metric } = await setup()
    expect(peer.heard.some((m) => m.kind === 'hello' && m.reply)).toBe(true)
    let acknowledged = false
    const answered = purge().then((status) => ({ status, acknowledged }))
    await waitFor(() => invalidations(peer.heard).length === 1, { what: 'the peer to hear the purge' })
    const [message] = invalidations(peer.heard)
    expect(message?.subject).toStrictEqual({ userId: 2 })
    expect(message?.ack).toMatch(/^[0-9a-f-]{36}$/)
    // Not at once: the purge's answer must still be waiting when the acknowledgement goes out.
    await new Promise((resolve) => setTimeout(resolve, 50))
    acknowledged = true
    await peer.say({ kind: 'ack', from: 'peer', of: message?.ack as string })
    expect(await answered).toStrictEqual({ status: 204, acknowledged: true })
    expect(await metric('gateway_invalidation_acks_missed_total')).toBe(0)
    expect(await metric('gateway_invalidation_peers')).toBe(1)
  })

  it(`forgets a peer that does not answer within ${ACK_WAIT_MS} ms, and says so; one that said goodbye is not waited for`, async () => {
    const { gw, peer, purge, metric } = await setup()
    expect(await purge()).toBe(204)
    expect(await metric('gateway_invalidation_acks_missed_total')).toBe(1)
    expect(gw.app.invalidation.peers).toBe(0)
    expect(gw.logs.some((line) => line.includes('instances did not confirm an invalidation in time'))).toBe(true)

    await peer.say({ kind: 'hello', from: 'peer', reply: false })
    await waitFor(() => gw.app.invalidation.peers === 1, { what: 'the peer known again' })
    await peer.say({ kind: 'bye', from: 'peer' })
    await waitFor(() => gw.app.invalidation.peers === 0, { what: 'the peer gone' })
    expect(await purge()).toBe(204)
    expect(await metric('gateway_invalidation_acks_missed_total')).toBe(1)
  })

  it('says goodbye when it closes', async () => {
    const { gw, peer } = await setup()
    await gw.close()
    await waitFor(() => peer.heard.some((m) => m.kind === 'bye'), { what: 'the goodbye' })
  })
})
