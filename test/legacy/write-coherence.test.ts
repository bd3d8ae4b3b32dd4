// Legacy writes over raw sockets, against two instances sharing Redis: the cache follows every
// write MOR confirms, however it was sent (each delete name, each body type, each framing, GET
// with a query string), before the writer has MOR's answer; and nothing else moves it: anonymous
// HEADs, unsigned and refused writes cost no MOR call at all, and a writer that leaves the moment
// it has sent still leaves every instance coherent.
import { describe, expect, it } from 'vitest'
import { signParams } from '../../src/mor/sign.js'
import type { MorSimulator } from '../../src/demo/simulator.js'
import { getJson, TEST_API_SECRET, TEST_API_USER, type TestGateway } from '../helpers/gateway.js'
import { closeAfterTest, gateway, simulator } from '../helpers/scoped.js'
import { startRedis } from '../helpers/redis-server.js'
import { rawRequest } from '../helpers/raw-http.js'
import { rawClient } from '../helpers/raw-client.js'
import { startFaultUpstream } from '../helpers/fault-upstream.js'
import { waitFor } from '../helpers/wait.js'

const portOf = (gw: TestGateway) => Number(new URL(gw.url).port)
const sign = (...values: string[]) => signParams(values, TEST_API_SECRET)
const ids = (body: unknown) => (body as { devices: Array<{ id: number }> }).devices.map((d) => d.id)
const cacheStatus = (res: { headers: Headers }) => res.headers.get('cache-status') ?? ''

/** A raw HTTP/1.1 request: Content-Length framing, chunked (in two chunks), or no body. */
function request (method: string, target: string, body?: { type: string, data: string, chunked?: boolean }, extra = ''): string {
  const head = `${method} ${target} HTTP/1.1\r\nHost: gw\r\n${extra}`
  if (body === undefined) return `${head}\r\n`
  const data = Buffer.from(body.data)
  if (!body.chunked) return `${head}Content-Type: ${body.type}\r\nContent-Length: ${data.length}\r\n\r\n${body.data}`
  const half = Math.ceil(data.length / 2)
  const chunk = (part: Buffer) => `${part.length.toString(16)}\r\n${part.toString('latin1')}\r\n`
  return `${head}Content-Type: ${body.type}\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(data.subarray(0, half))}${chunk(data.subarray(half))}0\r\n\r\n`
}

const form = (fields: Record<string, string>, chunked = false) => ({ type: 'application/x-www-form-urlencoded', data: new URLSearchParams(fields).toString(), chunked })
const json = (fields: Record<string, string | number>, chunked = false) => ({ type: 'application/json', data: JSON.stringify(fields), chunked })
function multipart (fields: Record<string, string>, chunked = false) {
  const parts = Object.entries(fields).map(([name, value]) => `--XyZ\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`).join('')
  return { type: 'multipart/form-data; boundary=XyZ', data: `${parts}--XyZ--\r\n`, chunked }
}

async function pair (env: Record<string, string> = {}) {
  const redis = await startRedis()
  closeAfterTest(() => redis.close())
  const sim = await simulator()
  // A loaded machine must not shed these requests: they are about what reaches MOR.
  const settings = { REDIS_URL: redis.url, MAX_EVENT_LOOP_DELAY_MS: '60000', ...env }
  const a = await gateway(sim.url, settings)
  const b = await gateway(sim.url, settings)
  // Each waits for the other's acknowledgement only once it knows the other is on the bus.
  await waitFor(() => a.app.invalidation.peers === 1 && b.app.invalidation.peers === 1, { what: 'both instances to know each other on the bus' })
  return { sim, a, b }
}

/** Both instances hold user 2's list and device 6's details, each in its own memory. */
async function warm (a: TestGateway, b: TestGateway) {
  for (const gw of [a, b]) {
    await getJson(`${gw.url}/v1/users/2/devices`)
    await getJson(`${gw.url}/v1/devices/6`)
    const again = await getJson(`${gw.url}/v1/users/2/devices`)
    expect(cacheStatus(again), JSON.stringify([again.status, again.body])).toMatch(/hit/)
  }
}

