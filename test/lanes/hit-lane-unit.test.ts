// The hit lane as a function, on hand-made requests: which requests it may take at all, and what
// happens when one of its steps throws or rejects (the route answers; nothing crashes).
import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, expect, it, vi } from 'vitest'
import { createHitLane, laneRequest, takenDecision, type HitLaneDeps } from '../../src/lanes/hit-lane.js'
import { createRequestLimiter, type RequestLimiter } from '../../src/rate-limit/request-limiter.js'
import { newEntry, ownBytes, type CacheEntry } from '../../src/cache/entry.js'
import { createLaneLookup } from '../../src/lanes/lookup.js'
import type { Caller } from '../../src/auth/caller.js'
import { EVERY_USER, parseUsers } from '../../src/auth/scope.js'

const request = (url: string, headers: Record<string, string> = {}, method = 'GET') =>
  ({ method, url, headers: { authorization: 'Bearer k', ...headers }, socket: {} }) as unknown as IncomingMessage

function response () {
  const written: { status?: number, headers?: string[], body?: Buffer } = {}
  const res = {
    headersSent: false,
    writeHead (status: number, headers: string[]) { written.status = status; written.headers = headers; this.headersSent = true; return this },
    end (body: Buffer) { written.body = body },
    destroy: vi.fn()
  }
  return { res: res as unknown as ServerResponse, written, destroy: res.destroy }
}

const KEY_CALLER: Caller = { rateKey: 'key:key-1', label: 'key-1', scope: EVERY_USER, rate: undefined }

const entry = newEntry(200, ownBytes('{"userId":3,"devices":[]}'), Date.now(), { ttlSeconds: 60, staleSeconds: 0, negativeTtlSeconds: 5 })

/** The lane's lookup over a local limiter and an in-process tier holding `cached`. */
const lookupOf = (limiter: RequestLimiter, cached: CacheEntry | undefined) =>
  createLaneLookup(limiter, { peek: () => cached })

function deps (overrides: Partial<HitLaneDeps> = {}): HitLaneDeps {
  return {
    identify: (header) => (header === 'Bearer k' ? KEY_CALLER : undefined),
    lookup: lookupOf(createRequestLimiter(100), entry),
    open: () => true,
    requestId: () => 'rid',
    vary: 'Accept-Encoding',
    extraHeaders: [],
    served: () => {},
    failed: () => {},
    ...overrides
  }
}

describe('laneRequest', () => {
  const laneUserId = (req: IncomingMessage) => laneRequest(req)?.userId
  it('takes plain GETs of a canonical user id only, with their query string', () => {
    expect(laneUserId(request('/v1/users/0/devices'))).toBe(0)
    expect(laneUserId(request('/v1/users/2147483647/devices'))).toBe(2147483647)
    expect(laneRequest(request('/v1/users/3/devices?limit=5&type=SIP'))).toStrictEqual({ userId: 3, path: '/v1/users/3/devices', search: 'limit=5&type=SIP' })
    for (const url of ['/v1/users/2147483648/devices', '/v1/users/03/devices', '/v1/users/-1/devices', '/v1/users/3/devices/', '/v1/users/3/devices#', '/V1/users/3/devices', '/v1/users/%33/devices']) {
      expect(laneUserId(request(url)), url).toBeUndefined()
    }
    expect(laneUserId(request('/v1/users/3/devices', {}, 'HEAD'))).toBeUndefined()
    for (const header of ['if-none-match', 'cache-control', 'pragma', 'origin']) {
      expect(laneUserId(request('/v1/users/3/devices', { [header]: 'x' })), header).toBeUndefined()
    }
  })
})

