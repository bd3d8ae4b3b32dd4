// The steps every JSON device write takes, in order, whichever the method:
// 1. the write right and the caller's scope (403; a device outside it is "not found", as on reads);
// 2. the Idempotency-Key: a request seen before gets its first answer again, a key reused for
//    another request a 422, a key whose first request still runs a 409;
// 3. for a device, its owner fresh from MOR (never a cached copy) and If-Match against its ETag;
// 4. the one signed call to MOR, charged to the caller's upstream budget, never retried;
// 5. every instance's cache of the user's list and the device dropped (also when the answer was
//    lost: the write may have happened), and the result read back from MOR;
// 6. one audit line, and the answer remembered under the Idempotency-Key.
// An answer is remembered once the call may have reached MOR; a refusal before it (the owner, the
// ETag, the budget, an open circuit) frees the key, so the same request may be sent again.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { mayRead, mayReadDevice, mayWrite } from '../auth/caller.js'
import { ForbiddenUserError } from '../plugins/auth.js'
import { toProblem } from '../plugins/problems.js'
import { problemInstance } from '../problems/catalog.js'
import { MAX_HEADER_LENGTH } from '../schemas/responses.js'
import type { DeviceCreate, DeviceCreated, DevicePatch } from '../schemas/device-writes.js'
import type { DeviceCreateParam, DeviceUpdateParam, DeviceWriteMethod } from '../mor/device-writes.js'
import type { WriteResult } from '../mor/client.js'
import { DeviceNotFoundError, failedBeforeSending, upstreamKind } from '../mor/errors.js'
import type { Subject } from '../cache/devices-cache.js'
import { UpstreamBudgetError } from '../cache/devices-cache.js'
import type { CacheEntry } from '../cache/entry.js'
import { JSON_TYPE } from '../cache/answer.js'
import { matchesIfMatch } from '../cache/http.js'
import { canonicalBody } from '../devices/write-body.js'
import {
  ForbiddenWriteError, IdempotencyKeyInUseError, IdempotencyKeyReusedError, InvalidIdempotencyKeyError, OutcomeUnclearError,
  OutcomeUnknownError, PreconditionFailedError, refusalError, type WriteTarget
} from '../devices/write-errors.js'
import { fingerprint, fingerprintKey, IDEMPOTENCY_KEY_PATTERN, MAX_KEY_LENGTH, parseIdempotencyKey } from '../idempotency/key.js'
import type { Claim, StoredAnswer } from '../idempotency/store.js'
import { limitKey } from '../rate-limit/key.js'
import { splitUrl } from '../http/url.js'
import { fetchCached, keyedAnswer, traceScope } from './cached-answer.js'
import { deviceDetails } from '../catalogue/devices.js'

/** What a write answers: built here, sent by the route, and remembered under its Idempotency-Key. */
export type WriteAnswer = StoredAnswer

/** The request headers every write takes, as the contract documents them. */
export const WRITE_REQUEST_HEADERS = Type.Object({
  'idempotency-key': Type.Optional(Type.String({
    minLength: 1,
    maxLength: 2 * MAX_KEY_LENGTH + 2,
    pattern: IDEMPOTENCY_KEY_PATTERN,
    description: 'makes a retry safe (IETF httpapi draft): a Structured Fields string such as `"8e03978e-40d5-43e8-bc93-6894a57f9324"`, ' +
      'kept 24 hours per caller. The same key and request get the first answer again; the same key for another request is a 422; ' +
      'while the first still runs, a 409'
  })),
  'if-match': Type.Optional(Type.String({ maxLength: MAX_HEADER_LENGTH, description: 'the device\'s ETag from `GET /v1/devices/{deviceId}` (or `*`): a device changed since is a 412 and MOR is not called' }))
})

/** A request header as one value: Node joins repeated ones, except a few it keeps as a list (none of these). */
const headerOf = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** Whether a failed call may have reached MOR (and so may have changed something). */
function mayHaveArrived (err: unknown): boolean {
  const kind = upstreamKind(err)
  if (kind === 'circuit-open') return false
  if (kind === 'unavailable') return !failedBeforeSending(err)
  return true
}

/** A failed call that may have changed something, as the client's problem: the outcome is unknown. */
function unknownOutcome (err: unknown): Error {
  const kind = upstreamKind(err)
  if (kind === 'timeout') return new OutcomeUnknownError('its answer did not come in time', { cause: err })
  if (kind === 'unavailable') return new OutcomeUnknownError('the connection closed before its answer came', { cause: err })
  if (kind === 'bad-response') return new OutcomeUnclearError('its answer said neither that it was done nor why not', { cause: err })
  return err as Error
}

/** A write under way: what the audit line says of it, and whether its call has gone to MOR. */
interface Progress { sent: boolean, outcome: string }