describe('a write MOR confirms reaches the other instance before the writer has MOR\'s answer', () => {
  const deletes: Array<[string, (device: string) => string]> = [
    ['device_delete, a form with Content-Length', (d) => request('POST', '/billing/api/device_delete', form({ u: TEST_API_USER, device: d, hash: sign(d) }))],
    ['device_destroy, a chunked form', (d) => request('POST', '/billing/api/device_destroy', form({ u: TEST_API_USER, device: d, hash: sign(d) }, true))],
    ['device_delete, a JSON body with a number', (d) => request('POST', '/billing/api/device_delete', json({ u: TEST_API_USER, device: Number(d), hash: sign(d) }))],
    ['device_destroy, a chunked multipart body', (d) => request('POST', '/billing/api/device_destroy', multipart({ u: TEST_API_USER, device: d, hash: sign(d) }, true))],
    ['device_delete, GET with a query string', (d) => request('GET', `/billing/api/device_delete?u=${TEST_API_USER}&device=${d}&hash=${sign(d)}`)],
    ['device_delete, the target in the query and the rest in a JSON body', (d) => request('POST', `/billing/api/device_delete?device=${d}`, json({ u: TEST_API_USER, hash: sign(d) }))]
  ]

  it.each(deletes)('%s', async (_name, write) => {
    const { sim, a, b } = await pair()
    await warm(a, b)
    const answer = await rawRequest(portOf(a), write('6'))
    expect(answer.status).toBe(200)
    // The very next reads, on the other instance, already follow the write.
    expect(ids((await getJson(`${b.url}/v1/users/2/devices`)).body)).toStrictEqual([5, 7])
    expect((await getJson(`${b.url}/v1/devices/6`)).status).toBe(404)
    expect(ids((await getJson(`${a.url}/v1/users/2/devices`)).body)).toStrictEqual([5, 7])
    expect(sim.calls.byUser.get('2')).toBe(2)
  })

  it('a chunked JSON update drops the device\'s details and its owner\'s list everywhere', async () => {
    const { sim, a, b } = await pair()
    await warm(a, b)
    const body = json({ u: TEST_API_USER, device: '6', description: 'moved upstairs', hash: sign('6') }, true)
    expect((await rawRequest(portOf(a), request('POST', '/billing/api/device_update', body))).body).toMatch(/./)
    expect(cacheStatus(await getJson(`${b.url}/v1/devices/6`))).toBe('mor-gateway; fwd=miss; stored')
    expect(cacheStatus(await getJson(`${b.url}/v1/users/2/devices`))).toBe('mor-gateway; fwd=miss; stored')
    expect(sim.calls.byUser.get('2')).toBe(2)
  })

  it('a chunked JSON create shows the new device in the list of the other instance', async () => {
    const { a, b } = await pair()
    await warm(a, b)
    const body = json({ u: TEST_API_USER, user_id: 2, hash: sign('2') }, true)
    const answer = await rawRequest(portOf(a), request('POST', '/billing/api/device_create', body))
    expect(answer.status).toBe(200)
    expect(ids((await getJson(`${b.url}/v1/users/2/devices`)).body)).toHaveLength(4)
  })

  const refusals: Array<[string, (sim: MorSimulator) => string]> = [
    ['Device was not found', () => request('POST', '/billing/api/device_delete', form({ u: TEST_API_USER, device: '99999', hash: sign('99999') }))],
    ['Cannot delete device - it has calls... (in a <page><status>)', (sim) => {
      sim.options.devicesWithCalls = new Set([6])
      sim.options.errorShape = 'page'
      return request('POST', '/billing/api/device_destroy', form({ u: TEST_API_USER, device: '6', hash: sign('6') }))
    }],
    ['Incorrect hash', () => request('POST', '/billing/api/device_delete', json({ u: TEST_API_USER, device: 6, hash: sign('7') }))],
    ['GET Requests are disabled', (sim) => {
      sim.options.allowGet = false
      return request('GET', `/billing/api/device_delete?u=${TEST_API_USER}&device=6&hash=${sign('6')}`)
    }],
    ['User was not found, for a create', () => request('POST', '/billing/api/device_create', form({ u: TEST_API_USER, user_id: '999999', hash: sign('999999') }))]
  ]

  it.each(refusals)('a write MOR refuses changes nothing: %s', async (text, write) => {
    const { sim, a, b } = await pair()
    await warm(a, b)
    const answer = await rawRequest(portOf(a), write(sim))
    expect(answer.status).toBe(200)
    expect(sim.calls.writes.size).toBe(1)
    for (const gw of [a, b]) {
      expect(cacheStatus(await getJson(`${gw.url}/v1/users/2/devices`))).toMatch(/hit/)
      expect(cacheStatus(await getJson(`${gw.url}/v1/devices/6`))).toMatch(/hit/)
    }
    expect(sim.calls.byUser.get('2')).toBe(1)
    const metrics = await (await fetch(`${a.url}/metrics`)).text()
    const outcomes = metrics.split('\n').filter((line) => line.startsWith('gateway_legacy_writes_total'))
    expect(outcomes, text).toStrictEqual(['gateway_legacy_writes_total{outcome="refused"} 1'])
    expect(metrics).toMatch(/^gateway_cache_invalidations_legacy_write_total 0$/m)
  })
})

