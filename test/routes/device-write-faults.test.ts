// The JSON device writes when MOR misbehaves, over real sockets: a front that relays every call to
// the MOR simulator byte for byte, except the write a test takes over (MOR's refusals the
// simulator does not make, an answer that never comes, a reset, a refused connection). A write
// is never sent twice; a lost answer is a 504 that says the outcome is unknown, and the cache is
// dropped all the same; a write that never left the gateway frees its Idempotency-Key.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { getJson, sendJson, type TestGateway } from '../helpers/gateway.js'
import { problem } from '../helpers/expected.js'
import { bearer } from '../helpers/callers.js'
import { keyFile } from '../helpers/key-file.js'
import { closeAfterTest, gateway, simulator } from '../helpers/scoped.js'
import { waitFor } from '../helpers/wait.js'

const WRITER = 'writer-key-0123456789abcdef'
const W = bearer(WRITER)
const keys = keyFile([`${WRITER} name=portal users=* access=read,write`])

type Takeover = (req: IncomingMessage, res: ServerResponse, body: string) => void

/** A MOR in front of the simulator: `takeover` answers the write methods, everything else is the simulator's. */
async function front (simPort: number) {
  const state: { takeover: Takeover | undefined, writes: string[] } = { takeover: undefined, writes: [] }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const method = /\/api\/([a-z_]+)/.exec(req.url ?? '')?.[1] ?? ''
      if (method.startsWith('device_') && method !== 'device_details_get') {
        state.writes.push(`${method} ${body.toString()}`)
        if (state.takeover) return state.takeover(req, res, body.toString())
      }
      relay(req, body.toString(), (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
    })
  })
  /** Sends the call on to the simulator as it came. */
  function relay (req: IncomingMessage, body: string, onAnswer: (answer: IncomingMessage) => void): void {
    request({ host: '127.0.0.1', port: simPort, path: req.url, method: req.method, headers: req.headers }, onAnswer).end(body)
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closeAfterTest(() => new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/billing`, state, server, relay }
}

async function setup (env: Record<string, string> = {}) {
  const sim = await simulator()
  const mor = await front(sim.port)
  const gw = await gateway(mor.url, { ...keys.env, UPSTREAM_TIMEOUT_MS: '400', ...env })
  return { sim, mor, gw }
}

const xml = (res: ServerResponse, text: string) => { res.writeHead(200, { 'content-type': 'text/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${text}`) }
const typeOf = (body: unknown) => (body as { type?: string }).type
const descriptionOf = async (gw: TestGateway, id: number) => ((await getJson(`${gw.url}/v1/devices/${id}`, W)).body as { description: string | null }).description

describe('MOR\'s refusals, as problems a client can act on', () => {
  it('a PIN MOR says is taken is 422 device-invalid, quoting MOR and never the PIN', async () => {
    const { mor, gw } = await setup()
    mor.state.takeover = (_req, res) => { xml(res, '<page><status><error>Device was not created</error><message>Pin is already used</message><message>Pin 90817263 is taken</message></status></page>') }
    const res = await sendJson('POST', `${gw.url}/v1/users/2/devices`, { type: 'SIP', pin: '90817263' }, W)
    expect(res.status).toBe(422)
    expect(res.body).toEqual(problem('device-invalid', 'Device values refused', 422, 'MOR refused the values: Device was not created; Pin is already used; nothing was changed'))
    expect(gw.logs.join('\n')).not.toContain('90817263')
  })

  it('a device with forwarded calls is 409 device-in-use, in plain words', async () => {
    const { mor, gw } = await setup()
    mor.state.takeover = (_req, res) => { xml(res, '<status><error>Device has forwarded calls - we cannot delete it</error></status>') }
    const res = await sendJson('DELETE', `${gw.url}/v1/devices/6`, undefined, W)
    expect(res.body).toEqual(problem('device-in-use', 'Device in use', 409, 'MOR will not delete the device: calls are forwarded to it; nothing was changed'))
  })

  it('MOR refusing the gateway itself (Incorrect hash) is 502 upstream-rejected', async () => {
    const { mor, gw } = await setup()
    mor.state.takeover = (_req, res) => { xml(res, '<error>Incorrect hash</error>') }
    const res = await sendJson('PATCH', `${gw.url}/v1/devices/5`, { description: 'x' }, W)
    expect(res.status).toBe(502)
    expect(typeOf(res.body)).toBe('/problems/upstream-rejected')
  })
})

