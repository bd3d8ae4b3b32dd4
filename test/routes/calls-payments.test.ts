// GET /v1/users/{userId}/calls and GET /v1/users/{userId}/payments end to end over real sockets:
// gateway -> MOR simulator's user_calls_get and payments_get. Whole answers built from the
// simulator's own records (activity.ts, profiles.ts), MOR's local call times as UTC, the filters,
// paging by Link, one MOR call per distinct query, a day's cache for a settled period, the 400s
// that name the parameter, scopes, unknown users, and the signature MOR checks.
import { createHash } from 'node:crypto'
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { callsOf, localTime, type SimCall } from '../../src/demo/activity.js'
import { findUser, LARGE_USER_ID, type SimUser } from '../../src/demo/data.js'
import { profileOf } from '../../src/demo/profiles.js'
import type { MorSimulator } from '../../src/demo/simulator.js'
import { getJson, TEST_API_SECRET, type TestGateway } from '../helpers/gateway.js'
import { followLinks } from '../helpers/pages.js'
import { problem, withoutInstance } from '../helpers/expected.js'
import { bearer, KEY_ONE } from '../helpers/callers.js'
import { keyFile } from '../helpers/key-file.js'
import { closeAfterTest, gateway, sharedGateway, simulator } from '../helpers/scoped.js'
import { fakeWallClock } from '../helpers/clock.js'

interface Money { amount: string, currency: string | null }
interface Call { id: string, startedAt: string, status: string | null, destination: string | null }
interface CallPage { userId: number, currency: string, totalCalls: number, calls: Call[], nextCursor: string | null }
interface PaymentPage { payments: unknown[], nextCursor: string | null }

// A loaded machine must not shed these requests (503 overloaded): they are about what MOR is asked and
// what the gateway answers. Among them, 1,000 clients and their contract checks share the gateway's loop.
const UNSHED = { MAX_EVENT_LOOP_DELAY_MS: '60000' }

const invalid = (detail: string) => problem('invalid-request', 'Invalid request', 400, detail)
const FORBIDDEN = problem('forbidden', 'Forbidden', 403, 'This caller may not read this MOR user')
const noUser = (id: number) => problem('user-not-found', 'User not found', 404, `MOR has no user ${id} visible to the gateway's API user`)
const INCORRECT_HASH = problem('upstream-rejected', 'MOR rejected the request', 502, 'MOR refused the request: "Incorrect hash"')

const userOf = (id: number): SimUser => {
  const user = findUser(id)
  if (user === undefined) throw new Error(`the simulator has no user ${id}`)
  return user
}
const unix = (time: string) => Math.floor(Date.parse(time) / 1000)
const rfc3339 = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')
const reads = (sim: MorSimulator, key: string) => sim.calls.reads.get(key) ?? 0

const period = (from: string, to: string) => `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`
/** A settled period: it ended weeks before these tests were written (December 2026). */
const TWO_DAYS = { from: '2026-11-02T00:00:00Z', to: '2026-11-04T00:00:00Z' }
const callsUrl = (gw: TestGateway, userId: number, query: string) => `${gw.url}/v1/users/${userId}/calls?${query}`
const paymentsUrl = (gw: TestGateway, userId: number, query = '') => `${gw.url}/v1/users/${userId}/payments${query === '' ? '' : `?${query}`}`

const STATUS_OF: Record<string, string> = { 'ANSWERED(16)': 'answered', 'NO ANSWER(19)': 'no-answer', 'BUSY(17)': 'busy', 'FAILED(34)': 'failed' }

/** One call as the gateway owes it: its start is the call's Unix time as UTC, whatever MOR's local time says. */
function callJson (call: SimCall, currency: string) {
  return {
    id: `${call.at}.${call.n % 1000}`,
    startedAt: rfc3339(call.at * 1000),
    source: call.src,
    callerId: call.clid === '' ? null : call.clid,
    destination: call.dst,
    destinationName: call.destination,
    status: STATUS_OF[call.disposition],
    billedSeconds: call.billsec,
    rate: { amount: '0.0500', currency },
    price: { amount: (call.billsec / 60 * 0.05).toFixed(4), currency }
  }
}

