// The hit lane: a fresh cached answer of a catalogue resource (a list, a page or filtered view of
// one, a device's details, a user) for an authenticated caller, written straight to the socket. A
// cache hit is what the gateway does most, and the framework's per-request machinery (request and
// reply objects, child logger, hook chain, send pipeline) costs about as much again as the answer
// (docs/decisions/hit-lane.md).
//
// The lane holds no rule of its own. It asks the same questions as the route, through the same
// functions: the path and id (lanes/catalogue.ts), the caller and its scope (auth/), the rate
// limit (rate-limit/), the view of the entry (catalogue/view.ts), the answer and its headers
// (cache/answer.ts), the end of the request (plugins/request-end.ts). It only decides whether it
// can give that answer before the framework: a plain 200 from a fresh entry. Everything else (a
// miss, a 304, a compressed body, a cross-origin request, a token not verified yet, a refusal, an
// error) goes to Fastify untouched, with what the lane already decided in the request's record
// (http/handover.ts) so nothing is decided twice. test/lanes/ sends every kind of request both
// ways and compares the answers, the access log and the metrics.
import type { IncomingMessage } from 'node:http'
import { rateLimitHeaders, type RateDecision } from '../rate-limit/request-limiter.js'
import type { Caller } from '../auth/caller.js'
import type { CacheEntry } from '../cache/entry.js'
import type { CacheResult } from '../cache/devices-cache.js'
import { cachedAnswer, JSON_TYPE, wantsRevalidation, type Viewed } from '../cache/answer.js'
import { splitUrl } from '../http/url.js'
import { handover } from '../http/handover.js'
import { decideId, REQUEST_ID_HEADER } from '../logging/request-id.js'
import type { Lane } from './front-door.js'

/** A cached resource the lane may answer, described by the functions its route uses. */
export interface LaneResource {
  /** The route template, for metrics and traces. */
  route: string
  /** The id in the path, when the path is one the route takes; MINE for a path naming the caller's own user. */
  idOf: (path: string) => number | undefined
  /** False when the route refuses this caller this id before any lookup (a 403). */
  mayAsk: (caller: Caller, id: number) => boolean
  /** A fresh entry without calling MOR (cache `peek`), if there is one; undefined too for a query the route refuses. */
  peek: (id: number, search: string) => CacheEntry | undefined | Promise<CacheEntry | undefined>
  /** The view the route sends this caller of a fresh entry, or undefined when the route answers otherwise. */
  view: (entry: CacheEntry, caller: Caller, id: number, path: string, search: string) => Viewed | undefined
}

export interface HitLaneDeps {
  resources: LaneResource[]
  /** The caller the Authorization header stands for (a promise while a new token is verified). */
  identify: (authorization: string | undefined) => Caller | undefined | Promise<Caller | undefined>
  /** Counts the request against the caller's rate limit. */
  take: (caller: Caller) => RateDecision | Promise<RateDecision>
  /** False while the app is closing or overloaded: those answers are Fastify's. */
  open: () => boolean
  /** The Vary of an answer the route sends to a request without Origin. */
  vary: string
  /** Headers the route's hooks add to every such answer (CORS's, once configured), as a flat list. */
  extraHeaders: readonly string[]
  /** The answer is written: count it and end the request as the framework would (plugins/request-end.ts). */
  served: (req: IncomingMessage, id: string, route: string, result: CacheResult, startedAt: number, caller: Caller) => void
  /** A bug in the lane: logged, and the request goes to Fastify if it still can. */
  failed: (err: unknown) => void
}

/** What `idOf` says of a path naming the caller's own user (/v1/me/devices): ids are never negative. */
export const MINE = -1

interface Found { decision: RateDecision, entry: CacheEntry | undefined }

/** The rate decision and the fresh entry together, each in memory when it can be and from Redis when it must. */
function lookup (decision: RateDecision | Promise<RateDecision>, entry: CacheEntry | undefined | Promise<CacheEntry | undefined>): Found | Promise<Found> {
  if (!(decision instanceof Promise) && !(entry instanceof Promise)) return { decision, entry }
  return Promise.all([decision, entry]).then(([d, e]) => ({ decision: d, entry: e }))
}

export function createHitLane (deps: HitLaneDeps): Lane {
  const { resources, identify, take, open, vary, extraHeaders, served, failed } = deps

  function answer (req: IncomingMessage, res: Parameters<Lane>[1], next: () => void): void {
    if (req.method !== 'GET' || !open()) return next()
    const { path, search } = splitUrl(req.url ?? '')
    let resource: LaneResource | undefined
    let id: number | undefined
    for (const r of resources) {
      id = r.idOf(path)
      if (id !== undefined) {
        resource = r
        break
      }
    }
    // Revalidation is a call to MOR; a cross-origin request gets CORS's answer from @fastify/cors.
    if (resource === undefined || id === undefined || wantsRevalidation(req.headers) || req.headers.origin !== undefined) return next()
    const caller = identify(req.headers.authorization)
    // Unknown callers, tokens not verified yet, and users outside the caller's scope are the
    // route's to answer, before any cache lookup.
    if (caller === undefined || caller instanceof Promise) return next()
    // The caller's own user: a caller of several (or of every) user is the route's to refuse.
    if (id === MINE) id = caller.scope.single
    if (id === undefined || !resource.mayAsk(caller, id)) return next()
    const startedAt = performance.now()
    const { route, view } = resource
    const userOrDevice = id

    const handOver = (decision: RateDecision) => {
      handover(req).rate = decision
      next()
    }
    const serve = ({ decision, entry }: Found) => {
      if (!decision.allowed || entry === undefined) return handOver(decision)
      const viewed = view(entry, caller, userOrDevice, path, search)
      if (viewed === undefined) return handOver(decision)
      const result: CacheResult = { entry, outcome: 'hit', collapsed: false }
      const { status, coding, headers } = cachedAnswer(result, viewed.view, req.headers, Date.now(), vary)
      if (status !== 200 || coding !== undefined) return handOver(decision)
      const { body } = viewed.view
      // One flat name, value list for writeHead, in the order the route's hooks set them.
      const id = decideId(req)
      const out = [REQUEST_ID_HEADER, id]
      for (const value of rateLimitHeaders(decision)) out.push(value)
      for (const value of headers) out.push(value)
      for (const value of viewed.more) out.push(value)
      out.push('content-type', JSON_TYPE, 'content-length', String(body.length))
      for (const value of extraHeaders) out.push(value)
      res.writeHead(200, out)
      res.end(body)
      served(req, id, route, result, startedAt, caller)
    }
    const found = lookup(take(caller), resource.peek(id, search))
    if (found instanceof Promise) found.then(serve).catch((err: unknown) => { giveUp(err, res, next) })
    else serve(found)
  }

  /** A bug in the lane: logged; Fastify answers if the answer has not started, else the connection closes. */
  function giveUp (err: unknown, res: Parameters<Lane>[1], next: () => void): void {
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
