// Errors that tell the client when to come back: the problems handler turns `retryAfter` into a
// Retry-After header, so no route sets it by hand.
import type { ProblemSlug } from './catalog.js'
import { gatewayError } from './gateway-error.js'

/** A Fastify error class whose instances carry Retry-After seconds (and may quote them with %d). */
export function retryAfterError (problem: ProblemSlug, code: string, message: string, statusCode: number) {
  const Base = gatewayError(problem, code, message, statusCode)
  return class extends Base {
    readonly retryAfter: number
    constructor (retryAfter: number) {
      // Only a message that quotes the seconds gets them: util.format appends unused arguments.
      super(...(message.includes('%') ? [retryAfter] : []))
      this.retryAfter = retryAfter
    }
  }
}

/**
 * The gateway sheds load: its event loop is saturated (plugins/load-shedding.ts), or every translation
 * worker is busy with its queue full. One second is long enough for either to drain.
 */
export class OverloadedError extends retryAfterError('overloaded', 'GATEWAY_OVERLOADED', 'The gateway is overloaded; retry shortly', 503) {
  constructor () {
    super(1)
  }
}
