// How late the event loop ran over one sampling window: the reading behind load shedding
// (plugins/load-shedding.ts). Pure, so the rule for a window without ticks is tested on its own.

/** What one window left: Node's event-loop-delay histogram (nanoseconds) and the sampling timer's lateness. */
export interface LoopWindow {
  /** Ticks the histogram measured in the window. */
  count: number
  /** Their mean delay in nanoseconds (NaN when count is 0). */
  meanNs: number
  /** How much later than due the timer that closes the window fired, in ms. */
  lateMs: number
}

/**
 * The window's event-loop delay in ms: the histogram's mean less its own resolution (a tick is
 * due every `resolutionMs`, so that much is no delay), as @fastify/under-pressure reads it.
 *
 * A window without a measured tick is not an infinite delay, as under-pressure reads it: the
 * histogram's first tick after it is enabled only starts its clock, so a start that keeps the loop
 * busy longer than a window leaves one empty, and under-pressure then sheds the first second of a
 * freshly started gateway on a loaded machine. The loop was in fact as late as the timer that
 * closes the window, so that lateness is the reading; a loop blocked for seconds still reads as
 * seconds late.
 */
export function windowDelayMs ({ count, meanNs, lateMs }: LoopWindow, resolutionMs: number): number {
  if (count === 0 || !Number.isFinite(meanNs)) return Math.max(0, lateMs)
  return Math.max(0, meanNs / 1e6 - resolutionMs)
}
