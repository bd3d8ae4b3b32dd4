// The JSON device writes at the client boundary, over raw sockets: clients that cut a write off,
// send it too slowly, ask for 100 Continue, pipeline, send too much, send bytes that are not
// UTF-8 or keys that are not data, or claim another address. For each: what the client gets, that
// the gateway answers an ordinary read right after, and that MOR (the simulator) sees a write only
// for a request that arrived whole. Loopback only; every loop and wait is bounded.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MorSimulator } from '../../src/demo/simulator.js'
import { CREATED_DEVICE_IDS } from '../../src/demo/data.js'
import { getJson, sendJson, type TestGateway } from '../helpers/gateway.js'
import { bearer } from '../helpers/callers.js'
import { closeAfterTest, gateway, simulator } from '../helpers/scoped.js'
import { rawClient, sleep, type RawClient } from '../helpers/raw-client.js'
import { waitFor } from '../helpers/wait.js'

const WRITER = 'writer-key-0123456789abcdef'
const READER = 'reader-key-0123456789abcdef'
const W = bearer(WRITER)
const REQUEST_TIMEOUT_MS = 1000

let dir = ''
let keyFile = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'device-writes-boundary-'))
  keyFile = join(dir, 'keys')
  await writeFile(keyFile, [`${WRITER} name=portal users=2-5 access=read,write`, `${READER} name=viewer users=*`].join('\n'))
})
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

async function setup () {
  const sim = await simulator()
  const gw = await gateway(sim.url, {
    GATEWAY_API_KEYS: '',
    GATEWAY_API_KEYS_FILE: keyFile,
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    HEADERS_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    // The first requests after start must not meet an event loop still busy with the start.
    MAX_EVENT_LOOP_DELAY_MS: '60000'
  })
  return { sim, gw, port: Number(new URL(gw.url).port) }
}

/**
 * For tests that leave a connection the gateway holds on to (see the slow sender): closed before the
 * gateway, so its close does not wait for them. Registered after gateway(), so it runs first.
 */
function dropConnectionsAfterTest (gw: TestGateway): void {
  closeAfterTest(async () => { gw.app.server.closeAllConnections() })
}

const writes = (sim: MorSimulator, method: string) => sim.calls.writes.get(method) ?? 0
const totalWrites = (sim: MorSimulator) => [...sim.calls.writes.values()].reduce((a, b) => a + b, 0)
const connections = (gw: TestGateway) => new Promise<number>((resolve, reject) => {
  gw.app.server.getConnections((err, count) => { if (err) reject(err); else resolve(count) })
})

/** The gateway is healthy: an ordinary read on a new connection answers 200. */
async function expectHealthy (gw: TestGateway): Promise<void> {
  const res = await getJson(`${gw.url}/v1/devices/5`, W)
  expect(res.status).toBe(200)
}

/** A request's head as a client writes it; `headers` are whole lines without their CRLF. */
function head (method: string, path: string, headers: string[]): string {
  return `${method} ${path} HTTP/1.1\r\nHost: gw.test\r\n${headers.map((line) => `${line}\r\n`).join('')}\r\n`
}
const auth = (key: string) => `Authorization: Bearer ${key}`
const length = (body: string | Buffer) => `Content-Length: ${Buffer.byteLength(body)}`

/** The final answers in a stream of HTTP/1.1 answers with Content-Length bodies (1xx left out). */
function answersIn (text: string): Array<{ status: number, head: string, body: string }> {
  const out: Array<{ status: number, head: string, body: string }> = []
  let at = 0
  for (let n = 0; n < 20 && at < text.length; n++) {
    const end = text.indexOf('\r\n\r\n', at)
    if (end < 0) break
    const lines = text.slice(at, end)
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(lines)?.[1] ?? 0)
    const size = Number(/\r\ncontent-length: (\d+)/i.exec(lines)?.[1] ?? 0)
    if (status >= 200) out.push({ status, head: lines, body: text.slice(end + 4, end + 4 + size) })
    at = end + 4 + size
  }
  return out
}

/** Waits (bounded) until the client has `count` final answers, or the connection closed. */
async function answered (client: RawClient, count = 1, timeoutMs = 3000): Promise<void> {
  await waitFor(() => client.statuses().length >= count || client.isClosed(), { timeoutMs, what: `${count} answer(s)` })
}

