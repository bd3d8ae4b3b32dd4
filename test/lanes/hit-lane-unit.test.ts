// The hit lane as a function, on hand-made requests: which requests it may take at all, what it
// leaves in the request's record when it hands one over, and what happens when one of its steps
// throws or rejects (the route answers; nothing crashes).
import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, expect, it, vi } from 'vitest'
import { createHitLane, type HitLaneDeps } from '../../src/lanes/hit-lane.js'
import { createRequestLimiter } from '../../src/rate-limit/request-limiter.js'
import { newEntry, ownBytes, type CacheEntry } from '../../src/cache/entry.js'
import { catalogueLaneResources } from '../../src/lanes/catalogue.js'
import { DEVICE_ROUTE, DEVICES_ROUTE, pathMatcher } from '../../src/devices/contract.js'
import type { CacheRef } from '../../src/cache/devices-cache.js'
import { handedOver } from '../../src/http/handover.js'
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

const KEY_CALLER: Caller = { rateKey: 'key:key-1', label: 'key-1', scope: EVERY_USER, rate: undefined, write: false }
const LIFE = { ttlSeconds: 60, staleSeconds: 0, negativeTtlSeconds: 5 }
const entry = newEntry(200, ownBytes('{"userId":3,"devices":[]}'), Date.now(), LIFE)
const device = newEntry(200, ownBytes('{"id":7,"userId":3}'), Date.now(), LIFE, { owner: 3 })

const devicesPathId = pathMatcher(DEVICES_ROUTE)
const devicePathId = pathMatcher(DEVICE_ROUTE)

/** The lane's resources over a cache holding `list` as every device list and `details` as every device. */
const resourcesOf = (list: CacheEntry | undefined, details: CacheEntry | undefined = device) =>
  catalogueLaneResources({ peekKeyed: (ref: CacheRef) => ('subject' in ref ? ('userId' in ref.subject ? list : details) : undefined) })

const rate = (decision = createRequestLimiter(100)) => (caller: Caller) => decision.take(caller.rateKey, caller.rate)

function deps (overrides: Partial<HitLaneDeps> = {}): HitLaneDeps {
  return {
    resources: resourcesOf(entry),
    identify: (header) => (header === 'Bearer k' ? KEY_CALLER : undefined),
    take: rate(),
    open: () => true,
    vary: 'Accept-Encoding',
    extraHeaders: [],
    served: () => {},
    failed: () => {},
    ...overrides
  }
}

describe('the paths the lane may take', () => {
  it('are the routes\' own: canonical ids only', () => {
    expect(devicesPathId('/v1/users/0/devices')).toBe(0)
    expect(devicesPathId('/v1/users/2147483647/devices')).toBe(2147483647)
    expect(devicePathId('/v1/devices/5')).toBe(5)
    for (const path of ['/v1/users/2147483648/devices', '/v1/users/03/devices', '/v1/users/-1/devices', '/v1/users/3/devices/', '/v1/users/3/devices#', '/V1/users/3/devices', '/v1/users/%33/devices']) {
      expect(devicesPathId(path), path).toBeUndefined()
    }
    for (const path of ['/v1/devices/05', '/v1/devices/', '/v1/devices/5/', '/v1/devices/2147483648']) expect(devicePathId(path), path).toBeUndefined()
  })

  it('leave other methods, revalidation and cross-origin requests to the route, uncounted', () => {
    const cases: Array<[string, Record<string, string>, string]> = [
      ['/v1/users/3/devices', {}, 'HEAD'],
      ['/v1/users/3/devices', { 'cache-control': 'no-cache' }, 'GET'],
      ['/v1/users/3/devices', { pragma: 'no-cache' }, 'GET'],
      ['/v1/users/3/devices', { origin: 'https://app.example' }, 'GET'],
      ['/v1/users/3/devices/', {}, 'GET']
    ]
    for (const [url, headers, method] of cases) {
      const next = vi.fn()
      const { res, written } = response()
      const req = request(url, headers, method)
      createHitLane(deps())(req, res, next)
      expect(next, JSON.stringify(headers)).toHaveBeenCalledOnce()
      expect(written.status).toBeUndefined()
      expect(handedOver(req)?.rate).toBeUndefined()
    }
  })
})

