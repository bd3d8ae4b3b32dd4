// Who may call /v1: bearer API keys from GATEWAY_API_KEYS and GATEWAY_API_KEYS_FILE (re-read on
// SIGHUP). The key ring is decorated on the app; `requireApiKey` is the hook the /v1 scope adds.
import { readFile } from 'node:fs/promises'
import fp from 'fastify-plugin'
import createError from '@fastify/error'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { ConfigError, type Config } from '../config.js'
import { createKeyRing, invalidApiKeys, parseKeyFile, readKeyFile, type KeyRing } from '../auth/api-keys.js'

export const UnauthorizedError = createError('UNAUTHORIZED', '%s', 401)

export interface ApiKeys {
  readonly ring: KeyRing
  readonly disabled: boolean
  /** Re-reads GATEWAY_API_KEYS_FILE; on failure the keys in force stay. */
  reload: () => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    apiKeys: ApiKeys
  }
  interface FastifyRequest {
    /** The caller's key id (never the key), once authenticated. */
    apiKeyId: string | undefined
  }
}

const BEARER = /^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i

/**
 * First step (onRequest): who is calling. Never refuses, so the rate limiter that runs next can
 * count failed attempts per address: guessing keys is rate-limited like everything else.
 */
export function identifyCaller (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  request.apiKeyId = bearerKeyId(request.server.apiKeys.ring, request.headers.authorization)
  done()
}

/** The id of the key an `Authorization: Bearer` header carries, or undefined. */
export function bearerKeyId (ring: KeyRing, header: string | undefined): string | undefined {
  const token = header === undefined ? undefined : BEARER.exec(header)?.[1]
  return token === undefined ? undefined : ring.verify(token)
}

/** Second step (after the rate limit): refuse callers without a valid key. */
export function requireApiKey (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  if (request.apiKeyId !== undefined || request.server.apiKeys.disabled) {
    done()
    return
  }
  const header = request.headers.authorization
  // RFC 6750: no credentials get a bare challenge; wrong ones say so.
  reply.header('www-authenticate', header === undefined ? 'Bearer realm="mor-gateway"' : 'Bearer realm="mor-gateway", error="invalid_token"')
  done(new UnauthorizedError(header === undefined ? 'Send an API key as Authorization: Bearer <key>' : 'The API key is not valid'))
}

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const { keys, keysFile, disabled } = config.auth
  // loadConfig has checked the file; it is read again here for its keys (it may have changed since).
  const file = keysFile ? readKeyFile(keysFile) : { keys: [], problem: undefined }
  if (file.problem !== undefined && file.problem !== 'holds no keys') throw new ConfigError(`invalid configuration:\n  GATEWAY_API_KEYS_FILE ${file.problem}`)
  let ring = createKeyRing([...keys, ...file.keys])
  if (!disabled && ring.size === 0) throw new ConfigError('invalid configuration:\n  GATEWAY_API_KEYS_FILE holds no keys')
  if (disabled) fastify.log.warn('AUTH_DISABLED=true: /v1 answers anyone, with the MOR API secret\'s full access')

  const apiKeys: ApiKeys = {
    get ring () { return ring },
    disabled,
    async reload () {
      if (!keysFile) return
      try {
        const reloaded = parseKeyFile(await readFile(keysFile, 'utf8'))
        // A half-written or emptied file must not lock every caller out, nor let weak keys in.
        if (reloaded.length === 0 || invalidApiKeys(reloaded) > 0) {
          fastify.log.error({ invalid: invalidApiKeys(reloaded) }, 'API key file holds no keys or unusable ones; the keys in force stay')
          return
        }
        ring = createKeyRing([...keys, ...reloaded])
        fastify.log.info({ keys: ring.size }, 'API keys reloaded')
      } catch (err) {
        fastify.log.error({ err }, 'API key file could not be read; the keys in force stay')
      }
    }
  }
  fastify.decorate('apiKeys', apiKeys)
  fastify.decorateRequest('apiKeyId', undefined)

  const onHangup = () => { apiKeys.reload().catch(() => {}) }
  if (keysFile) process.on('SIGHUP', onHangup)
  fastify.addHook('onClose', async () => { process.off('SIGHUP', onHangup) })
}, { name: 'auth', fastify: '5.x' })