describe('a write whose answer is lost', () => {
  it('no answer in time: 504 write-outcome-unknown, sent once, and the device is read from MOR again', async () => {
    const { mor, gw } = await setup()
    expect(await descriptionOf(gw, 5)).toBe('Reception desk phone') // cached
    // MOR carries the change out but its answer never comes.
    mor.state.takeover = (req, _res, body) => { mor.relay(req, body, (answer) => { answer.resume() }) }
    const res = await sendJson('PATCH', `${gw.url}/v1/devices/5`, { description: 'lost' }, { ...W, 'idempotency-key': '"lost-1"' })
    expect(res.status).toBe(504)
    expect(typeOf(res.body)).toBe('/problems/write-outcome-unknown')
    expect((res.body as { detail: string }).detail).toMatch(/^The write was sent to MOR, but its answer did not come in time, so it may or may not have been carried out/)
    expect(mor.state.writes.filter((w) => w.startsWith('device_update')).length).toBe(1)
    // The same key gets the same answer, and MOR is not asked again.
    mor.state.takeover = undefined
    const again = await sendJson('PATCH', `${gw.url}/v1/devices/5`, { description: 'lost' }, { ...W, 'idempotency-key': '"lost-1"' })
    expect(again.status).toBe(504)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(mor.state.writes.filter((w) => w.startsWith('device_update')).length).toBe(1)
    // MOR did carry it out, and the cached copy was dropped, so the next read shows it.
    expect(await descriptionOf(gw, 5)).toBe('lost')
    const audit = gw.logs.map((line) => JSON.parse(line) as { audit?: { outcome: string } }).filter((l) => l.audit)
    expect(audit.map((l) => l.audit?.outcome)).toEqual(['unknown', 'replayed'])
  })

  it('a reset after the write was sent: 504 write-outcome-unknown, the user\'s list dropped', async () => {
    const { sim, mor, gw } = await setup()
    await getJson(`${gw.url}/v1/users/2/devices`, W)
    const listCalls = () => sim.calls.byUser.get('2') ?? 0
    expect(listCalls()).toBe(1)
    mor.state.takeover = (req) => { req.socket.destroy() }
    const res = await sendJson('POST', `${gw.url}/v1/users/2/devices`, { type: 'SIP' }, W)
    expect(res.status).toBe(504)
    expect(typeOf(res.body)).toBe('/problems/write-outcome-unknown')
    await getJson(`${gw.url}/v1/users/2/devices`, W)
    expect(listCalls()).toBe(2)
  })

  it('an answer that says nothing certain: 502 write-outcome-unknown', async () => {
    const { mor, gw } = await setup()
    mor.state.takeover = (_req, res) => { xml(res, '<page><status>Working on it</status></page>') }
    const res = await sendJson('DELETE', `${gw.url}/v1/devices/7`, undefined, W)
    expect(res.status).toBe(502)
    expect(typeOf(res.body)).toBe('/problems/write-outcome-unknown')
  })

  it('MOR down before the write could be sent: nothing happened, so the same key may carry the request again', async () => {
    const { mor, gw } = await setup()
    await getJson(`${gw.url}/v1/devices/5`, W)
    const key = { ...W, 'idempotency-key': '"refused-1"' }
    // The owner check reaches MOR; then MOR goes away before the write.
    mor.state.takeover = () => {}
    mor.server.close()
    mor.server.closeAllConnections()
    await waitFor(() => !mor.server.listening, { what: 'MOR to stop listening' })
    const res = await sendJson('PATCH', `${gw.url}/v1/devices/5`, { description: 'x' }, key)
    expect([502, 503]).toContain(res.status)
    expect(typeOf(res.body)).not.toBe('/problems/write-outcome-unknown')
    const again = await sendJson('PATCH', `${gw.url}/v1/devices/5`, { description: 'x' }, key)
    expect(again.headers.get('idempotent-replayed')).toBeNull()
  })
})
