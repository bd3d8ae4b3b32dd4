// The hit lane: a fresh cached answer (the whole list, or a page or filtered view cut from it) for
// an authenticated caller who may read that user, written straight to the socket. A cache hit is what the gateway does most, and the framework's
// per-request machinery (request and reply objects, child logger, hook chain, send pipeline) cost
// more than half its time. The lane does exactly what the route would for this one case: the same
// authentication, scope decision (mayRead), query parser, page cutter (listView), rate limit,
// headers, metrics and access log. Whatever else a request needs (a miss, a 304, a compressed
// variant, CORS, a token not verified yet, a bad query or cursor, a refusal, an error) it hands to
// Fastify untouched, which answers it as before.
// A test sends every kind of request both ways and compares the answers.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { rateLimitHeaders, type RateDecision } from '../rate-limit/request-limiter.js'
import { mayRead, type Caller } from '../auth/caller.js'
import type { CacheEntry } from '../cache/entry.js'
import { COMPRESS_MIN_BYTES, devicesAnswerHeaders, negotiate } from '../cache/http.js'
import { USER_ID_PATTERN } from '../schemas/device.js'
import { DEVICES_ROUTE, nextLink } from '../routes/devices.js'
import { splitUrl } from '../routes/cached-answer.js'
import { pageFor, type PageMemo } from '../paging/page.js'

export interface HitLaneDeps {
  /** The caller the Authorization header stands for (a promise while a new token is verified). */
  identify: (authorization: string | undefined) => Caller | undefined | Promise<Caller | undefined>
  /** Counts the request against the caller's rate limit and finds a fresh entry, if any. */
  lookup: (caller: Caller, userId: number) => Lookup | Promise<Lookup>
  /** False while the app is closing or overloaded: those answers are Fastify's. */
  open: () => boolean
  requestId: (req: IncomingMessage) => string
  /** The Vary header the route sends (Origin joins Accept-Encoding once CORS is configured). */
  vary: string
  /** Headers the route's hooks add to every such answer (CORS's, once configured), as a flat list. */
  extraHeaders: string[]
  /** Called once the answer is written: metrics and the access log. */
  served: (req: IncomingMessage, id: string, startedAt: number, caller: Caller) => void
  /** A bug in the lane: logged, and the request goes to Fastify if it still can. */
  failed: (err: unknown) => void
}

export interface Lookup { decision: RateDecision, entry: CacheEntry | undefined }

/** A lane: answers a request itself, or calls `next` to hand it to Fastify untouched. */
export type Lane = (req: IncomingMessage, res: ServerResponse, next: () => void) => void

const DECISION = Symbol('rate decision taken by the hit lane')
type Marked = IncomingMessage & { [DECISION]?: RateDecision }

/** The rate decision the lane already counted for this request, so the route does not count it twice. */
export function takenDecision (req: IncomingMessage): RateDecision | undefined {
  return (req as Marked)[DECISION]
}

// The route's own path and user-id pattern, so the lane can never accept an id the route refuses.
const PATH = new RegExp(`^${DEVICES_ROUTE.replace(':userId', `(${USER_ID_PATTERN.slice(1, -1)})`)}$`)

export interface LaneRequest { userId: number, path: string, search: string }

/** The user and query string when the request is one the lane may answer from the cache, else undefined. */
export function laneRequest (req: IncomingMessage): LaneRequest | undefined {
  if (req.method !== 'GET') return undefined
  const { path, search } = splitUrl(req.url ?? '')
  const match = PATH.exec(path)
  if (!match) return undefined
  const { headers } = req
  // Conditional and revalidating requests, and cross-origin ones, take the full route.
  if (headers['if-none-match'] !== undefined || headers['cache-control'] !== undefined || headers.pragma !== undefined || headers.origin !== undefined) return undefined
  return { userId: Number(match[1]), path, search }
}

export function createHitLane (deps: HitLaneDeps): Lane {
  const { identify, lookup, open, requestId, vary, extraHeaders, served, failed } = deps
  // An answer's headers change once a second (Age, TTL), not per request: rendered then, reused,
  // per entry for the whole list and per remembered page for a page.
  const rendered = new WeakMap<CacheEntry | PageMemo, { age: number, ttl: number, headers: string[] }>()
  function answerHeaders (entry: CacheEntry, page: PageMemo | undefined, path: string): string[] {
    const now = Date.now()
    const age = Math.floor((now - entry.storedAt) / 1000)
    const ttl = Math.floor((entry.freshUntil - now) / 1000)
    const key = page ?? entry
    let memo = rendered.get(key)
    if (memo?.age !== age || memo.ttl !== ttl) {
      const view = page?.view
      const headers = devicesAnswerHeaders({ entry, outcome: 'hit', collapsed: false }, now, vary, view?.etag)
      headers.push('content-type', 'application/json; charset=utf-8', 'content-length', String((view ?? entry).body.length), ...extraHeaders)
      if (page !== undefined && page.view.next !== null) headers.push('link', nextLink(path, page.query, page.view.next))
      memo = { age, ttl, headers }
      rendered.set(key, memo)
    }
    return memo.headers
  }

  function answer (req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const wanted = laneRequest(req)
    if (wanted === undefined || !open()) return next()
    const { userId, search } = wanted
    const caller = identify(req.headers.authorization)
    // Unknown callers, tokens not verified yet, and users outside the caller's scope (a 403, made
    // by the route's one decision, mayRead) are the route's to answer, before any cache lookup.
    if (caller === undefined || caller instanceof Promise || !mayRead(caller, userId)) return next()
    const startedAt = performance.now()

    // Marked only when handed over: a property added to every request would change the hidden
    // class of Node's own IncomingMessage and slow down the http internals on every request.
    const handOver = (decision: RateDecision) => {
      ;(req as Marked)[DECISION] = decision
      next()
    }
    const serve = (entry: CacheEntry | undefined, decision: RateDecision) => {
      if (entry?.status !== 200) return handOver(decision)
      let page: PageMemo | undefined
      if (search !== '') {
        const found = pageFor(entry, userId, search)
        // A bad query, a foreign or stale cursor: the route's to refuse.
        if ('refused' in found) return handOver(decision)
        page = found.memo
      }
      const body = page?.view.body ?? entry.body
      if (body.length >= COMPRESS_MIN_BYTES && negotiate(req.headers['accept-encoding']) !== undefined) return handOver(decision)
      const id = requestId(req)
      // One flat name, value list for writeHead.
      const headers = ['x-request-id', id]
      for (const value of rateLimitHeaders(decision)) headers.push(value)
      for (const value of answerHeaders(entry, page, wanted.path)) headers.push(value)
      res.writeHead(200, headers)
      res.end(body)
      served(req, id, startedAt, caller)
    }
    const settle = ({ decision, entry }: Lookup) => (decision.allowed ? serve(entry, decision) : handOver(decision))
    const found = lookup(caller, userId)
    if (found instanceof Promise) found.then(settle).catch((err: unknown) => { giveUp(err, res, next) })
    else settle(found)
  }

  /** A bug in the lane: logged; Fastify answers if the answer has not started, else the connection closes. */
  function giveUp (err: unknown, res: ServerResponse, next: () => void): void {
    failed(err)
    if (res.headersSent) res.destroy()
    else next()
  }

  return function hitLane (req, res, next) {
    try {
      answer(req, res, next)
    } catch (err) {
      giveUp(err, res, next)
    }
  }
}
