// Gateway errors carry the problem they are to a client as data: every error class the gateway
// raises names a problem type of the catalogue, and the problems handler answers by it.
import { describe, expect, it } from 'vitest'
import Fastify from 'fastify'
import { gatewayError, problemOf } from '../../src/problems/gateway-error.js'
import { PROBLEM_SLUGS } from '../../src/problems/catalog.js'
import problems from '../../src/plugins/problems.js'
import { InvalidLegacyPathError, LegacyForbiddenError, PassthroughBusyError, PayloadTooLargeError, UnreadableWriteError, WriteAsHeadError } from '../../src/legacy/errors.js'
import { ForbiddenUserError, UnauthorizedError } from '../../src/plugins/auth.js'
import { RateLimitedError } from '../../src/plugins/rate-limit.js'
import { InvalidQueryError } from '../../src/routes/cached-answer.js'
import { UpstreamBudgetError } from '../../src/cache/devices-cache.js'
import { DeviceNotFoundError, UserNotFoundError } from '../../src/mor/errors.js'
import { CircuitOpenError } from '../../src/mor/circuit.js'
import { OverloadedError } from '../../src/problems/retry-after.js'
import { MalformedRequestError, RequestTimeoutError } from '../../src/plugins/problems.js'

describe('gateway errors', () => {
  it('name their problem type, one of the catalogue\'s', () => {
    const named: Array<[Error, string]> = [
      [new InvalidLegacyPathError('x'), 'invalid-request'],
      [new LegacyForbiddenError(), 'forbidden'],
      [new PayloadTooLargeError(10), 'payload-too-large'],
      [new UnreadableWriteError('x'), 'invalid-request'],
      [new WriteAsHeadError('device_create'), 'invalid-request'],
      [new PassthroughBusyError(1), 'overloaded'],
      [new UnauthorizedError('x'), 'unauthorized'],
      [new ForbiddenUserError(), 'forbidden'],
      [new RateLimitedError(3), 'rate-limited'],
      [new UpstreamBudgetError(3), 'rate-limited'],
      [new InvalidQueryError('x'), 'invalid-request'],
      [new DeviceNotFoundError(5), 'device-not-found'],
      [new CircuitOpenError(3), 'upstream-unavailable'],
      [new OverloadedError(), 'overloaded'],
      [new RequestTimeoutError(), 'request-timeout'],
      [new MalformedRequestError(), 'invalid-request']
    ]
    for (const [error, slug] of named) {
      expect(problemOf(error), error.constructor.name).toBe(slug)
      expect(PROBLEM_SLUGS).toContain(problemOf(error))
    }
    // MOR's failures that share a kind's problem need not name one.
    expect(problemOf(new UserNotFoundError(5))).toBeUndefined()
    expect(problemOf(new Error('plain'))).toBeUndefined()
  })

  it('are answered by the problem they name, whatever their code', async () => {
    const Teapot = gatewayError('stale-cursor', 'SOME_NEW_CODE', 'A new refusal', 409)
    const app = Fastify({ logger: false })
    await app.register(problems)
    app.get('/new', async () => { throw new Teapot() })
    const res = await app.inject({ url: '/new' })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ type: '/problems/stale-cursor', title: 'Stale cursor', status: 409, detail: 'A new refusal' })
    await app.close()
  })
})
