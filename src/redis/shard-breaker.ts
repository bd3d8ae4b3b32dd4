// Skips a Redis node that just failed, so a dead or hung shard costs one command timeout per
// back-off period instead of one per request. A Cluster has a breaker per master: keys on the
// healthy shards keep their shared tier while one shard is away (ioredis itself would queue
// every command for a lost node until its timeout). After the back-off one command probes the
// node; its success closes the breaker, its failure doubles the back-off.
export interface ShardBreaker {
  /** Whether a command may go to the node now (false while it is skipped or being probed). */
  allows: (node: string) => boolean
  succeeded: (node: string) => void
  failed: (node: string) => void
  /** Nodes skipped right now: in back-off, or being probed. */
  readonly skipped: number
}

interface Trip { until: number, backoffMs: number, probing: boolean }

export const FIRST_BACKOFF_MS = 250
export const MAX_BACKOFF_MS = 2000

export function createShardBreaker (now: () => number = Date.now): ShardBreaker {
  const trips = new Map<string, Trip>()
  return {
    allows (node) {
      const trip = trips.get(node)
      if (!trip) return true
      if (trip.probing || now() < trip.until) return false
      trip.probing = true
      return true
    },
    succeeded (node) {
      trips.delete(node)
    },
    failed (node) {
      const previous = trips.get(node)
      // Commands sent before the first failure fail together: one trip, not one doubling each.
      if (previous && !previous.probing) return
      const backoffMs = previous ? Math.min(previous.backoffMs * 2, MAX_BACKOFF_MS) : FIRST_BACKOFF_MS
      trips.set(node, { until: now() + backoffMs, backoffMs, probing: false })
    },
    // A trip past its back-off that no command has probed since counts no more: after a failover
    // the old master's address gets no traffic, and a gauge stuck at 1 would alert for ever.
    get skipped () {
      const t = now()
      let count = 0
      for (const trip of trips.values()) if (trip.probing || t < trip.until) count++
      return count
    }
  }
}
