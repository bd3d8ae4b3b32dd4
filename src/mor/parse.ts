// Reads MOR's XML into its answer's <page> or MOR's error text, and a devices_get <page> into its
// raw <device> records. Upstream XML is untrusted: DOCTYPE (the carrier of entity-expansion
// attacks) is refused, the document must be well formed (a truncated answer must not pass as a
// shorter device list), and only the shapes MOR is known to send are accepted.
import { XMLParser, XMLValidator, type X2jOptions } from 'fast-xml-parser'
import { UpstreamBadResponseError } from './errors.js'

export type RawDevice = Record<string, unknown>

const OPTIONS: X2jOptions = {
  ignoreAttributes: true,
  parseTagValue: false, // "0101" and "5060" stay strings; the mapper decides what is a number
  trimValues: true, // also drops the trailing spaces old MOR revisions pad values with
  processEntities: true,
  htmlEntities: true // numeric references such as &#233; too
}

const DOCTYPE = /<!DOCTYPE/i

/** Throws for XML with a DOCTYPE (the carrier of entity-expansion attacks): no MOR answer has one. */
export function refuseDoctype (xml: string): void {
  if (DOCTYPE.test(xml)) throw new UpstreamBadResponseError('XML with a DOCTYPE declaration is refused')
}
// The XML API Extension's `<head></head><body>...</body>` has two roots, which strict XML refuses.
const HTML_WRAPPED = /^\s*(?:<\?xml[^>]*>\s*)?<(?:head|body)[\s>/]/

function checkWellFormed (xml: string): void {
  let valid = XMLValidator.validate(xml)
  if (valid !== true && HTML_WRAPPED.test(xml)) valid = XMLValidator.validate(`<wrapper>${xml}</wrapper>`)
  // The parser's own message names tags, never values, so it may go to the log as the cause.
  if (valid !== true) throw new UpstreamBadResponseError('malformed XML', { cause: new Error(`${valid.err.msg} (line ${valid.err.line})`) })
}

type Node = Record<string, unknown>
export const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Where MOR's answer sits: the root, or the <body> of the "XML API Extension" HTML wrapper. */
function answerRoot (doc: Node): Node {
  if ('page' in doc || 'error' in doc) return doc
  const body = isNode(doc.html) ? doc.html.body : doc.body
  return isNode(body) ? body : doc
}

function errorText (value: unknown): string | undefined {
  if (typeof value === 'string') return value
  return undefined
}

export type XmlNode = Node
export type Page = { kind: 'page', page: Node } | { kind: 'error', message: string }

/**
 * A parser for a MOR answer in which each of `listTags` is always a list, one element or many
 * (<device>, <codec>). Any other repeated element becomes an array, which the fields read as
 * malformed (null).
 */
export const answerParser = (listTags: readonly string[]) => new XMLParser({ ...OPTIONS, isArray: (tagName) => listTags.includes(tagName) })

/** The checks and error shapes every MOR answer shares; returns the success <page> or MOR's error. */
export function readPage (xml: string, parser: XMLParser): Page {
  refuseDoctype(xml)
  checkWellFormed(xml)
  let doc: Node
  try {
    doc = parser.parse(xml) as Node
  } catch (err) {
    // e.g. nesting deeper than the parser's limit: well formed, but not a MOR answer.
    throw new UpstreamBadResponseError('malformed XML', { cause: err })
  }

  const root = answerRoot(doc)
  const bare = errorText(root.error)
  if (bare !== undefined) return { kind: 'error', message: bare }

  const page = root.page
  if (!isNode(page)) throw new UpstreamBadResponseError('neither <page> nor <error> in the XML')

  const pageError = errorText(isNode(page.status) ? page.status.error : page.error)
  if (pageError !== undefined) return { kind: 'error', message: pageError }
  return { kind: 'page', page }
}

/** The raw <device> records of a devices_get <page> (read with <device> always a list). */
export function deviceNodes (page: Node): RawDevice[] {
  const devices = page.devices
  if (devices === '') return [] // <devices/> or <devices></devices>
  if (!isNode(devices)) throw new UpstreamBadResponseError('no <devices> list in <page>')
  const list = devices.device ?? []
  if (!Array.isArray(list)) throw new UpstreamBadResponseError('unexpected <device> shape')
  return list.map((d) => (isNode(d) ? d : {}))
}
