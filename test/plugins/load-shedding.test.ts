// plugins/load-shedding.ts over real sockets: the gateway sheds load (503 overloaded) while its event
// loop is late past MAX_EVENT_LOOP_DELAY_MS, and only then. Each gateway runs in this process, so a
// busy loop here is its event loop.
import { describe, expect, it } from 'vitest'
import { AUTH } from '../helpers/gateway.js'
import { gateway, simulator } from '../helpers/scoped.js'
import { waitFor } from '../helpers/wait.js'

function busy (ms: number): void {
  const until = Date.now() + ms
  while (Date.now() < until) { /* the loop is held */ }
}

describe('load shedding', () => {
  it('does not shed a gateway whose start held the loop for longer than a sampling window', async () => {
    const sim = await simulator()
    // A start on a loaded machine: 1.5 s of work between the plugins' registration and listening.
    // (@fastify/under-pressure, measuring from registration, read that as an infinite delay and
    // answered the first second's requests 503.)
    const gw = await gateway(sim.url, { MAX_EVENT_LOOP_DELAY_MS: '200' }, { beforeListen: () => { busy(1500) } })
    const statuses: number[] = []
    const until = Date.now() + 1300 // past the first window's end
    while (Date.now() < until) {
      statuses.push((await fetch(`${gw.url}/v1/users/3/devices`, { headers: AUTH })).status)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(statuses.length).toBeGreaterThan(5)
    expect(statuses.filter((status) => status !== 200)).toStrictEqual([])
  })

  it('sheds at the default threshold when the loop is held for a whole window', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url, { MAX_EVENT_LOOP_DELAY_MS: '1000' })
    await waitFor(() => gw.app.eventLoopDelay() === 0, { what: 'a quiet first window' })
    // The first hold ends a window (its timer fires as soon as the loop is free), so the second,
    // longer than a window, covers all of the next: a window in which the loop never turned.
    busy(1200)
    await new Promise((resolve) => setTimeout(resolve, 0))
    busy(1200)
    let shed: unknown
    await waitFor(async () => {
      const res = await fetch(`${gw.url}/health/ready`)
      shed = await res.json()
      return res.status === 503
    }, { what: 'readiness shed', timeoutMs: 3000 })
    expect(shed).toMatchObject({ type: '/problems/overloaded', status: 503 })
  })

  it('sheds while the loop is held, except liveness, and stops shedding once it is free', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url, { MAX_EVENT_LOOP_DELAY_MS: '50' })
    await waitFor(() => gw.app.eventLoopDelay() === 0, { what: 'a quiet first window' })
    busy(1500)
    await waitFor(async () => (await fetch(`${gw.url}/health/ready`)).status === 503, { what: 'readiness shed' })
    expect(gw.app.eventLoopDelay()).toBeGreaterThan(50)
    const [devices, live] = await Promise.all([fetch(`${gw.url}/v1/users/3/devices`, { headers: AUTH }), fetch(`${gw.url}/health/live`)])
    expect([devices.status, devices.headers.get('retry-after'), live.status]).toStrictEqual([503, '1', 200])
    // Two windows of an idle loop later, nothing is shed.
    await waitFor(async () => (await fetch(`${gw.url}/v1/users/3/devices`, { headers: AUTH })).status === 200, { what: 'shedding to stop' })
    expect(gw.app.eventLoopDelay()).toBeLessThanOrEqual(50)
  })
})
