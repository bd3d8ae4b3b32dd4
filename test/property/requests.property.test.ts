// Property-based tests over real sockets: random request paths, user ids and headers against one
// gateway whose MOR is an echo upstream, so every call that leaves the gateway is counted and
// shows the URL it arrived with. The echo is not MOR: a devices call that reaches it comes back
// as a 502 upstream-bad-response, which is how these tests tell that MOR was asked.
import fc from 'fast-check'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { refusePath } from '../../src/legacy/confine.js'
import { ProblemSchema } from '../../src/schemas/problem.js'
import { USER_ID_PATTERN } from '../../src/schemas/device.js'
import { AUTH, getJson, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startEchoUpstream, type Echo } from '../helpers/echo-upstream.js'
import { rawRequest, type RawResponse } from '../helpers/raw-http.js'
import { INSTANCE } from '../helpers/expected.js'

const API_PREFIX = '/billing/api'
const INVALID_USER_ID = {
  type: '/problems/invalid-request',
  title: 'Invalid request',
  status: 400,
  detail: 'userId must be a decimal integer from 0 to 2147483647, without sign or leading zeros',
  instance: INSTANCE
}
const UPSTREAM_BAD_RESPONSE = '/problems/upstream-bad-response'

const ajv = new Ajv2020({ strict: false, allErrors: true })
const validProblem = ajv.compile(ProblemSchema)

let echo: Awaited<ReturnType<typeof startEchoUpstream>>
let gw: TestGateway
let port: number

beforeAll(async () => {
  echo = await startEchoUpstream()
  // The machine may be busy with other work: an "overloaded" 503 is not what these tests are about.
  gw = await startGateway(echo.url, { MAX_EVENT_LOOP_DELAY_MS: '60000' })
  port = Number(new URL(gw.url).port)
})
afterAll(async () => {
  await gw.close()
  await echo.close()
})

/** An RFC 9457 problem whose status is the answer's own. */
function expectProblem (res: { status: number, type: string | null }, body: unknown): { type: string } {
  expect(res.type).toMatch(/^application\/problem\+json(;|$)/)
  if (!validProblem(body)) throw new Error(`not a problem: ${ajv.errorsText(validProblem.errors)} in ${JSON.stringify(body)}`)
  expect((body as { status: number }).status).toBe(res.status)
  return body as { type: string }
}

function headerOf (res: RawResponse, name: string): string | null {
  return new RegExp(`\\r\\n${name}: ([^\\r]*)`, 'i').exec(res.head)?.[1] ?? null
}

/**
 * Node's HTTP parser refuses some request lines before the app sees them; Fastify then answers a
 * bare 400 (or 431) and closes. The app itself always sets X-Request-Id, even on framework errors.
 * Such a refusal must be a 400 or 431 that reached no upstream; true when the request was one.
 */
function refusedByParser (res: RawResponse, calls: number): boolean {
  if (headerOf(res, 'x-request-id') !== null) return false
  expect([400, 431]).toContain(res.status)
  expect(calls).toBe(0)
  return true
}

async function rawGet (target: string): Promise<{ res: RawResponse, calls: number }> {
  const before = echo.requests
  const res = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: gw\r\nAuthorization: ${AUTH.authorization}\r\n\r\n`)
  return { res, calls: echo.requests - before }
}

// ---------------------------------------------------------------- paths

const PATH_TOKENS = ['/', '/', '.', '..', '/..', '/../', '/./', '%', '\\', '..\\', ';', '?', '#', ':', '@', '=', '&', '+', '~', '_', '-',
  '%2e', '%2E', '%2e%2e', '%2f', '%2F', '%25', '%252e', '%5c', '%5C', '%00', '%zz', '%c0%ae', '%C3%A9', '%u002e', '%20',
  'é', '中', '😀', 'Ω', '!', '$', "'", '(', ')', '*', ',', '[', ']', '{', '}', '|', '^', '`', '"', '<', '>',
  'devices_get', 'device_list', 'api', 'billing', 'devices', 'users', 'v1', '2', '0', '007', 'X', 'a1']
const WORD = /^[A-Za-z0-9]$/
/** No space or control character: those would end or break the request line itself. */
const VISIBLE_ASCII = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c))
const pathTail = fc.array(fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PATH_TOKENS) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...'abcXYZ019_-~.'), minLength: 1, maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: VISIBLE_ASCII, minLength: 1, maxLength: 3 }).filter((s) => WORD.test(s[0] ?? '')) }
), { maxLength: 12 }).map((tokens) => tokens.join(''))

