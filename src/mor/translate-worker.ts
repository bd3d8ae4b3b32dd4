// Runs in a Piscina worker thread: translates one large MOR answer off the main event loop.
import { translateToJson, type TranslatedAnswer } from './translate.js'
import { translateResource, type TranslatedResource } from '../catalogue/translate.js'
import { resourceNamed } from '../catalogue/catalogue.js'

export interface TranslateTask {
  /** A catalogue resource's name; absent: a devices_get answer. */
  resource?: string
  body: Uint8Array
  encoding: string | undefined
  maxBytes: number
}

export default function translate (task: TranslateTask): Promise<TranslatedAnswer | TranslatedResource> {
  const body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength)
  if (task.resource === undefined) return translateToJson(body, task.encoding, task.maxBytes)
  const resource = resourceNamed(task.resource)
  if (resource === undefined) throw new Error(`no catalogue resource ${task.resource}`)
  return translateResource(resource, body, task.encoding, task.maxBytes)
}
