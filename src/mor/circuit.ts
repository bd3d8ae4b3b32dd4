// A circuit breaker on MOR: after `failures` consecutive unavailable/timeout outcomes it opens and
// fails fast for `resetMs`, sparing a struggling billing server and the gateway's sockets; then a
// single trial call (half-open) decides whether to close it again. Any answer from MOR, even a
// rejection, proves MOR is up.
import { retryAfterError } from '../problems/retry-after.js'
import { UPSTREAM_KINDS, upstreamKind, withKind } from './errors.js'

/** Carries the seconds until the trial call, for Retry-After. */
export const CircuitOpenError = withKind('circuit-open', retryAfterError('upstream-unavailable', 'MOR_CIRCUIT_OPEN', 'MOR is failing; calls to it are paused for %d s', 503))

export type CircuitState = 'closed' | 'open' | 'half-open'

export interface CircuitBreaker {
  run: <T>(call: () => Promise<T>) => Promise<T>
  readonly state: CircuitState
  retryAfterSeconds: () => number
}

const isOutage = (err: unknown) => UPSTREAM_KINDS[upstreamKind(err) ?? 'rejected'].outage

export function createCircuitBreaker (opts: { failures: number, resetMs: number, now?: () => number, onChange?: (state: CircuitState) => void }): CircuitBreaker {
  const now = opts.now ?? Date.now
  let state: CircuitState = 'closed'
  let consecutive = 0
  let openUntil = 0
  let trialRunning = false

  const setState = (next: CircuitState) => {
    if (next !== state) {
      state = next
      opts.onChange?.(next)
    }
  }
  const retryAfterSeconds = () => Math.max(1, Math.ceil((openUntil - now()) / 1000))

  async function run<T> (call: () => Promise<T>): Promise<T> {
    if (state === 'open' && now() >= openUntil) setState('half-open')
    if (state === 'open' || (state === 'half-open' && trialRunning)) throw new CircuitOpenError(retryAfterSeconds())
    const trial = state === 'half-open'
    if (trial) trialRunning = true
    try {
      const result = await call()
      consecutive = 0
      setState('closed')
      return result
    } catch (err) {
      if (!isOutage(err)) {
        consecutive = 0
        setState('closed')
      } else if (trial || ++consecutive >= opts.failures) {
        openUntil = now() + opts.resetMs
        setState('open')
      }
      throw err
    } finally {
      if (trial) trialRunning = false
    }
  }

  return {
    run,
    get state () { return state === 'open' && now() >= openUntil ? 'half-open' : state },
    retryAfterSeconds
  }
}
