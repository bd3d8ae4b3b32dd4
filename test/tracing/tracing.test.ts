// Tracing end to end, over real sockets: the caller's W3C trace continued through a miss to the
// MOR simulator (which records the traceparent it receives), spans exported to a local OTLP/HTTP
// receiver, coalesced requests linked to the one MOR call, hits traced only when sampled, and the
// trace id in the log lines. Nothing secret in any span.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { devicesGetHash } from '../../src/mor/sign.js'
import { newSpanId, newTraceId } from '../../src/tracing/trace-context.js'
import { AUTH, getJson, TEST_API_KEY, TEST_API_SECRET } from '../helpers/gateway.js'
import { attributeOf, startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'
import { gateway, simulator } from '../helpers/scoped.js'
import { rawRequest } from '../helpers/raw-http.js'
import { waitFor } from '../helpers/wait.js'

let receiver: OtlpReceiver
let redis: TestRedis
beforeAll(async () => { [receiver, redis] = await Promise.all([startOtlpReceiver(), startRedis()]) })
afterAll(async () => { await Promise.all([receiver?.close(), redis?.close()]) })

const traced = (env: Record<string, string> = {}) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '20', ...env })
const spansOf = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId)
const traceparent = (traceId: string, spanId: string, sampled = true) => `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`

describe('tracing to an OTLP/HTTP collector', () => {
  it('continues the caller\'s trace through a miss to MOR and exports the miss path\'s spans', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url, { REDIS_URL: redis.url, ...traced() })
    await waitFor(() => gw.app.redisStore?.available === true)
    const traceId = newTraceId()
    const caller = newSpanId()
    const res = await getJson(`${gw.url}/v1/users/1700/devices`, { traceparent: traceparent(traceId, caller), tracestate: 'vendor=opaque' })
    expect(res.status).toBe(200)
    await waitFor(() => spansOf(traceId).some((s) => s.kind === 2), { what: 'the server span' })

    const spans = spansOf(traceId)
    const server = spans.find((s) => s.kind === 2)
    expect(server).toMatchObject({ name: 'GET /v1/users/:userId/devices', parentSpanId: caller, traceState: 'vendor=opaque', status: { code: 0 } })
    expect(attributeOf(server!, 'http.response.status_code')).toBe('200')
    const byName = new Map(spans.map((s) => [s.name, s]))
    for (const name of ['Redis lookup', 'Redis lock', 'MOR devices_get', 'MOR answer translation', 'Redis store']) {
      expect(byName.get(name)?.parentSpanId, name).toBe(server!.spanId)
    }
    const morSpan = byName.get('MOR devices_get')!
    expect(morSpan.kind).toBe(3)
    expect(BigInt(morSpan.endTimeUnixNano)).toBeGreaterThan(BigInt(morSpan.startTimeUnixNano))
    // MOR received the MOR span as its parent, the caller's tracestate and the request id.
    expect(sim.calls.traces.at(-1)).toStrictEqual({ method: 'devices_get', traceparent: traceparent(traceId, morSpan.spanId), tracestate: 'vendor=opaque', requestId: res.headers.get('x-request-id') })
    // Trace ids in the log lines of the request.
    expect(gw.logs.some((line) => line.includes(`"traceId":"${traceId}"`) && line.includes('request completed'))).toBe(true)
    // Never a secret: not the MOR secret, the call's hash or the API key.
    const sent = receiver.bodies.join('\n')
    for (const secret of [TEST_API_SECRET, devicesGetHash(1700, TEST_API_SECRET), TEST_API_KEY]) expect(sent).not.toContain(secret)
    expect(receiver.resources).toContainEqual({ attributes: expect.arrayContaining([{ key: 'service.name', value: { stringValue: 'mor-gateway' } }]) })
  })

  it('records nothing for a caller that did not sample, and still carries its trace to MOR', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url, traced())
    const traceId = newTraceId()
    await getJson(`${gw.url}/v1/users/1701/devices`, { traceparent: traceparent(traceId, newSpanId(), false) })
    expect(sim.calls.traces.at(-1)?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`))
    await gw.app.close() // flushes whatever was queued
    expect(spansOf(traceId)).toStrictEqual([])
  })

  it('links the requests that joined a coalesced MOR call to the trace that holds it', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url, traced())
    sim.options.delayMs = 300
    const traces = Array.from({ length: 5 }, () => newTraceId())
    await Promise.all(traces.map((traceId) => getJson(`${gw.url}/v1/users/1702/devices`, { traceparent: traceparent(traceId, newSpanId()) })))
    expect(sim.calls.byUser.get('1702')).toBe(1)
    await waitFor(() => traces.every((t) => spansOf(t).some((s) => s.kind === 2)), { what: 'five server spans' })
    const holder = traces.find((t) => spansOf(t).some((s) => s.name === 'MOR devices_get')) as string
    const holderServer = spansOf(holder).find((s) => s.kind === 2)!
    const waits = traces.filter((t) => t !== holder).map((t) => spansOf(t).find((s) => s.name === 'wait for a coalesced fetch'))
    expect(waits.map((w) => w?.links)).toStrictEqual(Array.from({ length: 4 }, () => [{ traceId: holder, spanId: holderServer.spanId }]))
  })

  it('answers every hit in the hit lane, and traces the sampled ones there', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url, traced({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }))
    await getJson(`${gw.url}/v1/users/2/devices`)
    const laneAnswers = async () => Number(/^gateway_hit_lane_answers_total ([0-9]+)$/m.exec(await (await fetch(`${gw.url}/metrics`)).text())?.[1])
    const before = await laneAnswers()
    const unsampled = await fetch(`${gw.url}/v1/users/2/devices`, { headers: AUTH })
    expect(unsampled.headers.get('cache-status')).toMatch(/hit/)
    const traceId = newTraceId()
    const caller = newSpanId()
    const sampled = await fetch(`${gw.url}/v1/users/2/devices`, { headers: { ...AUTH, traceparent: traceparent(traceId, caller) } })
    expect(sampled.headers.get('cache-status')).toMatch(/hit/)
    expect(await laneAnswers()).toBe(before + 2)
    await waitFor(() => spansOf(traceId).length > 0, { what: 'the sampled hit\'s span' })
    // A hit in memory: the request's span and nothing under it.
    expect(spansOf(traceId)).toMatchObject([{ name: 'GET /v1/users/:userId/devices', kind: 2, parentSpanId: caller }])
    expect(attributeOf(spansOf(traceId)[0]!, 'http.response.status_code')).toBe('200')
    expect(gw.logs.some((line) => line.includes(`"traceId":"${traceId}"`) && line.includes('request completed'))).toBe(true)
  })

  it('gives up a collector that does not answer within a bounded close, counting what it drops', async () => {
    const sim = await simulator()
    // A collector that takes the request and never answers; it notes when the gateway drops it.
    const { createServer } = await import('node:http')
    const exports: Array<{ dropped: boolean }> = []
    const silent = createServer((req) => {
      const held = { dropped: false }
      exports.push(held)
      req.socket.once('close', () => { held.dropped = true })
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      // The export timeout (60 s) is longer than this test may run: only the close's own bound ends it.
      const gw = await gateway(sim.url, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(silent.address() as { port: number }).port}`, OTEL_BSP_SCHEDULE_DELAY: '20', OTEL_EXPORTER_OTLP_TIMEOUT: '60000' })
      for (let i = 0; i < 3; i++) await getJson(`${gw.url}/v1/users/${1720 + i}/devices`)
      await waitFor(() => exports.length > 0, { what: 'an export at the collector' })
      expect(exports.map((e) => e.dropped)).toStrictEqual([false])
      await gw.app.close()
      // The close gave up the unanswered export itself, and says the export failed.
      await waitFor(() => exports.every((e) => e.dropped), { what: 'the export dropped by the gateway' })
      expect(exports).toHaveLength(1)
      const failures = gw.logs.map((line) => JSON.parse(line) as { msg: string, reason?: string }).filter((l) => l.msg.startsWith('OTLP span export failed'))
      expect(failures.map((l) => l.reason)).toStrictEqual(['timed out'])
    } finally {
      silent.closeAllConnections()
      silent.close()
    }
  })
})