const bodyOf = (answer: { body: string } | undefined) => JSON.parse(answer?.body ?? 'null') as Record<string, unknown>

describe('a write cut off before it is whole', () => {
  it('never reaches MOR, at any offset, and leaves its Idempotency-Key free for the whole request', async () => {
    const { sim, gw, port } = await setup()
    const body = JSON.stringify({ type: 'SIP', description: 'cut off', pin: '2468' })
    const request = head('POST', '/v1/users/2/devices', [auth(WRITER), 'Content-Type: application/json', 'Idempotency-Key: "cut-1"', length(body)]) + body
    const headEnd = request.indexOf('\r\n\r\n') + 4
    // In the request line, in the headers (mid-key, mid-Content-Length), at the end of the head,
    // right after it, mid-body, one byte short.
    const offsets = [5, request.indexOf('Idempotency-Key') + 20, request.indexOf('Content-Length') + 8, headEnd - 2, headEnd, headEnd + 1,
      headEnd + Math.floor(body.length / 2), request.length - 1]
    // Every offset with a reset; the offsets inside the head also with a polite close (FIN). A FIN
    // after a whole head is the test below.
    const cuts = [...offsets.map((offset) => ({ offset, fin: false })), ...offsets.filter((offset) => offset < headEnd - 2).map((offset) => ({ offset, fin: true }))]
    for (const { offset, fin } of cuts) {
      const client = await rawClient(port)
      await client.send(request.slice(0, offset))
      await sleep(20)
      if (fin) client.socket.end()
      else client.reset()
      await Promise.race([client.closed, sleep(1000)])
      // Nothing that was cut off is answered with success (a head cut off is a 400, or nothing).
      expect(client.statuses().every((status) => status === 400)).toBe(true)
      client.reset()
    }
    await sleep(100)
    expect(writes(sim, 'device_create')).toBe(0)
    // Every connection is gone, none held for a request that will never be whole.
    await waitFor(async () => await connections(gw) === 0, { timeoutMs: 2000, what: 'the cut-off connections closed' })
    await expectHealthy(gw)
    // The key was never claimed (or was freed): the whole request carries it as a first request.
    const whole = await sendJson('POST', `${gw.url}/v1/users/2/devices`, JSON.parse(body), { ...W, 'idempotency-key': '"cut-1"' })
    expect(whole.status).toBe(201)
    expect(whole.headers.get('idempotent-replayed')).toBeNull()
    expect(writes(sim, 'device_create')).toBe(1)
    // And it is now taken by that request: a replay, no second write.
    const again = await sendJson('POST', `${gw.url}/v1/users/2/devices`, JSON.parse(body), { ...W, 'idempotency-key': '"cut-1"' })
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(writes(sim, 'device_create')).toBe(1)
  })

  // KNOWN BUG (see the report): a client that sends a whole head and part of the body (or none of
  // it), then closes its side (FIN), is never answered and its connection is never released: Node
  // reports the early end as a client error, plugins/problems.ts's handler pauses the socket to wait
  // for the route's answer, and the route waits for a body that cannot come. MOR sees nothing.
  it('a client that closes its side after the head or mid-body has its connection released', async () => {
    const { sim, gw, port } = await setup()
    dropConnectionsAfterTest(gw)
    const body = JSON.stringify({ type: 'SIP', pin: '2468' })
    const request = head('POST', '/v1/users/2/devices', [auth(WRITER), 'Content-Type: application/json', length(body)]) + body
    const headEnd = request.indexOf('\r\n\r\n') + 4
    const clients = await Promise.all([headEnd, headEnd + 5].map(async (offset) => {
      const client = await rawClient(port)
      await client.send(request.slice(0, offset))
      await sleep(20)
      client.socket.end()
      return client
    }))
    await Promise.race([Promise.all(clients.map(async (client) => { await client.closed })), sleep(1500)])
    for (const client of clients) client.reset()
    expect(writes(sim, 'device_create')).toBe(0)
    await waitFor(async () => await connections(gw) === 0, { timeoutMs: 2000, what: 'the half-closed connections released' })
  })

  it('a PATCH whose body stops short of its Content-Length and is reset is not applied', async () => {
    const { sim, gw, port } = await setup()
    const body = JSON.stringify({ description: 'never', password: 'hunter2-long' })
    const client = await rawClient(port)
    await client.send(head('PATCH', '/v1/devices/5', [auth(WRITER), 'Content-Type: application/merge-patch+json', `Content-Length: ${body.length + 10}`]) + body)
    await sleep(100)
    expect(client.statuses()).toStrictEqual([])
    client.reset()
    await sleep(100)
    expect(writes(sim, 'device_update')).toBe(0)
    expect(((await getJson(`${gw.url}/v1/devices/5`, W)).body as { description: string }).description).toBe('Reception desk phone')
  })
})