describe('random request paths', () => {
  it('under /billing/api/, reach MOR only when refusePath lets them, unchanged and inside the API path', async () => {
    const segment = fc.string({ unit: fc.constantFrom(...'aZ09_-~.'), minLength: 1, maxLength: 5 })
    // Mostly-clean method paths, so that the forwarding side is exercised as often as the refusing one.
    const cleanish = fc.tuple(fc.array(segment, { minLength: 1, maxLength: 3 }), fc.constantFrom('', '?', '?u=admin&'), pathTail)
      .map(([segments, query, tail]) => `${API_PREFIX}/${segments.join('/')}${query}${query === '' ? '' : tail}`)
    const target = fc.oneof(
      fc.tuple(fc.constantFrom(`${API_PREFIX}/`, `${API_PREFIX}/`, API_PREFIX, '/billing/', '/billing/api/devices_get'), pathTail).map(([prefix, tail]) => prefix + tail),
      cleanish
    )
    await fc.assert(fc.asyncProperty(target, async (path) => {
      const { res, calls } = await rawGet(path)
      if (refusedByParser(res, calls)) return
      const pathOnly = path.split('?')[0] ?? ''
      const forwarded = refusePath(pathOnly, API_PREFIX) === undefined
      expect(res.status).toBeLessThan(500)
      expect(calls).toBe(forwarded ? 1 : 0)
      if (forwarded) {
        expect(res.status).toBe(200)
        const seen = JSON.parse(res.body) as Echo
        const seenPath = seen.url.split('?')[0] ?? ''
        expect(seen.url).toBe(path)
        expect(seenPath.startsWith(`${API_PREFIX}/`)).toBe(true)
        expect(seenPath.split('/').filter((s) => s === '..' || s === '.' || s === '')).toStrictEqual([''])
        expect(seenPath).not.toMatch(/%|\\/)
      } else {
        expect([400, 404]).toContain(res.status)
        expectProblem({ status: res.status, type: headerOf(res, 'content-type') }, JSON.parse(res.body))
      }
    }), { numRuns: 2000 })
  })

  it('under /v1/users/, never answer a 5xx of their own: MOR is asked only through the devices route', async () => {
    const target = fc.tuple(
      fc.constantFrom('/v1/users/', '/v1/users/', '/v1/users/2', '/v1/users'),
      pathTail,
      fc.constantFrom('', '/devices', '/devices/', '/devices?x=1', '/devices#f')
    ).map(([prefix, tail, suffix]) => prefix + tail + suffix)
    await fc.assert(fc.asyncProperty(target, async (path) => {
      const { res, calls } = await rawGet(path)
      if (refusedByParser(res, calls)) return
      const body = res.body === '' ? undefined : JSON.parse(res.body) as unknown
      if (res.status >= 400) {
        const problem = expectProblem({ status: res.status, type: headerOf(res, 'content-type') }, body)
        // The echo is not MOR: a devices call that reached it cannot be translated.
        if (res.status >= 500) expect(problem.type).toBe(UPSTREAM_BAD_RESPONSE)
      }
      expect(calls).toBe(res.status === 502 ? 1 : 0)
      if (res.status !== 502) expect(res.status).toBeLessThan(500)
    }), { numRuns: 1000 })
  })
})

// ---------------------------------------------------------------- user ids

const USER_ID = new RegExp(USER_ID_PATTERN)
const userIdArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 2147483647 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('0', '2147483647', '2147483648', '2147483650', '9999999999', '4294967296', '21474836470') },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('0', '00', '-', '+', ' ', '0x', '\t', '٠', '.'), fc.nat().map(String)).map(([a, b]) => a + b) },
  { weight: 2, arbitrary: fc.tuple(fc.nat().map(String), fc.constantFrom('.0', 'e3', ' ', '%', 'n', '/', '?', '#', '٣', '\u0000')).map(([a, b]) => a + b) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 14 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 300, maxLength: 400 }) }
// "." and ".." are dot segments: the URL parser removes them before anything is sent.
).filter((id) => id !== '.' && id !== '..' && !/\p{Surrogate}/u.test(id))