describe('without a collector', () => {
  it('exports nothing and hooks nothing, yet a miss carries the caller\'s trace and the request id to MOR', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url)
    expect(gw.app.tracer.recording).toBe(false)
    const traceId = newTraceId()
    const res = await getJson(`${gw.url}/v1/users/1703/devices`, { traceparent: traceparent(traceId, newSpanId()) })
    const sent = sim.calls.traces.at(-1)
    expect(sent?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`))
    expect(sent?.requestId).toBe(res.headers.get('x-request-id'))
    // Over a raw socket: a huge traceparent is not one, and a tracestate of bytes the spec does not
    // allow is not passed on; the request is answered as any other.
    const port = Number(new URL(gw.url).port)
    const raw = await rawRequest(port, `GET /v1/users/1705/devices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_API_KEY}\r\ntraceparent: 00-${traceId}-${'a'.repeat(16)}-01${'0'.repeat(8000)}\r\ntracestate: v=caf\u00e9\r\nConnection: close\r\n\r\n`)
    expect(raw.status).toBe(200)
    expect(sim.calls.traces.at(-1)).toMatchObject({ tracestate: undefined })
    expect(sim.calls.traces.at(-1)?.traceparent).not.toContain(traceId)
    // A traceparent that is not one starts a trace of the gateway's own.
    await getJson(`${gw.url}/v1/users/1704/devices`, { traceparent: '00-00000000000000000000000000000000-0000000000000000-01' })
    expect(sim.calls.traces.at(-1)?.traceparent).toMatch(/^00-(?!0{32})[0-9a-f]{32}-[0-9a-f]{16}-00$/)
  })
})
