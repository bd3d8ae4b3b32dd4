// How many passthrough calls may be under way at once: the pool's connections plus a bounded
// queue. undici's pool queues without limit, so without this a stalled MOR (or clients holding
// connections) would let waiting calls, and their memory, grow until the process falls over.
// Over the bound a client gets 503 at once, which it can retry, instead of an unbounded wait.

export interface Gate {
  /** Takes a place; false when every place is taken. */
  enter: () => boolean
  leave: () => void
  readonly inUse: number
}

export function createGate (places: number): Gate {
  let inUse = 0
  return {
    enter () {
      if (inUse >= places) return false
      inUse++
      return true
    },
    leave () { if (inUse > 0) inUse-- },
    get inUse () { return inUse }
  }
}