describe('random user ids', () => {
  it('are a 400 invalid-request without calling MOR unless they are decimal 0..2147483647, which MOR is asked about', async () => {
    await fc.assert(fc.asyncProperty(userIdArb, async (id) => {
      const before = echo.requests
      const res = await getJson(`${gw.url}/v1/users/${encodeURIComponent(id)}/devices`)
      if (USER_ID.test(id)) {
        expect(res.status).toBe(502)
        expect(expectProblem(res, res.body).type).toBe(UPSTREAM_BAD_RESPONSE)
        expect(echo.requests).toBe(before + 1)
      } else {
        expect(res.status).toBe(400)
        expect(res.type).toBe('application/problem+json; charset=utf-8')
        expect(res.body).toStrictEqual(INVALID_USER_ID)
        expect(echo.requests).toBe(before)
      }
    }), { numRuns: 800 })
  })
})

// ---------------------------------------------------------------- headers

/** Headers that frame the message or belong to the connection: Node or the client library owns them. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'host', 'connection', 'upgrade', 'expect', 'te', 'trailer', 'keep-alive', 'proxy-connection'])
const SPECIAL = ['authorization', 'if-none-match', 'cache-control', 'pragma', 'accept-encoding', 'x-request-id', 'x-forwarded-for',
  'x-forwarded-host', 'x-forwarded-proto', 'forwarded', 'origin', 'cookie', 'content-type', 'content-encoding', 'accept', 'range', 'set-cookie', 'proxy-authorization', 'proxy-authenticate']
const tokenName = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,40}$/).filter((n) => !FRAMING.has(n.toLowerCase()))
const headerName = fc.oneof({ weight: 3, arbitrary: tokenName }, { weight: 1, arbitrary: fc.constantFrom(...SPECIAL) })

/** A header value as bytes on the wire, written as a latin1 string (unicode goes as its UTF-8 bytes). */
const valueChunk = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: VISIBLE_ASCII, maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom(' ', '\t', ', ', '; ', 'no-cache', 'gzip, br', '"etag"', 'W/"x"', '*', 'Bearer ') },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }).map((s) => Buffer.from(s, 'utf8').toString('latin1')) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)) }
)
const headerValue = fc.oneof(
  { weight: 5, arbitrary: fc.array(valueChunk, { maxLength: 6 }).map((cs) => cs.join('')) },
  { weight: 1, arbitrary: fc.tuple(valueChunk, fc.integer({ min: 100, max: 2000 })).map(([c, n]) => (c || 'x').repeat(n).slice(0, 2000)) }
)
const headersArb = fc.uniqueArray(fc.tuple(headerName, headerValue), { maxLength: 6, selector: ([name]) => name.toLowerCase() })

const OWS = /^[ \t]+|[ \t]+$/g

describe('random request headers', () => {
  it('on the devices route, never cause a 5xx but the upstream-bad-response of the echo upstream', async () => {
    await fc.assert(fc.asyncProperty(headersArb, async (headers) => {
      const res = await getJson(`${gw.url}/v1/users/2/devices`, Object.fromEntries(headers))
      if (res.status >= 400) {
        const problem = expectProblem(res, res.body)
        if (res.status >= 500) expect([res.status, problem.type]).toStrictEqual([502, UPSTREAM_BAD_RESPONSE])
      }
      const auth = headers.find(([name]) => name.toLowerCase() === 'authorization')
      if (auth === undefined) expect(res.status).toBe(502)
    }), { numRuns: 500 })
  })

  it('on the legacy passthrough, never stop the call, and reach MOR unchanged', async () => {
    await fc.assert(fc.asyncProperty(headersArb, async (headers) => {
      const before = echo.requests
      const res = await request(`${gw.url}${API_PREFIX}/devices_get?u=admin`, { headers: Object.fromEntries(headers) })
      const text = await res.body.text()
      // The passthrough has no opinion on end-to-end headers: whatever they hold, the call goes through.
      expect([res.statusCode, text.slice(0, 200)]).toStrictEqual([200, expect.any(String)])
      expect(echo.requests).toBe(before + 1)
      const seen = JSON.parse(text) as Echo
      expect(seen.url).toBe(`${API_PREFIX}/devices_get?u=admin`)
      for (const [name, value] of headers) {
        // Node's req.headers is a plain object: a "__proto__" header never reaches it, here or in the echo.
        if (SPECIAL.includes(name.toLowerCase()) || name.toLowerCase() === '__proto__') continue
        expect([name, seen.headers[name.toLowerCase()]]).toStrictEqual([name, value.replace(OWS, '')])
      }
    }), { numRuns: 500 })
  })
})