describe('a write sent slower than REQUEST_TIMEOUT_MS', () => {
  /** Headers whole, then the body one byte every `everyMs`; resolves once every byte is out (or the connection closed). */
  async function trickle (port: number, everyMs: number) {
    const body = JSON.stringify({ type: 'SIP', pin: '1357' })
    const client = await rawClient(port)
    await client.send(head('POST', '/v1/users/2/devices', [auth(WRITER), 'Content-Type: application/json', length(body)]))
    const sent = (async () => {
      for (let i = 0; i < body.length && !client.isClosed(); i++) {
        await sleep(everyMs)
        await client.send(body.charAt(i))
      }
    })()
    return { client, sent }
  }

  it('never reaches MOR, and other clients are served meanwhile', async () => {
    const { sim, gw, port } = await setup()
    dropConnectionsAfterTest(gw)
    // 27 bytes, one every 100 ms: about 2.7 s, well past the 1 s the request may take.
    const { client, sent } = await trickle(port, 100)
    await sleep(REQUEST_TIMEOUT_MS + 300)
    await expectHealthy(gw)
    await sent
    await Promise.race([client.closed, sleep(500)])
    // Whatever the client got (see the test below), it is no success, and MOR saw nothing.
    expect(client.statuses().every((status) => status >= 400)).toBe(true)
    expect(writes(sim, 'device_create')).toBe(0)
    client.reset()
    await expectHealthy(gw)
    expect(writes(sim, 'device_create')).toBe(0)
  })

  // KNOWN BUG (see the header): today the client gets nothing at all; the gateway pauses the
  // socket and waits for an answer the route can never give, and keeps the connection after the
  // client has gone. What docs/api.md promises is a 408 request-timeout problem and a closed connection.
  it('gets the documented 408 request-timeout problem and its connection is closed', async () => {
    const { sim, gw, port } = await setup()
    dropConnectionsAfterTest(gw)
    const { client } = await trickle(port, 150)
    await Promise.race([client.closed, sleep(REQUEST_TIMEOUT_MS + 1500)])
    try {
      expect(client.isClosed()).toBe(true)
      expect(client.statuses()).toStrictEqual([408])
      const [answer] = answersIn(client.received())
      expect(bodyOf(answer)).toMatchObject({ type: '/problems/request-timeout', status: 408 })
      expect(writes(sim, 'device_create')).toBe(0)
    } finally {
      client.reset()
    }
    // A client that has gone leaves nothing behind (checked before the read below opens a kept-alive connection).
    await waitFor(async () => await connections(gw) === 0, { timeoutMs: 2000, what: 'the slow connection released' })
    await expectHealthy(gw)
  })

  it('releases the connection of a client that left after the timeout (the gateway\'s close does not wait for it)', async () => {
    const { gw, port } = await setup()
    dropConnectionsAfterTest(gw)
    const client = await rawClient(port)
    await client.send(head('POST', '/v1/users/2/devices', ['Content-Type: application/json', 'Content-Length: 30']) + '{"ty')
    await sleep(REQUEST_TIMEOUT_MS + 600)
    client.reset()
    await waitFor(async () => await connections(gw) === 0, { timeoutMs: 2000, what: 'the abandoned connection released' })
  })
})

