// How the simulator reads a call's parameters: as MOR's Rails does, from the query string and a
// body of any type Rails parses (form, multipart, JSON), whatever its framing, through the same
// merge the gateway uses (src/rails/params.ts; the query string wins on a name in both), then each
// value as an action reading `params[:x].to_s` sees it. The body read is bounded, as the web
// server in front of MOR bounds it.
import type { IncomingMessage } from 'node:http'
import { railsParams, type RailsParams, type RailsValue } from '../rails/params.js'

/** Past this a body is refused with 413, as nginx's client_max_body_size does in front of Rails. */
export const MAX_BODY_BYTES = 64 * 1024

/** A call's parameters as MOR's actions read them. */
export interface SimParams {
  /** `params[:name].to_s` for a scalar (a JSON 12 reads "12", null ""); undefined when absent or nested. */
  get: (name: string) => string | undefined
  /** Whether the value is an array or a hash: no MOR API parameter takes one, so none is valid. */
  nested: (name: string) => boolean
}

/** MOR's parameters, or why Rails refuses the body (e.g. broken JSON) and answers 400 before any action runs. */
type Parsed = { kind: 'params', params: SimParams } | { kind: 'unparsable', reason: string }

/** Parsed, or a body over MAX_BODY_BYTES, which MOR never sees. */
export type ReadOutcome = Parsed | { kind: 'too-large' }

const TOO_LARGE = Symbol('too large')

/** The body as sent, null when the request has none, TOO_LARGE past the bound (left unread). */
function readBody (req: IncomingMessage): Promise<Buffer | null | typeof TOO_LARGE> {
  const declared = req.headers['content-length']
  if (declared === undefined && req.headers['transfer-encoding'] === undefined) return Promise.resolve(null)
  if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) return Promise.resolve(TOO_LARGE)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk)
        return
      }
      req.off('data', onData)
      resolve(TOO_LARGE)
    }
    req.on('data', onData)
    req.once('end', () => resolve(Buffer.concat(chunks, size)))
    req.once('error', reject)
  })
}

const isNested = (value: RailsValue | undefined) => typeof value === 'object' && value !== null

function simParams (params: RailsParams): SimParams {
  const own = (name: string) => (Object.hasOwn(params, name) ? params[name] : undefined)
  return {
    get: (name) => {
      const value = own(name)
      if (value === undefined || isNested(value)) return undefined
      return value === null ? '' : String(value)
    },
    nested: (name) => isNested(own(name))
  }
}

function parse (query: string, body: Buffer | null, contentType: string | undefined, httpMethod: string): Parsed {
  const result = railsParams(query, body, contentType, httpMethod)
  return result.ok ? { kind: 'params', params: simParams(result.params) } : { kind: 'unparsable', reason: result.reason }
}

// railsParams follows Rack byte for byte and costs several times what URLSearchParams did. The
// benchmark, and a gateway under load, send the same few short calls again and again, so each
// simulator keeps its last parses: railsParams is a pure function of these four inputs.
const PARSES_KEPT = 64
const MEMO_MAX_BODY = 1024

export type ParamsReader = (req: IncomingMessage, query: string) => Promise<ReadOutcome>

/** A reader of the merged parameters of a call to one of MOR's methods (`query`: the query string without `?`). */
export function createParamsReader (): ParamsReader {
  const parses = new Map<string, Parsed>()
  return async (req, query) => {
    const body = await readBody(req)
    if (body === TOO_LARGE) return { kind: 'too-large' }
    const contentType = req.headers['content-type']
    const httpMethod = req.method ?? 'GET'
    if (body !== null && body.length > MEMO_MAX_BODY) return parse(query, body, contentType, httpMethod)
    // Neither a method, a header nor a request target holds a line feed: the key is unambiguous.
    const key = `${httpMethod}\n${contentType ?? ''}\n${query}\n${body === null ? '-' : `+${body.toString('latin1')}`}`
    let parsed = parses.get(key)
    if (parsed === undefined) {
      parsed = parse(query, body, contentType, httpMethod)
      if (parses.size >= PARSES_KEPT) parses.delete(parses.keys().next().value as string)
      parses.set(key, parsed)
    }
    return parsed
  }
}
