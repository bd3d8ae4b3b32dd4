// The MOR circuit breaker as a unit, on an injected clock: when it opens, how it fails fast, and
// how a single half-open trial decides whether it closes again.
import { describe, expect, it } from 'vitest'
import { CircuitOpenError, createCircuitBreaker, type CircuitState } from '../../src/mor/circuit.js'
import {
  UpstreamBadResponseError, UpstreamRejectedError, UpstreamTimeoutError, UpstreamUnavailableError, UserNotFoundError
} from '../../src/mor/errors.js'

const RESET_MS = 10_000

function breaker (failures = 3) {
  const clock = { now: 0 }
  const changes: CircuitState[] = []
  const circuit = createCircuitBreaker({ failures, resetMs: RESET_MS, now: () => clock.now, onChange: (state) => changes.push(state) })
  let calls = 0
  const counted = <T>(call: () => Promise<T>) => () => { calls++; return call() }
  const ok = () => circuit.run(counted(async () => 'devices'))
  const fail = (err: Error) => circuit.run(counted(async () => { throw err })).then(
    () => { throw new Error('the call did not fail') },
    (caught: unknown) => caught
  )
  return { circuit, clock, changes, ok, fail, get calls () { return calls } }
}

const unavailable = () => new UpstreamUnavailableError('ECONNREFUSED')
const timeout = () => new UpstreamTimeoutError(1000)

/** A call that stays pending until the test resolves it. */
function deferred () {
  let settle: (value: string) => void = () => {}
  const promise = new Promise<string>((resolve) => { settle = resolve })
  return { promise, resolve: (value: string) => settle(value) }
}

