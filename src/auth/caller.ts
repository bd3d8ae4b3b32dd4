// Who is calling /v1, once authenticated: an API key (named in the key file, else known by its
// derived id) or a JWT's subject. Everything downstream reads this one shape: the scope and write
// checks, the rate limit, the access log and the per-caller metric.
import { isEveryUser, type Scope } from './scope.js'

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
  /**
   * May create, update and delete devices of the users in its scope. Granted only where asked for
   * (a key file's `access=read,write`, a token's `devices:write` scope): a key handed to a
   * read-only frontend must not be able to change devices.
   */
  readonly write: boolean
  /** Requests per minute; undefined: RATE_LIMIT_PER_MINUTE. */
  readonly rate: number | undefined
}

/**
 * The one authorization decision, for the route and the hit lane alike: may this caller read this
 * user? Asked before any cache lookup or call to MOR, so the answer is the same whether or not the
 * user exists. Without authentication (AUTH_DISABLED) every user may be read.
 */
export function mayRead (caller: Caller | undefined, userId: number): boolean {
  return caller === undefined || caller.scope.has(userId)
}

/**
 * May this caller read a device of this owner? A device is read through its owner's scope; one
 * whose owner MOR does not name (old MOR revisions) only by a caller who may read every user.
 */
export function mayReadDevice (caller: Caller | undefined, owner: number | null): boolean {
  if (owner === null) return caller === undefined || isEveryUser(caller.scope)
  return mayRead(caller, owner)
}

/**
 * May this caller create, update or delete devices at all? Whose devices is still its scope's
 * question (mayRead), asked as well. Without authentication (AUTH_DISABLED) everyone may, as
 * everyone may read every user: that setting already means the MOR API secret's full access.
 */
export function mayWrite (caller: Caller | undefined): boolean {
  return caller === undefined || caller.write
}
