// The MOR HTTP client: one keep-alive undici Pool per upstream, signed form-body POSTs, bounded
// reads, and every failure turned into one of the typed errors in errors.ts.
import { Pool, errors as undiciErrors } from 'undici'
import type { Config } from '../config.js'
import { devicesGetHash } from './sign.js'
import { createTranslator, type Translator } from './translate-pool.js'
import {
  UpstreamBadResponseError, UpstreamTimeoutError, UpstreamUnavailableError, UserNotFoundError, rejectedError, unreachableReason
} from './errors.js'

export type MorSettings = Config['mor']

export interface MorClient {
  /** The user's devices in MOR's order, as a JSON array; throws a typed upstream error otherwise. */
  getDevicesJson: (userId: number) => Promise<string>
  close: () => Promise<void>
}

const POOL_CONNECTIONS = 64

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

function isTimeout (err: unknown): boolean {
  return err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError
}

export function createMorClient (settings: MorSettings, translator: Translator = createTranslator()): MorClient {
  const base = new URL(settings.baseUrl)
  const apiPath = base.pathname.replace(/\/+$/, '') + '/api/devices_get'
  const pool = new Pool(base.origin, {
    connections: POOL_CONNECTIONS,
    connectTimeout: settings.timeoutMs,
    headersTimeout: settings.timeoutMs,
    bodyTimeout: settings.timeoutMs
  })

  async function exchange (userId: number, signal: AbortSignal): Promise<{ body: Buffer, encoding: string | undefined }> {
    const form = new URLSearchParams({ u: settings.user, user_id: String(userId), hash: devicesGetHash(userId, settings.secret) })
    if (settings.password !== undefined) form.set('p', settings.password)
    const res = await pool.request({
      path: apiPath,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-encoding': 'gzip', accept: 'application/xml, text/xml, */*' },
      body: form.toString(),
      signal
    })
    if (res.statusCode < 200 || res.statusCode > 299) {
      res.body.resume() // discard, so the connection can be reused
      throw new UpstreamBadResponseError(`HTTP status ${res.statusCode}`)
    }
    const length = Number(res.headers['content-length'])
    if (length > settings.maxBytes) {
      res.body.destroy()
      throw new UpstreamBadResponseError(`body exceeds ${settings.maxBytes} bytes`)
    }
    const encoding = res.headers['content-encoding']
    return { body: await readBounded(res.body, settings.maxBytes), encoding: Array.isArray(encoding) ? encoding.join(',') : encoding }
  }

  async function getDevicesJson (userId: number): Promise<string> {
    const signal = AbortSignal.timeout(settings.timeoutMs)
    let raw: { body: Buffer, encoding: string | undefined }
    try {
      raw = await exchange(userId, signal)
    } catch (err) {
      if (err instanceof UpstreamBadResponseError) throw err
      if (signal.aborted || isTimeout(err)) throw new UpstreamTimeoutError(settings.timeoutMs, { cause: err })
      throw new UpstreamUnavailableError(unreachableReason((err as { code?: string }).code), { cause: err })
    }
    const answer = await translator.translate(raw.body, raw.encoding, settings.maxBytes)
    if (answer.kind === 'devices') return answer.json
    if (answer.kind === 'bad-response') throw new UpstreamBadResponseError(answer.detail)
    if (answer.message === 'User not found') throw new UserNotFoundError(userId)
    throw rejectedError(answer.message)
  }

  return {
    getDevicesJson,
    close: async () => { await Promise.all([pool.close(), translator.close()]) }
  }
}