/** The whole answer for a user's calls from `from` to `to` (both included, as MOR's period is), those `keep` keeps. */
function expectedCalls (userId: number, from: string, to: string, keep: (call: SimCall) => boolean = () => true) {
  const user = userOf(userId)
  const { currency } = profileOf(user)
  const calls = callsOf(user, unix(from), unix(to)).filter(keep)
  return { userId, currency, totalCalls: calls.length, calls: calls.map((call) => callJson(call, currency)), nextCursor: null }
}

describe('GET /v1/users/:userId/calls', () => {
  const shared = sharedGateway(UNSHED)

  it('answers alice\'s settled period exactly, each start MOR\'s GMT +02:00 local time turned into UTC', async () => {
    const res = await getJson(callsUrl(shared.gw, 2, period(TWO_DAYS.from, TWO_DAYS.to)))
    expect(res.status).toBe(200)
    expect(res.type).toBe('application/json; charset=utf-8')
    expect(res.body).toStrictEqual(expectedCalls(2, TWO_DAYS.from, TWO_DAYS.to))
    // The first call, spelled out: MOR writes it as 02:00 local (GMT +02:00); it started at midnight UTC.
    const first = (res.body as CallPage).calls[0]
    expect(localTime(1793577600, 120)).toBe('2026-11-02 02:00:00')
    expect(first).toStrictEqual({
      id: '1793577600.36',
      startedAt: '2026-11-02T00:00:00Z',
      source: '203',
      callerId: null,
      destination: '37060083036',
      destinationName: 'Lithuania mobile',
      status: 'answered',
      billedSeconds: 266,
      rate: { amount: '0.0500', currency: 'EUR' },
      price: { amount: '0.2217', currency: 'EUR' }
    })
    expect((res.body as CallPage).totalCalls).toBe(9)
  })

  it('answers dave\'s settled period exactly, from GMT -05:30 local times (the first on the day before)', async () => {
    const res = await getJson(callsUrl(shared.gw, 5, period(TWO_DAYS.from, TWO_DAYS.to)))
    expect(res.status).toBe(200)
    const body = res.body as CallPage
    expect(body).toStrictEqual(expectedCalls(5, TWO_DAYS.from, TWO_DAYS.to))
    expect(body.currency).toBe('HUF')
    expect(localTime(1793577600, -330)).toBe('2026-11-01 18:30:00')
    expect(body.calls[0]?.startedAt).toBe('2026-11-02T00:00:00Z')
    for (const call of body.calls) expect(call.startedAt).toBe(rfc3339(Number(call.id.split('.')[0]) * 1000))
  })

  it('keeps exactly the calls with the status asked, and the four statuses make up the whole', async () => {
    const query = period(TWO_DAYS.from, TWO_DAYS.to)
    const seen: string[] = []
    for (const status of ['answered', 'no-answer', 'busy', 'failed']) {
      const res = await getJson(callsUrl(shared.gw, 5, `${query}&status=${status}`))
      expect(res.status, status).toBe(200)
      const expected = expectedCalls(5, TWO_DAYS.from, TWO_DAYS.to, (call) => STATUS_OF[call.disposition] === status)
      expect(expected.totalCalls, status).toBeGreaterThan(0)
      expect(res.body, status).toStrictEqual(expected)
      seen.push(...(res.body as CallPage).calls.map((call) => call.id))
    }
    expect(seen.sort()).toStrictEqual(expectedCalls(5, TWO_DAYS.from, TWO_DAYS.to).calls.map((call) => call.id).sort())
  })

  it('keeps exactly the calls of the device asked, and none for a device that is not the user\'s', async () => {
    const query = period(TWO_DAYS.from, TWO_DAYS.to)
    for (const deviceId of [80, 81, 82, 83, 84]) {
      const res = await getJson(callsUrl(shared.gw, 5, `${query}&deviceId=${deviceId}`))
      const expected = expectedCalls(5, TWO_DAYS.from, TWO_DAYS.to, (call) => call.deviceId === deviceId)
      expect(expected.totalCalls, String(deviceId)).toBeGreaterThan(0)
      expect(res.body, String(deviceId)).toStrictEqual(expected)
    }
    const alices = await getJson(callsUrl(shared.gw, 5, `${query}&deviceId=5`))
    expect(alices.status).toBe(200)
    expect(alices.body).toStrictEqual({ ...expectedCalls(5, TWO_DAYS.from, TWO_DAYS.to, () => false), calls: [] })
  })

  it('keeps exactly the calls to numbers starting with the prefix asked, with the other filters', async () => {
    const query = period(TWO_DAYS.from, TWO_DAYS.to)
    for (const prefix of ['3706', '4420', '44200083037', '9']) {
      const res = await getJson(callsUrl(shared.gw, 2, `${query}&destinationPrefix=${prefix}`))
      expect(res.body, prefix).toStrictEqual(expectedCalls(2, TWO_DAYS.from, TWO_DAYS.to, (call) => call.dst.startsWith(prefix)))
    }
    const all = await getJson(callsUrl(shared.gw, 2, `${query}&destinationPrefix=3706&status=answered&deviceId=5`))
    const expected = expectedCalls(2, TWO_DAYS.from, TWO_DAYS.to, (call) => call.dst.startsWith('3706') && call.disposition === 'ANSWERED(16)' && call.deviceId === 5)
    expect(expected.totalCalls).toBeGreaterThan(0)
    expect(all.body).toStrictEqual(expected)
  })

  it('pages a large user\'s 31-day month by its Link headers: every call once, in order, from one MOR call', async () => {
    const { gw, sim } = shared
    const from = '2026-10-01T00:00:00Z'
    const to = '2026-11-01T00:00:00Z'
    const expected = expectedCalls(LARGE_USER_ID, from, to)
    expect(expected.totalCalls).toBe(31 * 144 + 1)
    const pages = await followLinks<CallPage>(gw, `/v1/users/${LARGE_USER_ID}/calls?${period(from, to)}&limit=1000`)
    expect(pages.map((page) => page.calls.length)).toStrictEqual([1000, 1000, 1000, 1000, 465])
    for (const page of pages) expect({ ...page, calls: [], nextCursor: null }).toStrictEqual({ ...expected, calls: [] })
    const calls = pages.flatMap((page) => page.calls)
    expect(calls).toStrictEqual(expected.calls)
    expect(calls.length).toBe(expected.totalCalls)
    expect(new Set(calls.map((call) => call.id)).size).toBe(calls.length)
    // The whole list is the same cached answer.
    expect((await getJson(callsUrl(gw, LARGE_USER_ID, period(from, to)))).body).toStrictEqual(expected)
    expect(reads(sim, `user_calls_get:${LARGE_USER_ID}`)).toBe(1)
  })

  it('asks MOR once for the same query (in any offset), and once for each other filter or period', async () => {
    const { gw, sim } = shared
    const from = '2026-11-10T00:00:00Z'
    const to = '2026-11-12T00:00:00Z'
    const key = 'user_calls_get:3'
    const before = reads(sim, key)
    const first = await getJson(callsUrl(gw, 3, period(from, to)))
    expect(first.headers.get('cache-status')).toBe('mor-gateway; fwd=miss; stored')
    const again = await getJson(callsUrl(gw, 3, period(from, to)))
    expect(again.headers.get('cache-status')).toMatch(/^mor-gateway; hit; ttl=/)
    expect(again.body).toStrictEqual(first.body)
    // The same instants written in other offsets are the same query.
    const elsewhere = await getJson(callsUrl(gw, 3, period('2026-11-10T02:00:00+02:00', '2026-11-11T18:30:00-05:30')))
    expect(elsewhere.body).toStrictEqual(first.body)
    expect(reads(sim, key)).toBe(before + 1)
    const others = ['status=answered', 'status=busy', 'deviceId=55', 'destinationPrefix=4420', 'status=answered&deviceId=55']
    for (const filter of others) {
      expect((await getJson(callsUrl(gw, 3, `${period(from, to)}&${filter}`))).status, filter).toBe(200)
      expect((await getJson(callsUrl(gw, 3, `${period(from, to)}&${filter}`))).status, filter).toBe(200)
    }
    await getJson(callsUrl(gw, 3, period(from, '2026-11-12T00:00:01Z')))
    expect(reads(sim, key)).toBe(before + 1 + others.length + 1)
  })

  it('caches a settled period a day rather than the default TTL', async () => {
    const res = await getJson(callsUrl(shared.gw, 4, period('2026-11-20T00:00:00Z', '2026-11-21T00:00:00Z')))
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-status')).toBe('mor-gateway; fwd=miss; stored')
    expect(res.headers.get('cache-control')).toBe('private, max-age=86400')
    expect(res.headers.get('age')).toBe('0')
  })

  it('answers 400 naming the parameter for a missing, reversed, too long or malformed period and bad filters, without calling MOR', async () => {
    const { gw, sim } = shared
    const ok = period(TWO_DAYS.from, TWO_DAYS.to)
    const FROM = 'Query parameter "from" has a value it does not take: start of the period, RFC 3339 (e.g. `2026-12-01T00:00:00Z`); required'
    const cases: Array<[string, string]> = [
      ['', 'Query parameter "from" is required'],
      [`to=${encodeURIComponent(TWO_DAYS.to)}`, 'Query parameter "from" is required'],
      [`from=${encodeURIComponent(TWO_DAYS.from)}`, 'Query parameter "to" is required'],
      [period(TWO_DAYS.to, TWO_DAYS.from), 'Query parameter "to" must be at least a whole second after "from" (MOR counts in seconds)'],
      [period(TWO_DAYS.from, TWO_DAYS.from), 'Query parameter "to" must be at least a whole second after "from" (MOR counts in seconds)'],
      [period('2026-10-01T00:00:00Z', '2026-11-02T00:00:00Z'), 'The period from "from" to "to" must be at most 31 days'],
      [period('2026-10-01T00:00:00Z', '2026-11-01T00:00:01Z'), 'The period from "from" to "to" must be at most 31 days'],
      [period('2026-12-01', '2026-12-02T00:00:00Z'), FROM],
      [period('2026-12-01T00:00Z', '2026-12-02T00:00:00Z'), FROM],
      [period('2026-12-01T00:00:00', '2026-12-02T00:00:00Z'), FROM],
      [period('2026-02-30T00:00:00Z', '2026-03-02T00:00:00Z'), FROM],
      [period('2026-11-30T23:59:60Z', '2026-12-01T00:00:00Z'), 'Query parameters "from" and "to" must be RFC 3339 times that exist'],
      [period('1969-12-31T00:00:00Z', '1970-01-02T00:00:00Z'), 'Query parameter "from" must not be before 1970'],
      [`${ok}&status=weird`, 'Query parameter "status" has a value it does not take: only calls with this outcome'],
      [`${ok}&status=ANSWERED`, 'Query parameter "status" has a value it does not take: only calls with this outcome'],
      [`${ok}&deviceId=01`, 'Query parameter "deviceId" has a value it does not take: only calls of this device (a decimal device id)'],
      [`${ok}&deviceId=-5`, 'Query parameter "deviceId" has a value it does not take: only calls of this device (a decimal device id)'],
      [`${ok}&destinationPrefix=%2B370`, 'Query parameter "destinationPrefix" has a value it does not take: only calls to numbers starting with these digits'],
      [`${ok}&limit=0`, 'Query parameter "limit" has a value it does not take: page size, 1 to 1000 in decimal (no sign or leading zeros); without it the whole list comes in one answer'],
      [`${ok}&api_key=s3cr3t-k3y`, 'Unknown query parameter "api_key": this operation takes from, to, status, deviceId, destinationPrefix, limit, cursor'],
      [`${ok}&status=busy&status=failed`, 'Query parameter "status" is given more than once'],
      [`${ok}&from=${encodeURIComponent(TWO_DAYS.from)}`, 'Query parameter "from" is given more than once']
    ]
    const before = sim.calls.total
    for (const [query, detail] of cases) {
      const res = await getJson(callsUrl(gw, 2, query))
      expect(res.status, query).toBe(400)
      expect(res.type, query).toBe('application/problem+json; charset=utf-8')
      expect(res.body, query).toStrictEqual(invalid(detail))
    }
    expect(sim.calls.total).toBe(before)
    // A bad value is never echoed: a mistyped parameter may hold a credential.
    for (const query of [`${ok}&api_key=s3cr3t-k3y`, `${ok}&status=s3cr3t-k3y`, `${ok}&deviceId=s3cr3t-k3y`]) {
      expect(JSON.stringify((await getJson(callsUrl(gw, 2, query))).body), query).not.toContain('s3cr3t')
    }
  })

  it('answers 404 user-not-found for a user MOR does not have, after asking MOR', async () => {
    const res = await getJson(callsUrl(shared.gw, 9, period(TWO_DAYS.from, TWO_DAYS.to)))
    expect(res.status).toBe(404)
    expect(res.body).toStrictEqual(noUser(9))
    expect(reads(shared.sim, 'user_calls_get:9')).toBe(1)
  })

  // A cursor used with another period or other filters points into another list, which has not
  // "changed" at all: the device lists answer 400 for this too. Fails today: the catalogue binds a
  // cursor to the resource and the user only (catalogue/view.ts), so this is 409 stale-cursor.
  it('answers 400 for a cursor sent with another period or other filters than its page\'s', async () => {
    const { gw } = shared
    const query = period(TWO_DAYS.from, TWO_DAYS.to)
    const page = (await getJson(callsUrl(gw, 2, `${query}&limit=2`))).body as CallPage
    expect(page.nextCursor).toEqual(expect.any(String))
    for (const other of [`${query}&status=answered`, period(TWO_DAYS.from, '2026-11-05T00:00:00Z')]) {
      const res = await getJson(callsUrl(gw, 2, `${other}&limit=2&cursor=${page.nextCursor}`))
      expect(res.status, other).toBe(400)
      expect(res.body, other).toStrictEqual(invalid('Query parameter "cursor" is not a cursor this gateway issued for this list'))
    }
  })
})

