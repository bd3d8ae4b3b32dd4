// Where MOR answers are translated. Small ones inline: a thread hop would cost more than the
// work. Large ones (a 5,000-device answer takes a noticeable time to parse) in a Piscina worker pool, so one
// big user never stalls every other request's event loop. The pool needs the compiled worker
// file; run from TypeScript sources (the unit tests) everything is translated inline.
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import { OverloadedError } from '../problems/retry-after.js'
import type { TranslateTask } from './translate-worker.js'
import { translateResource, type TranslatedResource } from '../catalogue/translate.js'
import type { Ask, Resource } from '../catalogue/resource.js'

export interface Translator {
  /** A catalogue method's answer to what `ask` asked: small ones inline, large ones in a worker. */
  translateResource: (resource: Resource, body: Buffer, encoding: string | undefined, maxBytes: number, ask: Ask) => Promise<TranslatedResource>
  readonly threaded: boolean
  close: () => Promise<void>
}

/** Above these sizes an answer goes to a worker: ~2 KiB of gzip or ~32 KiB of XML is a few ms of work. */
export const INLINE_MAX_GZIP_BYTES = 2 * 1024
export const INLINE_MAX_PLAIN_BYTES = 32 * 1024

/** Large answers each worker may have waiting: past that, memory would grow with the backlog. */
export const QUEUED_PER_THREAD = 16

const isGzip = (body: Buffer) => body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b

export interface TranslatorOptions {
  /** Worker threads; by default one core stays with the event loop (on 2 cores, one worker). */
  threads?: number | undefined
  /** Tasks that may wait for a worker; QUEUED_PER_THREAD per thread by default. */
  maxQueue?: number
}

export function createTranslator ({ threads = Math.max(1, availableParallelism() - 1), maxQueue = threads * QUEUED_PER_THREAD }: TranslatorOptions = {}): Translator {
  const workerFile = fileURLToPath(new URL('./translate-worker.js', import.meta.url))
  const pool = existsSync(workerFile)
    ? new Piscina<TranslateTask, TranslatedResource>({ filename: workerFile, maxThreads: threads, minThreads: 1, maxQueue, idleTimeout: 60_000 })
    : undefined

  const small = (body: Buffer) => body.length <= (isGzip(body) ? INLINE_MAX_GZIP_BYTES : INLINE_MAX_PLAIN_BYTES)
  function run (task: TranslateTask): Promise<TranslatedResource> {
    return (pool as Piscina).run(task).catch((err: unknown) => {
      // Piscina refuses at once, queuing nothing, when every worker is busy and the queue behind
      // them is full: 503 `overloaded`.
      if (err instanceof Error && err.message === 'Task queue is at limit') throw new OverloadedError()
      throw err
    }) as Promise<TranslatedResource>
  }

  return {
    translateResource (resource, body, encoding, maxBytes, ask) {
      if (!pool || small(body)) return translateResource(resource, body, encoding, maxBytes, ask)
      return run({ resource: resource.name, body, encoding, maxBytes, ask })
    },
    threaded: pool !== undefined,
    close: async () => { await pool?.destroy() }
  }
}