describe('createCircuitBreaker', () => {
  it('stays closed below the failure threshold and opens on the Nth consecutive outage', async () => {
    const b = breaker(3)
    await b.fail(unavailable())
    await b.fail(timeout())
    expect(b.circuit.state).toBe('closed')
    expect(b.changes).toStrictEqual([])
    const third = await b.fail(unavailable())
    expect(third).toBeInstanceOf(UpstreamUnavailableError)
    expect(b.circuit.state).toBe('open')
    expect(b.changes).toStrictEqual(['open'])
  })

  it('opens on timeouts alone', async () => {
    const b = breaker(2)
    await b.fail(timeout())
    await b.fail(timeout())
    expect(b.circuit.state).toBe('open')
  })

  it('passes the call\'s own result and error through while closed', async () => {
    const b = breaker()
    expect(await b.ok()).toBe('devices')
    const err = unavailable()
    expect(await b.fail(err)).toBe(err)
  })

  for (const [name, make] of [
    ['a rejection', () => new UpstreamRejectedError('"Incorrect hash"')],
    ['a bad response', () => new UpstreamBadResponseError('HTTP status 500')],
    ['User not found', () => new UserNotFoundError(9)],
    ['a success', undefined]
  ] as const) {
    it(`resets the count of consecutive outages on ${name}`, async () => {
      const b = breaker(3)
      await b.fail(unavailable())
      await b.fail(unavailable())
      if (make) await b.fail(make())
      else await b.ok()
      await b.fail(unavailable())
      await b.fail(unavailable())
      expect(b.circuit.state).toBe('closed')
      await b.fail(unavailable())
      expect(b.circuit.state).toBe('open')
    })
  }

  it('never opens on rejections and bad responses, however many', async () => {
    const b = breaker(2)
    for (let i = 0; i < 5; i++) {
      await b.fail(new UpstreamRejectedError('"Access Denied"'))
      await b.fail(new UpstreamBadResponseError('HTTP status 502'))
    }
    expect(b.circuit.state).toBe('closed')
    expect(b.changes).toStrictEqual([])
  })

  it('fails fast with a 503 CircuitOpenError and the seconds until the trial while open', async () => {
    const b = breaker(1)
    await b.fail(unavailable())
    const callsWhenOpened = b.calls
    b.clock.now = 2_500
    const err = await b.fail(unavailable())
    expect(err).toBeInstanceOf(CircuitOpenError)
    expect(err).toMatchObject({ code: 'MOR_CIRCUIT_OPEN', statusCode: 503, retryAfter: 8, message: 'MOR is failing; calls to it are paused for 8 s' })
    expect(b.calls).toBe(callsWhenOpened)
    expect(b.circuit.retryAfterSeconds()).toBe(8)
    b.clock.now = 9_999
    expect(await b.fail(unavailable())).toMatchObject({ retryAfter: 1 })
    await expect(b.ok()).rejects.toBeInstanceOf(CircuitOpenError)
    expect(b.calls).toBe(callsWhenOpened)
    expect(b.changes).toStrictEqual(['open'])
  })

  it('reports half-open from the state getter once the reset time has passed, before any call', async () => {
    const b = breaker(1)
    await b.fail(unavailable())
    b.clock.now = RESET_MS - 1
    expect(b.circuit.state).toBe('open')
    b.clock.now = RESET_MS
    expect(b.circuit.state).toBe('half-open')
    // Reported, not yet a transition: nobody has tried MOR.
    expect(b.changes).toStrictEqual(['open'])
  })

  it('lets exactly one trial call through when half-open; a concurrent call fails fast', async () => {
    const b = breaker(1)
    await b.fail(unavailable())
    b.clock.now = RESET_MS
    const trial = deferred()
    let trialCalls = 0
    const first = b.circuit.run(() => { trialCalls++; return trial.promise })
    expect(b.circuit.state).toBe('half-open')
    expect(b.changes).toStrictEqual(['open', 'half-open'])
    let secondCalled = false
    const second = await b.circuit.run(async () => { secondCalled = true; return 'x' }).catch((err: unknown) => err)
    expect(second).toBeInstanceOf(CircuitOpenError)
    expect(second).toMatchObject({ statusCode: 503, retryAfter: 1 })
    expect(secondCalled).toBe(false)
    trial.resolve('devices')
    expect(await first).toBe('devices')
    expect(trialCalls).toBe(1)
  })

  it('closes after a successful trial, and then needs N outages to open again', async () => {
    const b = breaker(2)
    await b.fail(unavailable())
    await b.fail(unavailable())
    b.clock.now = RESET_MS
    expect(await b.ok()).toBe('devices')
    expect(b.circuit.state).toBe('closed')
    expect(b.changes).toStrictEqual(['open', 'half-open', 'closed'])
    await b.fail(unavailable())
    expect(b.circuit.state).toBe('closed')
    await b.fail(unavailable())
    expect(b.circuit.state).toBe('open')
    expect(b.changes).toStrictEqual(['open', 'half-open', 'closed', 'open'])
  })

  it('closes after a trial that MOR answers with a rejection: MOR is up', async () => {
    const b = breaker(1)
    await b.fail(unavailable())
    b.clock.now = RESET_MS
    expect(await b.fail(new UpstreamRejectedError('"Bad login"'))).toBeInstanceOf(UpstreamRejectedError)
    expect(b.circuit.state).toBe('closed')
    expect(b.changes).toStrictEqual(['open', 'half-open', 'closed'])
  })

  it('reopens for another full reset period when the trial fails', async () => {
    const b = breaker(3)
    for (let i = 0; i < 3; i++) await b.fail(unavailable())
    b.clock.now = RESET_MS + 500
    const err = await b.fail(timeout())
    expect(err).toBeInstanceOf(UpstreamTimeoutError)
    expect(b.circuit.state).toBe('open')
    expect(b.changes).toStrictEqual(['open', 'half-open', 'open'])
    expect(b.circuit.retryAfterSeconds()).toBe(10)
    b.clock.now = 2 * RESET_MS + 499
    expect(b.circuit.state).toBe('open')
    expect(await b.fail(unavailable())).toBeInstanceOf(CircuitOpenError)
    b.clock.now = 2 * RESET_MS + 500
    expect(b.circuit.state).toBe('half-open')
  })

  it('lets a new trial through after a failed one has finished', async () => {
    const b = breaker(1)
    await b.fail(unavailable())
    b.clock.now = RESET_MS
    await b.fail(unavailable())
    b.clock.now = 2 * RESET_MS
    expect(await b.ok()).toBe('devices')
    expect(b.changes).toStrictEqual(['open', 'half-open', 'open', 'half-open', 'closed'])
  })

  it('calls onChange once per transition, not per call', async () => {
    const b = breaker(2)
    for (let i = 0; i < 3; i++) await b.ok()
    for (let i = 0; i < 5; i++) await b.fail(unavailable())
    expect(b.changes).toStrictEqual(['open'])
  })
})