describe('nothing but a confirmed write moves the cache', () => {
  it('thousands of anonymous HEADs, unsigned and refused writes of every method cost no MOR read and invalidate nothing', async () => {
    // Pipelined requests are relayed at once: a queue that holds them all, so none is shed.
    const { sim, a, b } = await pair({ LEGACY_QUEUE: '2000' })
    await warm(a, b)
    const sent = async () => Promise.all([a, b].map(async (gw) => /^gateway_invalidation_messages_sent_total (\d+)$/m.exec(await (await fetch(`${gw.url}/metrics`)).text())?.[1]))
    const calls = () => [sim.calls.byUser.get('2'), sim.calls.byDevice.get('6')]
    const before = calls()
    const sentBefore = await sent()
    const anonymous: string[] = []
    for (const name of ['device_create', 'device_update', 'device_delete', 'device_destroy']) {
      const target = name === 'device_create' ? 'user_id=2' : 'device=6'
      anonymous.push(
        request('HEAD', `/billing/api/${name}?${target}`),
        request('HEAD', `/billing/api/${name}?u=${TEST_API_USER}&${target}&hash=${sign(target.split('=')[1] as string)}`),
        request('GET', `/billing/api/${name}?${target}`),
        request('POST', `/billing/api/${name}`, form(Object.fromEntries([target.split('=') as [string, string]]))),
        request('POST', `/billing/api/${name}`, form({ ...Object.fromEntries([target.split('=') as [string, string]]), hash: '0'.repeat(40) }, true)),
        request('PUT', `/billing/api/${name}?${target}`),
        request('DELETE', `/billing/api/${name}?${target}&hash=x`),
        request('OPTIONS', `/billing/api/${name}?${target}`),
        request('POST', `/billing/api/${name}`, form({ [target.split('=')[0] as string]: '6', _method: 'HEAD', hash: 'x' })),
        request('POST', `/billing/api/${name}?${target}`, undefined, 'X-HTTP-Method-Override: HEAD\r\nContent-Length: 0\r\n')
      )
    }
    // 40 kinds, pipelined 25 times over one connection per instance: 2,000 requests.
    const rounds = 25
    const statuses: number[] = []
    await Promise.all([a, b].map(async (gw) => {
      const client = await rawClient(portOf(gw))
      for (let i = 0; i < rounds; i++) await client.send(anonymous.join(''))
      await waitFor(() => client.statuses().length === anonymous.length * rounds, { timeoutMs: 60_000, what: `every answer (${client.statuses().length} so far, closed: ${client.isClosed()})` })
      statuses.push(...client.statuses())
      client.reset()
    }))
    expect(statuses).toHaveLength(anonymous.length * rounds * 2)
    expect(new Set(statuses)).toStrictEqual(new Set([200, 400, 405]))
    expect(calls()).toStrictEqual(before)
    for (const gw of [a, b]) {
      expect(cacheStatus(await getJson(`${gw.url}/v1/users/2/devices`))).toMatch(/hit/)
      expect(cacheStatus(await getJson(`${gw.url}/v1/devices/6`))).toMatch(/hit/)
      const metrics = await (await fetch(`${gw.url}/metrics`)).text()
      expect(metrics).toMatch(/^gateway_cache_invalidations_legacy_write_total 0$/m)
      expect(metrics).not.toMatch(/^gateway_legacy_writes_total\{outcome="confirmed"\}/m)
    }
    expect(await sent()).toStrictEqual(sentBefore)
    expect(calls()).toStrictEqual(before)
  }, 120_000)

  it('a HEAD on a write method is answered 405 by the gateway and never reaches MOR', async () => {
    const { sim, a } = await pair()
    const writesBefore = sim.calls.total
    const answer = await rawRequest(portOf(a), request('HEAD', `/billing/api/device_create?u=${TEST_API_USER}&user_id=2&hash=${sign('2')}`))
    expect(answer.status).toBe(405)
    expect(answer.head).toMatch(/\r\nallow: GET, POST\r\n/i)
    expect(sim.calls.total).toBe(writesBefore)
    expect(a.logs.join('')).toMatch(/"level":40,[^\n]*"reqId":"[^"]+"[^\n]*legacy write not forwarded/)
  })
})

