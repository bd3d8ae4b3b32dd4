// Runs in a Piscina worker thread: translates one large MOR answer off the main event loop.
import { translateToJson, type TranslatedAnswer } from './translate.js'

export interface TranslateTask {
  body: Uint8Array
  encoding: string | undefined
  maxBytes: number
}

export default function translate (task: TranslateTask): Promise<TranslatedAnswer> {
  return translateToJson(Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength), task.encoding, task.maxBytes)
}