describe('calls: cache lifetimes by period', () => {
  it('caches a period that ends now or later for the default TTL, and a settled one a day', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url, { ...UNSHED, CACHE_TTL_SECONDS: '45' })
    const now = Date.now()
    const current = await getJson(callsUrl(gw, 2, period(rfc3339(now - 86_400_000), rfc3339(now + 3_600_000))))
    expect(current.status).toBe(200)
    expect(current.headers.get('cache-control')).toBe('private, max-age=45')
    const endingNow = await getJson(callsUrl(gw, 2, period(rfc3339(now - 86_400_000), rfc3339(now))))
    expect(endingNow.headers.get('cache-control')).toBe('private, max-age=45')
    const settled = await getJson(callsUrl(gw, 2, period(TWO_DAYS.from, TWO_DAYS.to)))
    expect(settled.headers.get('cache-control')).toBe('private, max-age=86400')
  })

  it('caches a period that ended under an hour ago for the default TTL, then a day once fetched after the hour', async () => {
    const clock = fakeWallClock()
    const sim = await simulator()
    const gw = await gateway(sim.url, UNSHED)
    const end = Date.now() - 30 * 60_000
    const url = callsUrl(gw, 2, period(rfc3339(end - 86_400_000), rfc3339(end)))
    const recent = await getJson(url)
    expect(recent.headers.get('cache-control')).toBe('private, max-age=60')
    // Past its TTL (60 s) and its stale time (600 s), and over an hour after the period's end.
    clock.advance(31 * 60_000)
    const settled = await getJson(url)
    expect(settled.headers.get('cache-status')).toBe('mor-gateway; fwd=miss; stored')
    expect(settled.headers.get('cache-control')).toBe('private, max-age=86400')
    expect(settled.body).toStrictEqual(recent.body)
    clock.advance(23 * 3_600_000)
    const hit = await getJson(url)
    expect(hit.headers.get('cache-status')).toBe('mor-gateway; hit; ttl=3600')
    expect(reads(sim, 'user_calls_get:2')).toBe(2)
  })
})