describe('Expect: 100-continue', () => {
  it('a writer gets 100 Continue before it sends the body, then 201: exactly one device is created', async () => {
    const { sim, gw, port } = await setup()
    const body = JSON.stringify({ type: 'SIP', description: 'continued', pin: '8642' })
    const client = await rawClient(port)
    await client.send(head('POST', '/v1/users/3/devices', [auth(WRITER), 'Content-Type: application/json', 'Expect: 100-continue', length(body)]))
    await waitFor(() => client.received().length > 0, { timeoutMs: 2000, what: '100 Continue' })
    expect(client.received()).toBe('HTTP/1.1 100 Continue\r\n\r\n')
    await sleep(100)
    expect(writes(sim, 'device_create')).toBe(0)
    await client.send(body)
    await answered(client)
    const [answer] = answersIn(client.received())
    expect(answer?.status).toBe(201)
    expect(answer?.head).toMatch(new RegExp(`\\r\\nlocation: /v1/devices/${CREATED_DEVICE_IDS.first}\\r\\n`, 'i'))
    expect(bodyOf(answer)).toMatchObject({ id: CREATED_DEVICE_IDS.first, userId: 3, description: 'continued' })
    expect(client.received()).not.toContain('8642')
    // The connection stays usable: a read on it after the write.
    await client.send(head('GET', '/v1/devices/5', [auth(WRITER)]))
    await answered(client, 2)
    expect(client.statuses()).toStrictEqual([201, 200])
    client.reset()
    expect(writes(sim, 'device_create')).toBe(1)
    await expectHealthy(gw)
  })

  it('a client without a key gets 401 and no write, whether or not it sends the body', async () => {
    const { sim, gw, port } = await setup()
    const body = JSON.stringify({ type: 'SIP', pin: '9753' })
    const client = await rawClient(port)
    await client.send(head('POST', '/v1/users/2/devices', ['Content-Type: application/json', 'Expect: 100-continue', length(body)]))
    await sleep(300)
    // Node answers 100 Continue itself, before the gateway sees the request.
    expect(client.received().startsWith('HTTP/1.1 100 Continue\r\n\r\n')).toBe(true)
    if (client.statuses().length === 0) await client.send(body)
    await answered(client)
    expect(client.statuses()).toStrictEqual([401])
    const [answer] = answersIn(client.received())
    expect(bodyOf(answer)).toMatchObject({ type: '/problems/unauthorized', status: 401 })
    expect(answer?.head).toMatch(/\r\nwww-authenticate: Bearer realm="mor-gateway"\r\n/i)
    client.reset()
    expect(totalWrites(sim)).toBe(0)
    await expectHealthy(gw)
  })

  // KNOWN GAP: docs/api.md "Order of checks" puts the caller (401) before the body; the gateway
  // checks the caller in preValidation, after the body has been read and parsed, so a client
  // without a key must send its body before it is refused.
  it('a client without a key is refused before it sends the body', async () => {
    const { port } = await setup()
    const client = await rawClient(port)
    await client.send(head('POST', '/v1/users/2/devices', ['Content-Type: application/json', 'Expect: 100-continue', 'Content-Length: 20']))
    await sleep(500)
    try {
      expect(client.statuses()).toStrictEqual([401])
    } finally {
      client.reset()
    }
  })
})

describe('pipelining', () => {
  it('two PATCHes in one TCP write on a kept-alive connection are answered in order, each applied once', async () => {
    const { sim, gw, port } = await setup()
    const patch = (deviceId: number, description: string) => {
      const body = JSON.stringify({ description, pin: '1122' })
      return head('PATCH', `/v1/devices/${deviceId}`, [auth(WRITER), 'Content-Type: application/merge-patch+json', length(body)]) + body
    }
    const client = await rawClient(port)
    await client.send(patch(5, 'piped first') + patch(6, 'piped second'))
    await answered(client, 2, 5000)
    const [first, second] = answersIn(client.received())
    expect([first?.status, second?.status]).toStrictEqual([200, 200])
    expect(bodyOf(first)).toMatchObject({ id: 5, description: 'piped first' })
    expect(bodyOf(second)).toMatchObject({ id: 6, description: 'piped second' })
    expect(client.isClosed()).toBe(false)
    expect(client.received()).not.toContain('1122')
    client.reset()
    expect(writes(sim, 'device_update')).toBe(2)
    expect(((await getJson(`${gw.url}/v1/devices/5`, W)).body as { description: string }).description).toBe('piped first')
    expect(((await getJson(`${gw.url}/v1/devices/6`, W)).body as { description: string }).description).toBe('piped second')
  })

  it('a whole PATCH pipelined ahead of a cut-off one: the first is applied, the second never', async () => {
    const { sim, gw, port } = await setup()
    const whole = JSON.stringify({ description: 'piped whole' })
    const cut = JSON.stringify({ description: 'piped cut' })
    const client = await rawClient(port)
    await client.send(head('PATCH', '/v1/devices/6', [auth(WRITER), 'Content-Type: application/merge-patch+json', length(whole)]) + whole +
      head('PATCH', '/v1/devices/6', [auth(WRITER), 'Content-Type: application/merge-patch+json', length(cut)]) + cut.slice(0, 10))
    await answered(client, 1, 5000)
    expect(client.statuses()).toStrictEqual([200])
    client.reset()
    await sleep(100)
    expect(writes(sim, 'device_update')).toBe(1)
    expect(((await getJson(`${gw.url}/v1/devices/6`, W)).body as { description: string }).description).toBe('piped whole')
  })
})