describe('a writer that leaves', () => {
  it('the moment it has sent a real write still leaves every instance coherent', async () => {
    const { sim, a, b } = await pair()
    await warm(a, b)
    // MOR takes its time, so every client is gone before MOR answers.
    sim.options.delayMs = 50
    const tries = 10
    for (let i = 0; i < tries; i++) {
      const client = await rawClient(portOf(i % 2 === 0 ? a : b))
      await client.send(request('POST', '/billing/api/device_create', form({ u: TEST_API_USER, user_id: '2', hash: sign('2') })))
      client.reset()
      await waitFor(() => (sim.calls.writes.get('device_create') ?? 0) === i + 1, { what: 'MOR to get the write' })
      await waitFor(async () => ids((await getJson(`${(i % 2 === 0 ? b : a).url}/v1/users/2/devices`)).body).length === 4 + i, { timeoutMs: 2000, what: `write ${i + 1} on the other instance` })
    }
    for (const gw of [a, b]) expect(ids((await getJson(`${gw.url}/v1/users/2/devices`)).body)).toHaveLength(3 + tries)
    const metrics = await (await fetch(`${a.url}/metrics`)).text()
    expect(metrics).toMatch(/^gateway_legacy_writes_total\{outcome="confirmed"\} 5$/m)
  })

  it('before its body is whole sends nothing to MOR', async () => {
    const { sim, a } = await pair()
    const client = await rawClient(portOf(a))
    const body = new URLSearchParams({ u: TEST_API_USER, device: '6', hash: sign('6') }).toString()
    await client.send(`POST /billing/api/device_delete HTTP/1.1\r\nHost: gw\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`)
    client.reset()
    // The gateway is done with the request, and whatever it sent MOR is sent: the client's leaving is
    // counted (a reset seen as the client gone), or an answer was logged (a reset seen as a bad body).
    const ended = async () => a.logs.some((line) => {
      const entry = JSON.parse(line) as { msg: string, req?: { url?: string } }
      return entry.msg === 'request completed' && entry.req?.url === '/billing/api/device_delete'
    }) || /^gateway_legacy_client_aborts_total [1-9]/m.test(await (await fetch(`${a.url}/metrics`)).text())
    await waitFor(ended, { what: 'the gateway to end the cut request' })
    expect(sim.calls.writes.get('device_delete')).toBeUndefined()
  })
})

