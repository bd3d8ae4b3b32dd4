// Runs in a Piscina worker thread: translates one large MOR answer off the main event loop, by
// its catalogue entry's name (an entry's functions cannot cross the thread boundary; its name can).
import { translateResource, type TranslatedResource } from '../catalogue/translate.js'
import { resourceNamed } from '../catalogue/catalogue.js'
import type { Ask } from '../catalogue/resource.js'

export interface TranslateTask {
  /** The catalogue resource's name. */
  resource: string
  body: Uint8Array
  encoding: string | undefined
  maxBytes: number
  /** What the request asked (its id and query): plain data. */
  ask: Ask
}

export default function translate (task: TranslateTask): Promise<TranslatedResource> {
  const body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength)
  const resource = resourceNamed(task.resource)
  if (resource === undefined) throw new Error(`no catalogue resource ${task.resource}`)
  return translateResource(resource, body, task.encoding, task.maxBytes, task.ask)
}