export function createWriteFlow (fastify: FastifyInstance, morSecret: string) {
  const cache = fastify.devicesCache
  const printKey = fingerprintKey(morSecret)
  /** A device's details as the catalogue entry reads them, under the cache's lifetimes. */
  const deviceKeyed = (deviceId: number) => keyedAnswer(fastify, deviceDetails, { id: deviceId, query: {} })

  /** Step 1: the write right. */
  function checkWriteRight (request: FastifyRequest): void {
    if (!mayWrite(request.caller)) throw new ForbiddenWriteError()
  }

  /** The device as MOR has it now, read past every cache; a device the caller may not read is not found. */
  async function freshDevice (request: FastifyRequest, deviceId: number): Promise<CacheEntry> {
    const { entry } = await fetchCached(fastify, request, (opts) => cache.getKeyed(deviceKeyed(deviceId), { ...opts, revalidate: true, strict: true }))
    if (entry.status !== 200 || !mayReadDevice(request.caller, entry.owner ?? null)) throw new DeviceNotFoundError(deviceId)
    return entry
  }

  /** Step 4's charge: one call from the caller's upstream budget. */
  async function admit (request: FastifyRequest): Promise<void> {
    const wait = await fastify.upstreamBudget.admit(limitKey(request.caller, request.ip))
    if (wait !== undefined) {
      fastify.metrics.rateLimited.inc({ limit: 'upstream' })
      throw new UpstreamBudgetError(wait)
    }
  }

  /**
   * Step 5: every instance drops what it holds of the subject, before the answer goes: a user's
   * list, or a device's details and its owner's list (`before`: the device as read before the write).
   */
  const dropper = (subject: Subject, before?: () => CacheEntry | undefined) => async (): Promise<void> => {
    const owner = before?.()?.owner
    await fastify.invalidation.invalidate(subject, 'api-write', owner ?? undefined)
  }

  /** Step 5's read back: the device's details as MOR has them now, or undefined when they cannot be read. */
  async function readBack (request: FastifyRequest, deviceId: number): Promise<CacheEntry | undefined> {
    try {
      const { entry } = await cache.getKeyed(deviceKeyed(deviceId), { revalidate: true, strict: true, trace: () => traceScope(fastify, request) })
      return entry.status === 200 ? entry : undefined
    } catch (err) {
      request.log.warn({ err, deviceId }, 'device written, but its details could not be read back')
      return undefined
    }
  }

  const detailsAnswer = (status: number, entry: CacheEntry, headers: Record<string, string> = {}): WriteAnswer =>
    ({ status, headers: { ...headers, etag: entry.etag, 'content-type': JSON_TYPE }, body: entry.body.toString() })

  /** A 201 that cannot show the device's details: what is known of it (schemas/device-writes.ts, DeviceCreated). */
  const createdAnswer = (headers: Record<string, string>, created: DeviceCreated): WriteAnswer =>
    ({ status: 201, headers: { ...headers, 'content-type': JSON_TYPE }, body: JSON.stringify(created) })

  /** Step 2: the request's claim on its Idempotency-Key, or undefined without one; a replay or a refusal throws or answers. */
  async function claimKey (request: FastifyRequest, body: object | undefined): Promise<Claim | undefined> {
    const parsed = parseIdempotencyKey(headerOf(request, 'idempotency-key'))
    if (parsed === undefined) return undefined
    if ('problem' in parsed) throw new InvalidIdempotencyKeyError(parsed.problem)
    const print = fingerprint(printKey, [request.method, splitUrl(request.url).path, canonicalBody(body), headerOf(request, 'if-match') ?? ''])
    const claim = await fastify.idempotency.claim(limitKey(request.caller, request.ip), parsed.key, print)
    if (claim.kind === 'mismatch') throw new IdempotencyKeyReusedError()
    if (claim.kind === 'running') throw new IdempotencyKeyInUseError()
    return claim
  }

  /** The audit line of one write: who, what, how it ended, under the request's id. Never a value that was sent. */
  function audit (request: FastifyRequest, action: DeviceWriteMethod, target: WriteTarget, outcome: string, problem?: string): void {
    request.log.info({ audit: { caller: request.caller?.label ?? 'anonymous', action, ...target, outcome, ...(problem === undefined ? {} : { problem }) } }, 'device write')
  }

  /**
   * Steps 2 to 6 around `work`, which does steps 3 to 5 and marks when its call goes to MOR.
   * `drop` makes every instance drop what a write that may have happened changed.
   */
  async function run (request: FastifyRequest, action: DeviceWriteMethod, target: WriteTarget, body: object | undefined, drop: () => Promise<void>,
    work: (progress: Progress) => Promise<WriteAnswer>): Promise<WriteAnswer> {
    const claimed = await claimKey(request, body)
    if (claimed?.kind === 'replay') {
      audit(request, action, target, 'replayed')
      return { ...claimed.answer, headers: { ...claimed.answer.headers, 'idempotent-replayed': 'true' } }
    }
    const claim = claimed?.kind === 'new' ? claimed : undefined
    const progress: Progress = { sent: false, outcome: 'not sent' }
    try {
      const answer = await work(progress)
      audit(request, action, target, progress.outcome)
      await claim?.finish(answer)
      return answer
    } catch (err) {
      // The call went out and no answer settled it: it may have happened.
      const unsettled = progress.outcome === 'sent' && mayHaveArrived(err)
      const failure = unsettled ? unknownOutcome(err) : err
      if (unsettled) {
        progress.outcome = 'unknown'
        await drop()
      }
      // Nothing reached MOR (refused before the call, an open circuit, a refused connection).
      const untouched = !progress.sent || (progress.outcome === 'sent' && !unsettled)
      audit(request, action, target, untouched ? 'not sent' : progress.outcome, toProblem(failure as Parameters<typeof toProblem>[0]).type)
      // Remembered once MOR may have acted, so a retry can never make it act twice.
      if (untouched) await claim?.release()
      else await claim?.finish(problemAnswer(request, failure))
      throw failure
    }
  }

  /** A failure as the problem the error handler will send for it, to remember under the key. */
  function problemAnswer (request: FastifyRequest, err: unknown): WriteAnswer {
    const body = toProblem(err as Parameters<typeof toProblem>[0])
    const instance = problemInstance(request.id)
    return { status: body.status, headers: { 'content-type': 'application/problem+json; charset=utf-8' }, body: JSON.stringify(instance === undefined ? body : { ...body, instance }) }
  }

  /**
   * The call itself, marked as sent. Done: every instance drops what it changed. MOR's refusal
   * becomes its problem (a device or user MOR no longer has: dropped everywhere too).
   */
  async function call (progress: Progress, target: WriteTarget, credentials: Array<string | null | undefined>, send: () => Promise<WriteResult>,
    drop: () => Promise<void>): Promise<Extract<WriteResult, { kind: 'done' }>> {
    progress.sent = true
    progress.outcome = 'sent'
    const result = await send()
    progress.outcome = result.kind === 'done' ? 'done' : `refused: ${result.refusal}`
    if (result.kind === 'done' || result.refusal === 'not-found') await drop()
    if (result.kind === 'done') return result
    throw refusalError(result, target, credentials)
  }

  /** Step 3 for a device: its owner fresh from MOR, and If-Match against its ETag. */
  async function deviceBefore (request: FastifyRequest, deviceId: number): Promise<CacheEntry> {
    const entry = await freshDevice(request, deviceId)
    const ifMatch = headerOf(request, 'if-match')
    if (ifMatch !== undefined && !matchesIfMatch(ifMatch, entry.etag)) throw new PreconditionFailedError()
    return entry
  }

  return {
    mayWrite: checkWriteRight,
    async create (request: FastifyRequest, userId: number, body: DeviceCreate, params: Partial<Record<DeviceCreateParam, string>>): Promise<WriteAnswer> {
      if (!mayRead(request.caller, userId)) throw new ForbiddenUserError()
      const trace = traceScope(fastify, request)
      const drop = dropper({ userId })
      return run(request, 'device_create', { userId }, body, drop, async (progress) => {
        await admit(request)
        const { id } = await call(progress, { userId }, [body.pin], () => fastify.mor.createDevice(userId, params, trace), drop)
        // A MOR that does not say which device it made: no Location rather than a guess.
        if (id === undefined) return createdAnswer({}, { id: null, userId })
        const location = { location: `/v1/devices/${id}` }
        const entry = await readBack(request, id)
        return entry === undefined ? createdAnswer(location, { id, userId }) : detailsAnswer(201, entry, location)
      })
    },

    async update (request: FastifyRequest, deviceId: number, patch: DevicePatch, params: Partial<Record<DeviceUpdateParam, string>>): Promise<WriteAnswer> {
      const trace = traceScope(fastify, request)
      let before: CacheEntry | undefined
      const drop = dropper({ deviceId }, () => before)
      return run(request, 'device_update', { deviceId }, patch, drop, async (progress) => {
        before = await deviceBefore(request, deviceId)
        await admit(request)
        await call(progress, { deviceId }, [patch.pin, patch.password], () => fastify.mor.updateDevice(deviceId, params, trace), drop)
        const entry = await readBack(request, deviceId)
        return entry === undefined ? { status: 204, headers: {}, body: '' } : detailsAnswer(200, entry)
      })
    },

    async remove (request: FastifyRequest, deviceId: number): Promise<WriteAnswer> {
      const trace = traceScope(fastify, request)
      let before: CacheEntry | undefined
      const drop = dropper({ deviceId }, () => before)
      return run(request, 'device_delete', { deviceId }, undefined, drop, async (progress) => {
        before = await deviceBefore(request, deviceId)
        await admit(request)
        await call(progress, { deviceId }, [], () => fastify.mor.deleteDevice(deviceId, trace), drop)
        return { status: 204, headers: {}, body: '' }
      })
    }
  }
}