describe('createHitLane', () => {
  it('writes a hit itself and tells who served it', () => {
    const served = vi.fn()
    const next = vi.fn()
    const { res, written } = response()
    createHitLane(deps({ served }))(request('/v1/users/3/devices'), res, next)
    expect(next).not.toHaveBeenCalled()
    expect(written.status).toBe(200)
    expect(written.body?.toString()).toBe('{"userId":3,"devices":[]}')
    expect(written.headers?.slice(0, 8)).toStrictEqual(['x-request-id', 'rid', 'ratelimit-limit', '100', 'ratelimit-remaining', '99', 'ratelimit-reset', '60'])
    expect(served).toHaveBeenCalledOnce()
  })

  it('hands a bad query or cursor to the route, with the request counted once', () => {
    for (const url of ['/v1/users/3/devices?x=1', '/v1/users/3/devices?limit=0', '/v1/users/3/devices?limit=1&limit=1']) {
      const next = vi.fn()
      const { res, written } = response()
      const req = request(url)
      createHitLane(deps())(req, res, next)
      expect(next, url).toHaveBeenCalledOnce()
      expect(written.status, url).toBeUndefined()
      expect(takenDecision(req)?.allowed, url).toBe(true)
    }
  })

  it('hands over an unknown caller without counting, and a counted miss with its decision', () => {
    const limiter = createRequestLimiter(100)
    const next = vi.fn()
    const stranger = request('/v1/users/3/devices', { authorization: 'Bearer nope' })
    createHitLane(deps({ lookup: lookupOf(limiter, entry) }))(stranger, response().res, next)
    expect(takenDecision(stranger)).toBeUndefined()
    const missing = request('/v1/users/3/devices')
    createHitLane(deps({ lookup: lookupOf(limiter, undefined) }))(missing, response().res, next)
    expect(next).toHaveBeenCalledTimes(2)
    expect(takenDecision(missing)).toMatchObject({ allowed: true, remaining: 99 })
  })

  it('hands a user outside the caller\'s scope to the route without counting or looking up', () => {
    const scoped: Caller = { rateKey: 'key:team', label: 'team', scope: parseUsers('1-2') as Caller['scope'], rate: undefined }
    const lookup = vi.fn(lookupOf(createRequestLimiter(100), entry))
    const next = vi.fn()
    const outside = request('/v1/users/3/devices')
    createHitLane(deps({ identify: () => scoped, lookup }))(outside, response().res, next)
    expect(next).toHaveBeenCalledOnce()
    expect(lookup).not.toHaveBeenCalled()
    expect(takenDecision(outside)).toBeUndefined()
    const { res, written } = response()
    createHitLane(deps({ identify: () => scoped, lookup }))(request('/v1/users/2/devices'), res, next)
    expect(written.status).toBe(200)
  })

  it('counts against the caller\'s own rate', () => {
    const limited: Caller = { rateKey: 'key:slow', label: 'slow', scope: EVERY_USER, rate: 7 }
    const { res, written } = response()
    createHitLane(deps({ identify: () => limited }))(request('/v1/users/3/devices'), res, vi.fn())
    expect(written.headers?.slice(2, 6)).toStrictEqual(['ratelimit-limit', '7', 'ratelimit-remaining', '6'])
  })

  it('hands over a token still being verified', () => {
    const next = vi.fn()
    const lookup = vi.fn(lookupOf(createRequestLimiter(100), entry))
    createHitLane(deps({ identify: async () => KEY_CALLER, lookup }))(request('/v1/users/3/devices'), response().res, next)
    expect(next).toHaveBeenCalledOnce()
    expect(lookup).not.toHaveBeenCalled()
  })

  it('hands a request to the route when a step throws, and logs it', () => {
    const failed = vi.fn()
    const next = vi.fn()
    createHitLane(deps({ failed, lookup: () => { throw new Error('boom') } }))(request('/v1/users/3/devices'), response().res, next)
    expect(failed).toHaveBeenCalledWith(expect.objectContaining({ message: 'boom' }))
    expect(next).toHaveBeenCalledOnce()
  })

  it('hands a request to the route when an asynchronous step rejects', async () => {
    const failed = vi.fn()
    const next = vi.fn()
    createHitLane(deps({ failed, lookup: async () => { throw new Error('redis said no') } }))(request('/v1/users/3/devices'), response().res, next)
    await vi.waitFor(() => expect(next).toHaveBeenCalledOnce())
    expect(failed).toHaveBeenCalledOnce()
  })

  it('closes the connection when a step fails after the answer started', () => {
    const { res, destroy } = response()
    const next = vi.fn()
    createHitLane(deps({ served: () => { throw new Error('late') } }))(request('/v1/users/3/devices'), res, next)
    expect(destroy).toHaveBeenCalledOnce()
    expect(next).not.toHaveBeenCalled()
  })

  it('stands aside while closed', () => {
    const next = vi.fn()
    const { res, written } = response()
    createHitLane(deps({ open: () => false }))(request('/v1/users/3/devices'), res, next)
    expect(next).toHaveBeenCalledOnce()
    expect(written.status).toBeUndefined()
  })
})
