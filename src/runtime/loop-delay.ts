// How late the event loop ran over one sampling window: the reading behind load shedding
// (plugins/load-shedding.ts). Pure, so the rule for a window without ticks is tested on its own.

/** What one window left: Node's event-loop-delay histogram (nanoseconds) and the sampling timer's timing. */
export interface LoopWindow {
  /** Ticks the histogram measured in the window. */
  count: number
  /** Their mean delay in nanoseconds (NaN when count is 0). */
  meanNs: number
  /** How long the window was meant to last, in ms. */
  windowMs: number
  /** How much later than due the timer that closes the window fired, in ms. */
  lateMs: number
}

/**
 * The window's event-loop delay in ms: the histogram's mean less its own resolution (a tick is
 * due every `resolutionMs`, so that much is no delay), as @fastify/under-pressure reads it.
 *
 * A window without a measured tick is a loop that did not turn for the whole window: the
 * histogram's first tick after a reset only starts its clock, so a loop held from the window's
 * start to its end leaves it empty. Its delay is then the window's whole length, as late as the
 * timer that closes it fired. (under-pressure reads it as infinite; that is the same decision for
 * every threshold below a window, which is what matters here: the gateway starts measuring only
 * once it is ready, so a slow start is not such a window.)
 */
export function windowDelayMs ({ count, meanNs, windowMs, lateMs }: LoopWindow, resolutionMs: number): number {
  if (count === 0 || !Number.isFinite(meanNs)) return windowMs + Math.max(0, lateMs)
  return Math.max(0, meanNs / 1e6 - resolutionMs)
}
