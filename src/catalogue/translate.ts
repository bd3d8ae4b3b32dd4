// The CPU side of a catalogue method's answer, bytes in, the API's JSON (or MOR's error) out:
// bounded decompression, decoding and the XML checks every MOR answer gets (mor/decode.ts,
// mor/parse.ts), then the entry's fields (or its own reading, for what is a device's alone). Pure
// and self-contained, so a large answer (a month of calls, 5,000 devices) can be translated in the
// worker pool (mor/translate-pool.ts) by the resource's name.
import type { XMLParser } from 'fast-xml-parser'
import { decompressBody, xmlText } from '../mor/decode.js'
import { answerParser, isNode, readPage } from '../mor/parse.js'
import { badResponseDetail, UpstreamBadResponseError } from '../mor/errors.js'
import { at } from './fields.js'
import { serializeList } from '../paging/items.js'
import type { Ask, ReadAnswer, Resource } from './resource.js'

export type TranslatedResource =
  | ({ kind: 'answer' } & ReadAnswer)
  | { kind: 'error', message: string }
  | { kind: 'bad-response', detail: string }

const parsers = new WeakMap<Resource, XMLParser>()
const parserOf = (resource: Resource) => {
  let parser = parsers.get(resource)
  if (parser === undefined) {
    parser = answerParser([...(resource.list === undefined ? [] : [resource.list.tag]), ...(resource.arrays ?? [])])
    parsers.set(resource, parser)
  }
  return parser
}

/** The list's item elements: the first of the list's places that is present; an empty element is an empty list. */
function itemNodes (resource: Resource, page: Record<string, unknown>): unknown[] {
  const list = resource.list
  if (list === undefined) return []
  for (const path of list.at) {
    const node = at(page, path)
    if (node === undefined) continue
    if (node === '') return []
    if (!isNode(node)) break
    const items = node[list.tag] ?? []
    if (!Array.isArray(items)) break
    return items
  }
  throw new UpstreamBadResponseError(`no <${list.tag}> list in <page>`)
}

function answerJson (resource: Resource, page: Record<string, unknown>, empty = false): TranslatedResource {
  const head = resource.readHead(page)
  const { list, readItem } = resource
  if (list === undefined || readItem === undefined) return { kind: 'answer', json: JSON.stringify(head), items: undefined }
  const nodes = empty ? [] : itemNodes(resource, page)
  if (nodes.length > list.maxItems) throw new UpstreamBadResponseError(`more than ${list.maxItems} <${list.tag}> items`)
  // An item without an id cannot be checked against a scope: a scoped list leaves it out.
  const idOf = (item: Record<string, unknown>) => (list.id !== undefined && typeof item[list.id] === 'number' ? item[list.id] as number : undefined)
  const kept = (item: Record<string, unknown>) => list.drop?.(item) !== true && (resource.whose !== 'items' || idOf(item) !== undefined)
  const items = nodes.map((node) => readItem(isNode(node) ? node : {}, page)).filter(kept)
  const { json, index } = serializeList(head, list.key, items, (item) => idOf(item) ?? 0)
  return { kind: 'answer', json, items: index }
}

/** MOR's answer to what `ask` asked of `resource`, translated. */
export async function translateResource (resource: Resource, body: Buffer, contentEncoding: string | undefined, maxBytes: number, ask: Ask): Promise<TranslatedResource> {
  try {
    const xml = xmlText(await decompressBody(body, contentEncoding, maxBytes))
    const answer = readPage(xml, parserOf(resource))
    if (answer.kind === 'error') {
      // "No Users found" is MOR's way of saying the list is empty.
      return resource.mor.empty?.includes(answer.message) === true ? answerJson(resource, {}, true) : answer
    }
    if (resource.read !== undefined) return { kind: 'answer', ...resource.read(answer.page, ask) }
    return answerJson(resource, answer.page)
  } catch (err) {
    if (err instanceof UpstreamBadResponseError) return { kind: 'bad-response', detail: badResponseDetail(err) }
    throw err
  }
}
