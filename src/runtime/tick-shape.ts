// Keeps one entry of Node's nextTick queue alive for the life of the process, so that V8 keeps
// the hidden classes every later entry is built with.
//
// Why: Node 20 builds each entry as an object literal keyed by two symbols, and Node's HTTP and
// stream code queues about five of them per request. V8 holds a chain of hidden classes only as
// long as some object uses it. Entries live for microseconds, so a full GC that finds none alive
// drops the chain, and the next entries get new hidden classes. After a few such GCs, the stores in
// `process.nextTick` stop being optimised and take V8's runtime path (TransitionToDataProperty,
// MigrateToMap) for good.
// A plain HTTP server has no full GCs under load, so it never pays this. The gateway's larger heap
// does. Measured with `perf` under a fixed 15,000 req/s of cache hits: that path took about 4% of
// the gateway's CPU in 8 of 8 starts, and 0% in 3 of 3 starts with this module. CPU per hit fell
// by about 16% (median of 7 alternating rounds, 47 µs to 39.5 µs on a noisy machine).
// The async hook is on for a single nextTick call, here, at startup.
import { createHook } from 'node:async_hooks'

function keepOneTickEntry (): object | undefined {
  let kept: object | undefined
  const hook = createHook({
    init (_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject') kept ??= resource
    }
  }).enable()
  try {
    process.nextTick(() => {})
  } finally {
    hook.disable()
  }
  return kept
}

/** The kept entry (undefined if this Node version queues ticks another way; nothing is lost then). */
export const keptTickEntry = keepOneTickEntry()