describe('a body too large', () => {
  it('1 MiB announced in Content-Length: 413 at once, before the body is sent, and the connection closed', async () => {
    const { sim, gw, port } = await setup()
    const client = await rawClient(port)
    const started = performance.now()
    await client.send(head('POST', '/v1/users/2/devices', [auth(WRITER), 'Content-Type: application/json', `Content-Length: ${1024 * 1024}`]) + '{"type":"SIP","description":"')
    await answered(client, 1, 2000)
    expect(performance.now() - started).toBeLessThan(1000)
    expect(client.statuses()).toStrictEqual([413])
    expect(bodyOf(answersIn(client.received())[0])).toMatchObject({ type: '/problems/payload-too-large', status: 413 })
    await Promise.race([client.closed, sleep(2000)])
    expect(client.isClosed()).toBe(true)
    expect(writes(sim, 'device_create')).toBe(0)
    await expectHealthy(gw)
  })

  it('chunked without a length: 413 once past 16 KiB, long before 1 MiB, and the connection closed', async () => {
    const { sim, gw, port } = await setup()
    const client = await rawClient(port)
    const started = performance.now()
    await client.send(head('PATCH', '/v1/devices/5', [auth(WRITER), 'Content-Type: application/merge-patch+json', 'Transfer-Encoding: chunked']) + '10\r\n{"description":"\r\n')
    const chunk = 'x'.repeat(4096)
    let sent = 0
    // At most 1 MiB, in 4 KiB chunks, stopping at the answer. The client reads along: one that
    // writes flat out can have the answer destroyed by the reset its further bytes provoke once
    // the gateway has closed (see the report).
    while (sent < 256 && client.statuses().length === 0 && !client.isClosed()) {
      await client.send(`1000\r\n${chunk}\r\n`)
      sent++
      await sleep(2)
    }
    await answered(client, 1, 2000)
    expect(client.statuses()).toStrictEqual([413])
    expect(performance.now() - started).toBeLessThan(2000)
    // The answer came once the limit was passed, not after the whole upload (allowing for what was in flight).
    expect(sent).toBeLessThan(128)
    await Promise.race([client.closed, sleep(2000)])
    expect(client.isClosed()).toBe(true)
    expect(writes(sim, 'device_update')).toBe(0)
    await expectHealthy(gw)
  })
})