describe('calls and payments: scopes and MOR\'s errors', () => {
  const keys = keyFile([`${KEY_ONE} name=portal users=2-3`])

  it('answers 403 for a user outside the key\'s scope, the same whether or not the user exists, without calling MOR', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url, { ...UNSHED, ...keys.env })
    const headers = bearer(KEY_ONE)
    const before = sim.calls.total
    for (const path of [`calls?${period(TWO_DAYS.from, TWO_DAYS.to)}`, 'payments']) {
      const existing = await getJson(`${gw.url}/v1/users/5/${path}`, headers)
      const missing = await getJson(`${gw.url}/v1/users/9/${path}`, headers)
      expect(existing.status, path).toBe(403)
      expect(existing.body, path).toStrictEqual(FORBIDDEN)
      expect(missing.status, path).toBe(403)
      expect(withoutInstance(missing.body)).toStrictEqual(withoutInstance(existing.body))
    }
    expect(sim.calls.total).toBe(before)
    expect((await getJson(callsUrl(gw, 2, period(TWO_DAYS.from, TWO_DAYS.to)), headers)).status).toBe(200)
    expect((await getJson(paymentsUrl(gw, 3), headers)).status).toBe(200)
  })

  it('answers 404 when MOR wraps its User was not found in <page> (errorShape page)', async () => {
    const sim = await simulator()
    sim.options.errorShape = 'page'
    const gw = await gateway(sim.url, UNSHED)
    const calls = await getJson(callsUrl(gw, 9, period(TWO_DAYS.from, TWO_DAYS.to)))
    expect(calls.status).toBe(404)
    expect(calls.body).toStrictEqual(noUser(9))
    const payments = await getJson(paymentsUrl(gw, 9))
    expect(payments.status).toBe(404)
    expect(payments.body).toStrictEqual(noUser(9))
    expect([reads(sim, 'user_calls_get:9'), reads(sim, 'payments_get:9')]).toStrictEqual([1, 1])
  })
})