describe('createHitLane', () => {
  it('writes a hit itself and tells who served it', () => {
    const served = vi.fn()
    const next = vi.fn()
    const { res, written } = response()
    createHitLane(deps({ served }))(request('/v1/users/3/devices', { 'x-request-id': 'rid-1' }), res, next)
    expect(next).not.toHaveBeenCalled()
    expect(written.status).toBe(200)
    expect(written.body?.toString()).toBe('{"userId":3,"devices":[]}')
    expect(written.headers?.slice(0, 8)).toStrictEqual(['x-request-id', 'rid-1', 'ratelimit-limit', '100', 'ratelimit-remaining', '99', 'ratelimit-reset', '60'])
    expect(served).toHaveBeenCalledOnce()
    expect(served.mock.calls[0]?.[2]).toBe('/v1/users/:userId/devices')
  })

  it('writes a device\'s details for a caller who may read its owner, and hands over the rest', () => {
    const served = vi.fn()
    const { res, written } = response()
    createHitLane(deps({ served }))(request('/v1/devices/7'), res, vi.fn())
    expect(written.body?.toString()).toBe('{"id":7,"userId":3}')
    expect(served.mock.calls[0]?.[2]).toBe('/v1/devices/:deviceId')
    const stranger: Caller = { rateKey: 'key:team', label: 'team', scope: parseUsers('1-2') as Caller['scope'], rate: undefined, write: false }
    for (const [url, caller] of [['/v1/devices/7', stranger], ['/v1/devices/7?x=1', KEY_CALLER]] as const) {
      const next = vi.fn()
      const req = request(url)
      const other = response()
      createHitLane(deps({ identify: () => caller }))(req, other.res, next)
      expect(next, url).toHaveBeenCalledOnce()
      expect(other.written.status).toBeUndefined()
      expect(handedOver(req)?.rate?.allowed).toBe(true)
    }
  })

  it('hands a bad query or cursor to the route, with the request counted once', () => {
    for (const url of ['/v1/users/3/devices?x=1', '/v1/users/3/devices?limit=0', '/v1/users/3/devices?limit=1&limit=1']) {
      const next = vi.fn()
      const { res, written } = response()
      const req = request(url)
      createHitLane(deps())(req, res, next)
      expect(next, url).toHaveBeenCalledOnce()
      expect(written.status, url).toBeUndefined()
      expect(handedOver(req)?.rate?.allowed, url).toBe(true)
    }
  })

  it('hands over a 304 and a body to compress, for the route to answer', () => {
    const big = newEntry(200, ownBytes(`{"userId":3,"devices":[${'"x",'.repeat(400)}"x"]}`), Date.now(), LIFE)
    const cases: Array<[CacheEntry, Record<string, string>]> = [[entry, { 'if-none-match': entry.etag }], [big, { 'accept-encoding': 'gzip' }]]
    for (const [cached, headers] of cases) {
      const next = vi.fn()
      const req = request('/v1/users/3/devices', headers)
      createHitLane(deps({ resources: resourcesOf(cached) }))(req, response().res, next)
      expect(next).toHaveBeenCalledOnce()
      expect(handedOver(req)?.rate?.allowed).toBe(true)
    }
  })

  it('hands over an unknown caller without counting, and a counted miss with its decision', () => {
    const limiter = createRequestLimiter(100)
    const next = vi.fn()
    const stranger = request('/v1/users/3/devices', { authorization: 'Bearer nope' })
    createHitLane(deps({ take: rate(limiter) }))(stranger, response().res, next)
    expect(handedOver(stranger)?.rate).toBeUndefined()
    const missing = request('/v1/users/3/devices')
    createHitLane(deps({ take: rate(limiter), resources: resourcesOf(undefined) }))(missing, response().res, next)
    expect(next).toHaveBeenCalledTimes(2)
    expect(handedOver(missing)?.rate).toMatchObject({ allowed: true, remaining: 99 })
  })

  it('hands a user outside the caller\'s scope to the route without counting or looking up', () => {
    const scoped: Caller = { rateKey: 'key:team', label: 'team', scope: parseUsers('1-2') as Caller['scope'], rate: undefined, write: false }
    const take = vi.fn(rate())
    const next = vi.fn()
    const outside = request('/v1/users/3/devices')
    createHitLane(deps({ identify: () => scoped, take }))(outside, response().res, next)
    expect(next).toHaveBeenCalledOnce()
    expect(take).not.toHaveBeenCalled()
    expect(handedOver(outside)?.rate).toBeUndefined()
    const { res, written } = response()
    createHitLane(deps({ identify: () => scoped, take }))(request('/v1/users/2/devices'), res, next)
    expect(written.status).toBe(200)
  })

  it('answers /v1/me/devices for a caller of one user as that user\'s list, and hands a caller of several to the route uncounted', () => {
    const solo: Caller = { rateKey: 'key:solo', label: 'solo', scope: parseUsers('3') as Caller['scope'], rate: undefined, write: false }
    const peeked: CacheRef[] = []
    const resources = catalogueLaneResources({ peekKeyed: (ref: CacheRef) => { peeked.push(ref); return entry } })
    const served = vi.fn()
    const { res, written } = response()
    createHitLane(deps({ identify: () => solo, resources, served }))(request('/v1/me/devices'), res, vi.fn())
    expect(written.status).toBe(200)
    expect(peeked).toStrictEqual([{ subject: { userId: 3 } }])
    expect(served.mock.calls[0]?.[2]).toBe('/v1/me/devices')
    for (const caller of [KEY_CALLER, { ...solo, scope: parseUsers('3-4') as Caller['scope'] }]) {
      const take = vi.fn(rate())
      const next = vi.fn()
      const req = request('/v1/me/devices')
      createHitLane(deps({ identify: () => caller, resources, take }))(req, response().res, next)
      expect(next).toHaveBeenCalledOnce()
      expect(take).not.toHaveBeenCalled()
      expect(handedOver(req)?.rate).toBeUndefined()
    }
  })

  it('counts against the caller\'s own rate', () => {
    const limited: Caller = { rateKey: 'key:slow', label: 'slow', scope: EVERY_USER, rate: 7, write: false }
    const { res, written } = response()
    createHitLane(deps({ identify: () => limited }))(request('/v1/users/3/devices'), res, vi.fn())
    expect(written.headers?.slice(2, 6)).toStrictEqual(['ratelimit-limit', '7', 'ratelimit-remaining', '6'])
  })

  it('hands over a token still being verified', () => {
    const next = vi.fn()
    const take = vi.fn(rate())
    createHitLane(deps({ identify: async () => KEY_CALLER, take }))(request('/v1/users/3/devices'), response().res, next)
    expect(next).toHaveBeenCalledOnce()
    expect(take).not.toHaveBeenCalled()
  })

  it('hands a request to the route when a step throws, and logs it', () => {
    const failed = vi.fn()
    const next = vi.fn()
    createHitLane(deps({ failed, take: () => { throw new Error('boom') } }))(request('/v1/users/3/devices'), response().res, next)
    expect(failed).toHaveBeenCalledWith(expect.objectContaining({ message: 'boom' }))
    expect(next).toHaveBeenCalledOnce()
  })

  it('hands a request to the route when an asynchronous step rejects', async () => {
    const failed = vi.fn()
    const next = vi.fn()
    createHitLane(deps({ failed, take: async () => { throw new Error('redis said no') } }))(request('/v1/users/3/devices'), response().res, next)
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
