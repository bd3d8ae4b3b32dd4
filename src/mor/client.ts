// The MOR HTTP client: one keep-alive undici Pool per upstream, signed form-body POSTs, bounded
// reads, and every failure turned into one of the typed errors in errors.ts. Every read method is a
// catalogue entry (catalogue/), called and translated by its description through one request path.
import { Pool, errors as undiciErrors } from 'undici'
import type { Config } from '../config.js'
import { signSent } from './sign.js'
import type { Ask, MorMethod, ReadAnswer, Resource } from '../catalogue/resource.js'
import { createTranslator, type Translator } from './translate-pool.js'
import { decompressBody, xmlText } from './decode.js'
import { refuseDoctype } from './parse.js'
import {
  readWriteAnswer, signedWrite, WRITE_ANSWER_MAX_DECODED_BYTES, type DeviceCreateParam, type DeviceUpdateParam, type DeviceWriteMethod, type WriteAnswer
} from './device-writes.js'
import { childOf, traced, type Span, type TraceScope } from '../tracing/tracer.js'
import { formatTraceparent } from '../tracing/trace-context.js'
import { UpstreamBadResponseError, UpstreamTimeoutError, UpstreamUnavailableError, rejectedError, unreachableReason } from './errors.js'

export type MorSettings = Config['mor']

export interface MorClient {
  /**
   * A catalogue method's answer as the API's JSON text (with a list's index, and the owner device
   * details name), for what `ask` asks; throws UserNotFoundError (DeviceNotFoundError for a
   * device's method) for MOR's not-found texts, or another typed upstream error.
   */
  getResource: (resource: Resource, ask: Ask, trace?: TraceScope) => Promise<ReadAnswer>
  /**
   * The device writes, one call each and never retried: a write may have been carried out even
   * when its answer was lost. Resolves with what MOR said (done, or refused and why); throws a
   * typed upstream error when no usable answer came, including one that says neither.
   */
  createDevice: (userId: number, fields: Partial<Record<DeviceCreateParam, string>>, trace?: TraceScope) => Promise<WriteResult>
  updateDevice: (deviceId: number, fields: Partial<Record<DeviceUpdateParam, string>>, trace?: TraceScope) => Promise<WriteResult>
  deleteDevice: (deviceId: number, trace?: TraceScope) => Promise<WriteResult>
  close: () => Promise<void>
}

/** MOR's answer to a write that said something certain. */
export type WriteResult = Exclude<WriteAnswer, { kind: 'unknown' }>

const POOL_CONNECTIONS = 64

interface RawAnswer { body: Buffer, encoding: string | undefined }
type FailedAnswer = { kind: 'error', message: string } | { kind: 'bad-response', detail: string }

async function readBounded (body: AsyncIterable<Buffer>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.length
    if (size > maxBytes) throw new UpstreamBadResponseError(`body exceeds ${maxBytes} bytes`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, size)
}

/** The fields that are set: one left out is not sent at all (for MOR, an empty one means something). */
function defined (fields: Partial<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) out[name] = value
  return out
}

function isTimeout (err: unknown): boolean {
  return err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError
}

