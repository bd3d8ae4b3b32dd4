// What the passthrough's two entries (the proxy route and the legacy lane) share, made once by
// plugins/legacy-upstream.ts.
import type { RelayDeps } from './relay-call.js'

export interface Passthrough {
  relay: RelayDeps
  /** MOR's origin; the Host sent upstream is its host. */
  origin: URL
  /** MOR_URL's path + /api: the only path prefix forwarded. */
  apiPrefix: string
  /** LEGACY_ALLOW_CIDRS as a predicate on the client's address, if configured. */
  allowed: ((ip: string) => boolean) | undefined
  /** Counts a call whose client left before the answer ended (info, never an upstream failure). */
  clientGone: () => void
}
