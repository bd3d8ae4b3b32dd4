// Who is calling /v1, once authenticated: an API key (named in the key file, else known by its
// derived id) or a JWT's subject. Everything downstream reads this one shape: the scope check,
// the rate limit, the access log and the per-caller metric.
import type { Scope } from './scope.js'

export interface Caller {
  /** What the rate limit counts by: `key:<name or id>`, or `jwt:<sub>`. Never a metric label. */
  readonly rateKey: string
  /**
   * What logs and metrics show: the key's name (bounded: names come from the key file), its id,
   * or `jwt` for every token (subjects are unbounded, so they never become labels).
   */
  readonly label: string
  /** The MOR users this caller may read. */
  readonly scope: Scope
  /** Requests per minute; undefined: RATE_LIMIT_PER_MINUTE. */
  readonly rate: number | undefined
}