describe('a write whose target the gateway cannot read', () => {
  it('is refused before MOR with a problem that names the reason, counted and logged with the request id', async () => {
    const { sim, a } = await pair()
    const cases: Array<[string, number, RegExp]> = [
      [request('POST', '/billing/api/device_delete', { type: 'application/json', data: '{"device":' }), 400, /device_delete: /],
      [request('POST', '/billing/api/device_delete', form({ 'device[]': '6' })), 400, /device must be one id/],
      [request('POST', '/billing/api/device_update.xml', form({ device: '6' })), 400, /no format or further path segments/],
      [request('POST', '/billing/api/device_delete', { type: 'application/x-www-form-urlencoded', data: `device=6&pad=${'x'.repeat(70_000)}`, chunked: true }), 413, /exceeds 65536 bytes/],
      [request('POST', '/billing/api/device_delete', { type: 'application/x-www-form-urlencoded', data: `device=6&pad=${'x'.repeat(70_000)}` }), 413, /exceeds 65536 bytes/]
    ]
    for (const [text, status, detail] of cases) {
      const answer = await rawRequest(portOf(a), text)
      expect(answer.status, `${text.slice(0, 60)} ${answer.body}`).toBe(status)
      expect((JSON.parse(answer.body) as { detail: string }).detail).toMatch(detail)
    }
    expect(sim.calls.total).toBe(0)
    const metrics = await (await fetch(`${a.url}/metrics`)).text()
    expect(metrics).toMatch(/^gateway_legacy_writes_total\{outcome="not_forwarded"\} 5$/m)
    expect(a.logs.filter((line) => line.includes('legacy write not forwarded') && line.includes('"reqId"'))).toHaveLength(5)
  })
})

describe('MOR\'s answer to a write whose client has left', () => {
  it('is read on while it can confirm the write, and no further: an endless answer is cut, confirms nothing', async () => {
    const upstream = await startFaultUpstream()
    closeAfterTest(() => upstream.close())
    let upstreamClosed!: () => void
    const closed = new Promise<void>((resolve) => { upstreamClosed = resolve })
    // A MOR that never stops answering: 1 KiB every few milliseconds.
    upstream.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' })
      const timer = setInterval(() => res.write(`<status>${'x'.repeat(1000)}</status>\n`), 2)
      res.on('close', () => { clearInterval(timer); upstreamClosed() })
    })
    const gw = await gateway(upstream.url)
    const client = await rawClient(portOf(gw))
    await client.send(request('POST', '/billing/api/device_delete', form({ u: TEST_API_USER, device: '6', hash: sign('6') })))
    await waitFor(() => upstream.requests === 1, { what: 'MOR to get the write' })
    client.reset()
    await closed
    await waitFor(async () => /^gateway_legacy_writes_total\{outcome="unconfirmed"\} 1$/m.test(await (await fetch(`${gw.url}/metrics`)).text()), { what: 'the write counted unconfirmed' })
    expect(gw.logs.some((line) => line.includes('legacy write not confirmed by MOR') && line.includes('"deviceId":6'))).toBe(true)
  })

  it('cut short by MOR confirms nothing and invalidates nothing', async () => {
    const upstream = await startFaultUpstream()
    closeAfterTest(() => upstream.close())
    upstream.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml', 'content-length': '100' })
      res.write('<status>Device was deleted</status>')
      setTimeout(() => res.destroy(), 20)
    })
    const gw = await gateway(upstream.url)
    const answer = await rawRequest(portOf(gw), request('POST', '/billing/api/device_delete', form({ u: TEST_API_USER, device: '6', hash: sign('6') })))
    // Nothing had gone out yet (a write's answer is held until it is whole): the connection is cut.
    expect(answer).toMatchObject({ status: 0, closedByServer: true })
    const metrics = await (await fetch(`${gw.url}/metrics`)).text()
    expect(metrics).toMatch(/^gateway_legacy_writes_total\{outcome="unconfirmed"\} 1$/m)
    expect(metrics).toMatch(/^gateway_cache_invalidations_legacy_write_total 0$/m)
  })
})
