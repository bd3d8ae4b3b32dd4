// Load shedding: while the event loop's mean delay over the last second is past
// MAX_EVENT_LOOP_DELAY_MS, every route but those that opt out answers `503 overloaded` with
// Retry-After instead of queueing more work, and the lanes stand aside (app.ts `accepting`).
//
// Why not @fastify/under-pressure, which did this before: it reads a second without a measured
// event-loop tick as an infinite delay, and it starts measuring when it is registered, so on a
// loaded machine a freshly started gateway shed its first second (every request 503 right after
// /health/live said it was up). Here measuring starts once the app is ready; a window without
// ticks still reads as a held loop, as long as the window and the closing timer's lateness
// (runtime/loop-delay.ts).
import { monitorEventLoopDelay } from 'node:perf_hooks'
import fp from 'fastify-plugin'
import { OverloadedError } from '../problems/retry-after.js'
import { windowDelayMs } from '../runtime/loop-delay.js'

/** The histogram's tick, in ms: Node's default and under-pressure's. */
const RESOLUTION_MS = 10
/** One reading a second: a saturated loop is shed within about a second, and released as soon. */
const WINDOW_MS = 1000

declare module 'fastify' {
  interface FastifyInstance {
    /** The event loop's delay over the last whole window, in ms (0 until the first window ends). */
    eventLoopDelay: () => number
    /** True while that delay is past MAX_EVENT_LOOP_DELAY_MS. */
    overloaded: () => boolean
  }
  interface FastifyContextConfig {
    /** False: the route answers even while the gateway sheds load (liveness: a busy process is alive). */
    shedsLoad?: false
  }
}

export default fp<{ maxEventLoopDelayMs: number }>(async (fastify, { maxEventLoopDelayMs }) => {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  let delayMs = 0
  let timer: NodeJS.Timeout | undefined
  let due = 0

  const sample = (): void => {
    const now = performance.now()
    delayMs = windowDelayMs({ count: histogram.count, meanNs: histogram.mean, windowMs: WINDOW_MS, lateMs: now - due }, RESOLUTION_MS)
    histogram.reset()
    due = now + WINDOW_MS
    timer?.refresh()
  }

  const overloaded = () => delayMs > maxEventLoopDelayMs
  fastify.decorate('eventLoopDelay', () => delayMs)
  fastify.decorate('overloaded', overloaded)

  // The start's own work (plugins, schemas, workers) is not load: it is not measured.
  fastify.addHook('onReady', async () => {
    histogram.enable()
    due = performance.now() + WINDOW_MS
    timer = setTimeout(sample, WINDOW_MS).unref()
  })
  fastify.addHook('onClose', async () => {
    clearTimeout(timer)
    histogram.disable()
  })

  fastify.addHook('onRequest', (request, _reply, done) => {
    if (overloaded() && request.routeOptions.config.shedsLoad !== false) {
      done(new OverloadedError())
      return
    }
    done()
  })
}, { name: 'load-shedding' })