/** A pass-through in front of the simulator that keeps the parameters of every call it carries. */
async function recordingProxy (sim: MorSimulator) {
  const sent: Array<{ method: string, params: Record<string, string> }> = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const url = new URL(req.url ?? '/', 'http://proxy')
      sent.push({ method: url.pathname.split('/').at(-1) ?? '', params: Object.fromEntries([...url.searchParams, ...new URLSearchParams(body.toString())]) })
      const upstream = httpRequest({ host: '127.0.0.1', port: sim.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
      upstream.on('error', () => res.destroy())
      upstream.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closeAfterTest(() => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/billing`, sent }
}

/** MOR's hash, computed here from MOR's documented order: sha1 of the values sent among `order`, then the secret. */
const morHash = (order: readonly string[], params: Record<string, string>) =>
  createHash('sha1').update(order.filter((name) => params[name] !== undefined).map((name) => params[name]).join('') + TEST_API_SECRET).digest('hex')
const CALLS_ORDER = ['period_start', 'period_end', 's_user', 's_call_type', 's_device', 's_provider', 's_hgc', 's_did', 's_destination', 'order_by', 'order_desc', 'only_did']
const PAYMENTS_ORDER = ['s_user_id', 's_from', 's_till', 's_transaction', 's_completed', 's_username', 's_first_name', 's_last_name', 's_paymenttype', 's_amount_max', 's_currency']

describe('the signature MOR checks', () => {
  it('is refused by a MOR with another secret: 502 upstream-rejected, "Incorrect hash"', async () => {
    const sim = await simulator()
    const gw = await gateway(sim.url, { ...UNSHED, MOR_API_SECRET: 'not-the-secret' })
    const calls = await getJson(callsUrl(gw, 2, period(TWO_DAYS.from, TWO_DAYS.to)))
    expect(calls.status).toBe(502)
    expect(calls.body).toStrictEqual(INCORRECT_HASH)
    const payments = await getJson(paymentsUrl(gw, 2))
    expect(payments.status).toBe(502)
    expect(payments.body).toStrictEqual(INCORRECT_HASH)
  })

  it('sends MOR the period in Unix seconds, the filters in MOR\'s words, and their hash in MOR\'s order, which MOR accepts', async () => {
    const sim = await simulator()
    const proxy = await recordingProxy(sim)
    const gw = await gateway(proxy.url, UNSHED)
    const from = '2026-11-02T02:00:00+02:00'
    const to = '2026-11-03T00:00:00Z'
    const plain = await getJson(callsUrl(gw, 5, period(from, to)))
    const filtered = await getJson(callsUrl(gw, 5, `${period(from, to)}&status=no-answer&deviceId=82&destinationPrefix=4420`))
    const payments = await getJson(paymentsUrl(gw, 3))
    expect([plain.status, filtered.status, payments.status]).toStrictEqual([200, 200, 200])
    expect((filtered.body as CallPage).calls.map((call) => call.status)).toStrictEqual(['no-answer'])
    const base = { u: 'admin', period_start: '1793577600', period_end: '1793664000', s_user: '5' }
    const [first, second, third] = proxy.sent
    expect(proxy.sent).toHaveLength(3)
    expect(first).toStrictEqual({ method: 'user_calls_get', params: { ...base, s_call_type: 'all', s_device: 'all', hash: morHash(CALLS_ORDER, { ...base, s_call_type: 'all', s_device: 'all' }) } })
    const filters = { s_call_type: 'no answer', s_device: '82', s_destination: '4420' }
    expect(second).toStrictEqual({ method: 'user_calls_get', params: { ...base, ...filters, hash: morHash(CALLS_ORDER, { ...base, ...filters }) } })
    expect(third).toStrictEqual({ method: 'payments_get', params: { u: 'admin', s_user_id: '3', hash: morHash(PAYMENTS_ORDER, { s_user_id: '3' }) } })
    expect(second?.params.hash).toBe(createHash('sha1').update(`179357760017936640005no answer824420${TEST_API_SECRET}`).digest('hex'))
  })
})

const ALICE = profileOf(userOf(2))
const BOB = profileOf(userOf(3))
const eur = (amount: string): Money => ({ amount, currency: ALICE.currency })
const usd = (amount: string): Money => ({ amount, currency: BOB.currency })

/** Alice's payments as MOR sends them: amounts to four places, kept as text. */
const ALICE_PAYMENTS = {
  payments: [
    { date: '2026-01-02T09:15:00Z', confirmedAt: '2026-01-02T09:16:00Z', type: 'manual', amount: eur('10.0000'), fee: eur('0.6000'), amountWithTax: eur('12.1000'), completed: true, confirmedByAdmin: true, transactionId: 'TX2-0', payer: 'alice@example.com' },
    { date: '2026-02-03T09:15:00Z', confirmedAt: null, type: 'paypal', amount: eur('20.0000'), fee: eur('0.0000'), amountWithTax: eur('24.2000'), completed: false, confirmedByAdmin: false, transactionId: 'TX2-1', payer: 'alice@example.com' },
    { date: '2026-03-04T09:15:00Z', confirmedAt: '2026-03-04T09:16:00Z', type: 'webmoney', amount: eur('30.0000'), fee: eur('0.0000'), amountWithTax: eur('36.3000'), completed: true, confirmedByAdmin: true, transactionId: 'TX2-2', payer: 'alice@example.com' },
    { date: '2026-04-05T09:15:00Z', confirmedAt: null, type: 'manual', amount: eur('40.0000'), fee: eur('0.0000'), amountWithTax: eur('48.4000'), completed: false, confirmedByAdmin: false, transactionId: 'TX2-3', payer: 'alice@example.com' }
  ],
  nextCursor: null
}

const BOB_PAYMENTS = {
  payments: [
    { date: '2026-01-02T09:15:00Z', confirmedAt: '2026-01-02T09:16:00Z', type: 'manual', amount: usd('10.0000'), fee: usd('0.6000'), amountWithTax: usd('12.1000'), completed: true, confirmedByAdmin: true, transactionId: 'TX3-0', payer: 'bob@example.com' },
    { date: '2026-02-03T09:15:00Z', confirmedAt: null, type: 'paypal', amount: usd('20.0000'), fee: usd('0.0000'), amountWithTax: usd('24.2000'), completed: false, confirmedByAdmin: false, transactionId: 'TX3-1', payer: 'bob@example.com' }
  ],
  nextCursor: null
}

describe('GET /v1/users/:userId/payments', () => {
  const shared = sharedGateway(UNSHED)

  it('answers alice\'s payments exactly, each amount the decimal text MOR sent with its currency', async () => {
    expect([ALICE.currency, ALICE.email]).toStrictEqual(['EUR', 'alice@example.com'])
    const res = await getJson(paymentsUrl(shared.gw, 2))
    expect(res.status).toBe(200)
    expect(res.type).toBe('application/json; charset=utf-8')
    expect(res.body).toStrictEqual(ALICE_PAYMENTS)
    expect(res.headers.get('cache-control')).toBe('private, max-age=60')
  })

  it('answers bob\'s payments exactly, in his currency', async () => {
    expect([BOB.currency, BOB.email]).toStrictEqual(['USD', 'bob@example.com'])
    const res = await getJson(paymentsUrl(shared.gw, 3))
    expect(res.status).toBe(200)
    expect(res.body).toStrictEqual(BOB_PAYMENTS)
  })

  it('pages alice\'s payments one by one by their Link headers, from one MOR call', async () => {
    const { sim } = shared
    const gw = await gateway(sim.url, UNSHED)
    const before = reads(sim, 'payments_get:2')
    const pages = await followLinks<PaymentPage>(gw, '/v1/users/2/payments?limit=1')
    expect(pages.map((page) => page.payments)).toStrictEqual(ALICE_PAYMENTS.payments.map((payment) => [payment]))
    expect(reads(sim, 'payments_get:2')).toBe(before + 1)
  })

  it('answers 404 for a user MOR does not have and 400 naming an unknown or repeated parameter', async () => {
    const { gw } = shared
    expect((await getJson(paymentsUrl(gw, 9))).body).toStrictEqual(noUser(9))
    const cases: Array<[string, string]> = [
      ['from=2026-01-01T00:00:00Z', 'Unknown query parameter "from": this operation takes limit, cursor'],
      ['limit=1&limit=2', 'Query parameter "limit" is given more than once'],
      ['limit=01', 'Query parameter "limit" has a value it does not take: page size, 1 to 1000 in decimal (no sign or leading zeros); without it the whole list comes in one answer']
    ]
    for (const [query, detail] of cases) {
      const res = await getJson(paymentsUrl(gw, 2, query))
      expect(res.status, query).toBe(400)
      expect(res.body, query).toStrictEqual(invalid(detail))
    }
  })

  // The bound is the test's own timeout: 1,000 requests that each waited for their own MOR call
  // (200 ms, one after another on the budget of connections) would not finish in it.
  it('makes exactly one MOR call for 1,000 concurrent cold requests for one user\'s payments', async () => {
    const sim = await simulator()
    sim.options.delayMs = 200
    const gw = await gateway(sim.url, UNSHED)
    const responses = await Promise.all(Array.from({ length: 1000 }, () => getJson(paymentsUrl(gw, 2))))
    expect(reads(sim, 'payments_get:2')).toBe(1)
    expect(sim.calls.total).toBe(1)
    for (const res of responses) {
      expect(res.status).toBe(200)
      expect(res.body).toStrictEqual(ALICE_PAYMENTS)
    }
    const statuses = responses.map((res) => res.headers.get('cache-status'))
    expect(statuses.filter((status) => status === 'mor-gateway; fwd=miss; stored')).toHaveLength(1)
  }, 15_000)
})