export function createMorClient (settings: MorSettings, translator: Translator = createTranslator()): MorClient {
  const base = new URL(settings.baseUrl)
  const apiBase = base.pathname.replace(/\/+$/, '') + '/api/'
  const pool = new Pool(base.origin, {
    connections: POOL_CONNECTIONS,
    connectTimeout: settings.timeoutMs,
    headersTimeout: settings.timeoutMs,
    bodyTimeout: settings.timeoutMs
  })

  async function post (method: string, params: Record<string, string>, signal: AbortSignal, trace: Record<string, string>): Promise<RawAnswer> {
    const form = new URLSearchParams({ u: settings.user, ...params })
    if (settings.password !== undefined) form.set('p', settings.password)
    const res = await pool.request({
      path: apiBase + method,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-encoding': 'gzip', accept: 'application/xml, text/xml, */*', ...trace },
      body: form.toString(),
      signal
    })
    if (res.statusCode < 200 || res.statusCode > 299) {
      res.body.resume() // discard, so the connection can be reused
      throw new UpstreamBadResponseError(`HTTP status ${res.statusCode}`)
    }
    const length = Number(res.headers['content-length'])
    if (length > settings.maxBytes) {
      // undici's body reports its own destruction as an AbortError event: nobody else listens now.
      res.body.on('error', () => {}).destroy()
      throw new UpstreamBadResponseError(`body exceeds ${settings.maxBytes} bytes`)
    }
    const encoding = res.headers['content-encoding']
    return { body: await readBounded(res.body, settings.maxBytes), encoding: Array.isArray(encoding) ? encoding.join(',') : encoding }
  }

  /** The trace headers of a call under `span`: W3C Trace Context, and the request's id. */
  function traceHeaders (span: Span | undefined, trace: TraceScope | undefined): Record<string, string> {
    if (!span || !trace) return {}
    const headers: Record<string, string> = { traceparent: formatTraceparent(span.context), 'x-request-id': trace.requestId }
    if (span.context.traceState !== undefined) headers.tracestate = span.context.traceState
    return headers
  }

  /**
   * One signed call to an API method (u, and p when set, are added here), failures typed; under
   * `trace`, a client span whose id the call carries as its traceparent. Parameters are not
   * recorded: they include the hash.
   */
  async function exchange (method: string, params: Record<string, string>, trace: TraceScope | undefined): Promise<RawAnswer> {
    const span = trace && childOf(trace, `MOR ${method}`, 'client', { 'http.request.method': 'POST', 'server.address': base.hostname, 'url.path': apiBase + method }).span
    const signal = AbortSignal.timeout(settings.timeoutMs)
    try {
      return await post(method, params, signal, traceHeaders(span, trace))
    } catch (err) {
      const typed = err instanceof UpstreamBadResponseError
        ? err
        : signal.aborted || isTimeout(err)
          ? new UpstreamTimeoutError(settings.timeoutMs, { cause: err })
          : new UpstreamUnavailableError(unreachableReason((err as { code?: string }).code), { cause: err })
      span?.fail(typed.message)
      throw typed
    } finally {
      span?.end()
    }
  }

  /** A failed answer as its typed error: one of the method's own "not found" texts, or a rejection. */
  function failure (answer: FailedAnswer, method: MorMethod, notFound: () => Error): Error {
    if (answer.kind === 'bad-response') return new UpstreamBadResponseError(answer.detail)
    return method.notFound.includes(answer.message) ? notFound() : rejectedError(answer.message)
  }

  /** A read call's parameters with MOR's hash of them, by the method's description. */
  function signed (method: MorMethod, params: Record<string, string>): Record<string, string> {
    return { ...params, hash: signSent(method.hashed, { u: settings.user, p: settings.password, ...params }, settings.secret) }
  }

  async function getResource (resource: Resource, ask: Ask, trace?: TraceScope): Promise<ReadAnswer> {
    const raw = await exchange(resource.mor.name, signed(resource.mor, resource.params(ask, Date.now())), trace)
    // Translated by the pool (inline, or in a worker when large), under its own span.
    const attributes = { 'mor.answer.bytes': raw.body.length, 'mor.translation.threaded': translator.threaded }
    const answer = await traced(trace, 'MOR answer translation', 'internal', attributes, () => translator.translateResource(resource, raw.body, raw.encoding, settings.maxBytes, ask))
    if (answer.kind === 'answer') return { json: answer.json, items: answer.items, owner: answer.owner }
    throw failure(answer, resource.mor, () => resource.notFound(ask))
  }

  /**
   * One signed write. Its parameters (a pin, a password) and MOR's answer (a new device's SIP
   * password) stay here: only what readWriteAnswer keeps leaves.
   */
  async function write (method: DeviceWriteMethod, params: Record<string, string>, trace: TraceScope | undefined): Promise<WriteResult> {
    const raw = await exchange(method, signedWrite(method, params, settings.secret), trace)
    const xml = xmlText(await decompressBody(raw.body, raw.encoding, Math.min(settings.maxBytes, WRITE_ANSWER_MAX_DECODED_BYTES)))
    refuseDoctype(xml)
    const answer = readWriteAnswer(method, xml)
    if (answer.kind === 'unknown') throw new UpstreamBadResponseError(`the answer to ${method} says neither that it was done nor why not`)
    return answer
  }

  return {
    getResource,
    createDevice: (userId, fields, trace) => write('device_create', { ...defined(fields), user_id: String(userId) }, trace),
    updateDevice: (deviceId, fields, trace) => write('device_update', { ...defined(fields), device: String(deviceId) }, trace),
    deleteDevice: (deviceId, trace) => write('device_delete', { device: String(deviceId) }, trace),
    close: async () => { await Promise.all([pool.close(), translator.close()]) }
  }
}
