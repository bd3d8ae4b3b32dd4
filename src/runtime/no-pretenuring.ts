// Turns off V8's allocation-site pretenuring for the process, before the gateway allocates.
//
// Why: V8 watches each object or array literal and, when every object from one literal survived a
// young-generation collection (a burst at start-up does it), allocates that literal's objects in the
// old generation from then on. A relayed request's small records (its call, its dispatch options,
// its header lists) were among them: each, dead as soon as its answer is sent, still pointed at the
// request's young objects, and the young collector treats every old-to-young pointer as live. So
// every scavenge under a passthrough load promoted 1.6 to 2.8 MB of dead requests (0.07 MB
// without), paused 5 to 8 ms instead of 1, and a full collection had to clear them every two
// seconds: 13 to 38% more CPU per relayed answer, in five paired rounds out of five. The
// measurements: docs/benchmarks.md (2026-12-07). What the gateway keeps for long (cache entries)
// is created at a miss's pace, so copying it once costs little.
//
// A V8 flag set at run time: V8 reads this one at every collection, and nothing has been
// pretenured yet when this module runs (server.ts imports it first).
import { setFlagsFromString } from 'node:v8'

export const V8_FLAGS = ['--no-allocation-site-pretenuring'] as const

for (const flag of V8_FLAGS) setFlagsFromString(flag)
