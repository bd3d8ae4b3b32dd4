// One relayed call as undici's dispatch handler: MOR's answer written to the client with
// backpressure, and every way the call can end decided in one place (relay.ts says which). For a
// write, MOR's answer is also kept (bounded), read on without its client, and held back until the
// cache has followed what it says.
import type { ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import { responseHeaders } from './headers.js'
import { ClientGoneError, upstreamError } from './errors.js'
import type { RelayCall, RelayDeps, Write } from './relay-call.js'
import { WRITE_ANSWER_MAX_BYTES, writeOutcome, type WriteOutcome } from './write-answer.js'

/**
 * Writes the answer's head: the gateway's headers, then MOR's. Headers already set on the response
 * (X-Request-Id, by the front door for the route's answers) stand; the rest are appended one by one, because once any header
 * is set, Node's writeHead sets each name of a list once, and only the last of MOR's Set-Cookie
 * lines would be sent.
 */
function writeAnswerHead (res: ServerResponse, status: number, headers: string[]): void {
  const preset = res.getHeaderNames()
  // Nothing set before (the legacy lane's answers): one list, the cheap way.
  if (preset.length === 0) {
    res.writeHead(status, headers)
    return
  }
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as string
    if (!preset.includes(name)) res.appendHeader(name, headers[i + 1] as string)
  }
  res.writeHead(status)
}

/**
 * One call as undici's dispatch handler. A class rather than a literal of closures: its methods
 * are shared, so a call allocates one object.
 */
export class Relay implements Dispatcher.DispatchHandler {
  status = 0
  abort: ((err?: Error) => void) | undefined = undefined
  resume: (() => void) | undefined = undefined
  /** Set when the gateway fails the call before undici has connected it. */
  pending: Error | undefined = undefined
  /** The answer has begun: from here on a failure cuts the connection. */
  started = false
  ended = false
  /** The client left during a write: MOR's answer is still read to its end, and dropped. */
  away = false
  /**
   * A write's answer, kept (up to WRITE_ANSWER_MAX_BYTES) to see whether MOR carried it out, and
   * held back from the client until the cache has followed: whoever reads next reads the write.
   * Past the bound it streams on, and confirms nothing.
   */
  copy: Buffer[] | undefined = undefined
  copied = 0
  holding = false
  encoding: string | undefined = undefined

  constructor (readonly res: ServerResponse, readonly call: RelayCall, readonly deps: RelayDeps, readonly write: Write | undefined) {
    if (write) {
      this.copy = []
      this.holding = true
    }
  }

  onConnect (abort: (err?: Error) => void): void {
    this.abort = abort
    if (this.pending) abort(this.pending)
  }

  onHeaders (statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200 || statusCode > 599) {
      this.abort?.(new Error(`MOR answered with status ${statusCode}`))
      return false
    }
    this.status = statusCode
    if (this.copy) this.encoding = headerOf(rawHeaders, 'content-encoding')
    if (this.res.destroyed) {
      if (this.write) {
        this.away = true
        return true
      }
      this.abort?.(new ClientGoneError())
      return false
    }
    this.call.onStart()
    this.started = true
    // Node sends the head with the first body bytes, so a held answer holds its head too.
    writeAnswerHead(this.res, statusCode, responseHeaders(this.call.answerHeaders(), rawHeaders))
    this.resume = resume
    return true
  }

  onData (chunk: Buffer): boolean {
    if (this.copy && this.copied <= WRITE_ANSWER_MAX_BYTES) {
      this.copy.push(Buffer.from(chunk))
      this.copied += chunk.length
      if (this.holding) {
        if (this.copied <= WRITE_ANSWER_MAX_BYTES) return true
        // Longer than any confirmation: what was held goes out, and the rest streams.
        this.holding = false
        return this.forward(Buffer.concat(this.copy))
      }
    }
    return this.forward(chunk)
  }

  private forward (chunk: Buffer): boolean {
    if (this.away) {
      // Read on for the cache's sake only while the answer can still confirm the write.
      if (this.copied > WRITE_ANSWER_MAX_BYTES) this.abort?.(new ClientGoneError())
      return true
    }
    if (this.res.write(chunk)) return true
    // The client reads slower than MOR sends: MOR's side waits until the client has caught up.
    if (this.resume) this.res.once('drain', this.resume)
    return false
  }

  onComplete (): void {
    if (this.away) {
      this.end('gone')
      this.settleWrite(true).catch(() => {})
    } else if (this.holding) {
      // MOR's whole answer is here: the cache follows it first, then the client gets it.
      this.settleWrite(true).catch(() => {}).finally(() => {
        if (this.res.destroyed) return this.end('gone')
        for (const chunk of this.copy ?? []) this.res.write(chunk)
        this.res.end()
        this.end('answered')
      })
    } else {
      this.res.end()
      this.end('answered')
      this.settleWrite(true).catch(() => {})
    }
  }

  onError (err: Error): void {
    if (err instanceof ClientGoneError || this.res.destroyed) {
      this.end('gone')
    } else if (this.started) {
      this.res.destroy(err)
      this.end('cut')
    } else {
      this.end(undefined)
      // The gateway's own errors (too large, too slow a sender) carry their status; undici's do not.
      this.call.onFailure('statusCode' in err ? err : upstreamError(err, this.deps.timeoutMs))
    }
    this.settleWrite(false).catch(() => {})
  }

  /** The gateway ends the call (the client left, a limit was hit); a write goes on without its client. */
  fail (err: Error): void {
    if (this.write && err instanceof ClientGoneError) {
      this.away = true
      // Waiting for a drain that will never come: MOR's side reads on.
      this.resume?.()
    } else if (this.abort) {
      this.abort(err)
    } else {
      this.pending = err
    }
  }

  /** What MOR's answer says of the write, once it has ended (`complete`: it ended whole), and the cache following it. */
  private async settleWrite (complete: boolean): Promise<void> {
    const { write, copy } = this
    if (!write || !copy) return
    const outcome = await writeOutcome(write.method, this.status, Buffer.concat(copy), complete && this.copied <= WRITE_ANSWER_MAX_BYTES, this.encoding)
      .catch((): WriteOutcome => 'unconfirmed')
    await this.deps.onWriteAnswered(write, outcome, this.call.requestId)
  }

  private end (outcome: 'answered' | 'cut' | 'gone' | undefined): void {
    if (this.ended) return
    this.ended = true
    this.deps.gate.leave()
    if (outcome) this.call.onEnd(outcome)
  }
}

/** One header's value from undici's raw name, value list. */
function headerOf (rawHeaders: Buffer[], name: string): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toString('latin1').toLowerCase() === name) return rawHeaders[i + 1]?.toString('latin1')
  }
  return undefined
}