describe('what the body is made of', () => {
  it('takes application/json; charset=utf-8, with UTF-8 text', async () => {
    const { sim, port } = await setup()
    const body = Buffer.from(JSON.stringify({ type: 'SIP', description: 'Café Ω' }), 'utf8')
    const client = await rawClient(port)
    await client.send(Buffer.concat([Buffer.from(head('POST', '/v1/users/2/devices', [auth(WRITER), 'Content-Type: application/json; charset=utf-8', length(body), 'Connection: close'])), body]))
    await Promise.race([client.closed, sleep(3000)])
    expect(client.statuses()).toStrictEqual([201])
    const text = Buffer.from(client.received(), 'latin1').toString('utf8')
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ userId: 2, description: 'Café Ω' })
    expect(writes(sim, 'device_create')).toBe(1)
  })

  it('refuses bytes that are not JSON text (invalid UTF-8 outside strings), __proto__ and constructor.prototype with 400, and writes nothing', async () => {
    const { sim, gw, port } = await setup()
    const bodies: Array<[string, string | Buffer, string]> = [
      ['POST', Buffer.concat([Buffer.from('{"type":"SIP"}'), Buffer.from([0xff, 0xfe])]), 'application/json'],
      ['POST', Buffer.concat([Buffer.from([0xc3, 0x28]), Buffer.from('{"type":"SIP"}')]), 'application/json'],
      ['POST', '{"type":"SIP","__proto__":{"pin":"1"}}', 'application/json'],
      ['POST', '{"type":"SIP","constructor":{"prototype":{"pin":"1"}}}', 'application/json'],
      ['PATCH', '{"description":"x","__proto__":{"isAdmin":true}}', 'application/merge-patch+json'],
      ['PATCH', '{"constructor":{"prototype":{"description":"x"}}}', 'application/merge-patch+json']
    ]
    for (const [method, body, type] of bodies) {
      const client = await rawClient(port)
      const path = method === 'POST' ? '/v1/users/2/devices' : '/v1/devices/5'
      await client.send(Buffer.concat([Buffer.from(head(method, path, [auth(WRITER), `Content-Type: ${type}`, length(body), 'Connection: close'])), Buffer.from(body)]))
      await Promise.race([client.closed, sleep(3000)])
      expect(client.statuses()).toStrictEqual([400])
      expect(bodyOf(answersIn(client.received())[0])).toMatchObject({ type: '/problems/invalid-request', status: 400 })
    }
    expect(totalWrites(sim)).toBe(0)
    // Nothing leaked onto Object.prototype.
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
    expect(({} as Record<string, unknown>).pin).toBeUndefined()
    await expectHealthy(gw)
  })

  // KNOWN BUG (see the header): the body is decoded leniently, so a Latin-1 "é" (0xE9) inside a
  // string becomes U+FFFD and the write goes to MOR with it. JSON between systems must be UTF-8
  // (RFC 8259 8.1): the request is not JSON and should be a 400, with nothing written.
  it('refuses invalid UTF-8 inside a JSON string with 400 and writes nothing', async () => {
    const { sim, port } = await setup()
    const body = Buffer.concat([Buffer.from('{"type":"SIP","description":"caf'), Buffer.from([0xe9]), Buffer.from('"}')])
    const client = await rawClient(port)
    await client.send(Buffer.concat([Buffer.from(head('POST', '/v1/users/2/devices', [auth(WRITER), 'Content-Type: application/json', length(body), 'Connection: close'])), body]))
    await Promise.race([client.closed, sleep(3000)])
    expect(client.statuses()).toStrictEqual([400])
    expect(writes(sim, 'device_create')).toBe(0)
  })
})

describe('forwarding headers', () => {
  it('a forged X-Forwarded-For changes neither who the caller is nor what it may do', async () => {
    const { sim, gw, port } = await setup()
    const forged = ['X-Forwarded-For: 10.0.0.1', 'Forwarded: for=10.0.0.2', 'X-Real-IP: 10.0.0.3']
    const body = JSON.stringify({ description: 'forwarded' })
    const send = async (key: string | undefined) => {
      const client = await rawClient(port)
      await client.send(head('PATCH', '/v1/devices/5', [...(key === undefined ? [] : [auth(key)]), ...forged, 'Content-Type: application/merge-patch+json', length(body), 'Connection: close']) + body)
      await Promise.race([client.closed, sleep(3000)])
      return client.statuses()
    }
    expect(await send(undefined)).toStrictEqual([401])
    expect(await send(READER)).toStrictEqual([403])
    expect(await send(WRITER)).toStrictEqual([200])
    expect(writes(sim, 'device_update')).toBe(1)
    const lines = gw.logs.map((line) => JSON.parse(line) as { msg: string, req?: { remoteAddress?: string, ip?: string }, audit?: { caller: string } })
    expect(lines.filter((l) => l.audit).map((l) => l.audit?.caller)).toStrictEqual(['portal'])
    const seen = lines.filter((l) => l.msg === 'request completed').map((l) => JSON.stringify(l.req))
    expect(seen.length).toBeGreaterThan(0)
    for (const req of seen) expect(req).not.toMatch(/10\.0\.0\./)
  })
})
