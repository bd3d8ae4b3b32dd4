// Who may call /v1, and which MOR users each caller may read. Callers present
// `Authorization: Bearer <value>`: a value shaped like a JWS compact token is a JWT (when
// JWT_JWKS_URL is set), anything else an API key from GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE
// (re-read on SIGHUP with names, scopes and rates). The app gets `fastify.auth`; the /v1 scope
// adds `identifyCaller` and `requireCaller`, and routes ask `authorizeUser`.
import { readFile } from 'node:fs/promises'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { gatewayError } from '../problems/gateway-error.js'
import type { Config } from '../config.js'
import { createKeyRing, parseKeyFile, type KeyRing, type KeySpec } from '../auth/api-keys.js'
import { mayRead, type Caller } from '../auth/caller.js'
import { createJwtVerifier, looksLikeJwt, type JwtVerifier } from '../auth/jwt.js'

export const UnauthorizedError = gatewayError('unauthorized', 'UNAUTHORIZED', '%s', 401)
/** A write to a user's devices outside the caller's scope (routes/write-flow.ts). */
export const ForbiddenUserError = gatewayError('forbidden', 'FORBIDDEN_USER', 'This caller may not read this MOR user\'s devices', 403)
/** A read of a user outside the caller's scope: any catalogue resource, a device list among them. */
export const ForbiddenReadError = gatewayError('forbidden', 'FORBIDDEN_USER', 'This caller may not read this MOR user', 403)

export interface Auth {
  /** The caller a bearer header stands for; synchronous for API keys and tokens seen before. */
  authenticate: (authorization: string | undefined) => Caller | undefined | Promise<Caller | undefined>
  readonly disabled: boolean
  /** Re-reads GATEWAY_API_KEYS_FILE; on failure the keys in force stay. */
  reload: () => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    auth: Auth
  }
  interface FastifyRequest {
    /** Who is calling, once authenticated (never the key or token itself). */
    caller: Caller | undefined
  }
}

const BEARER = /^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i

/** The bearer value of an Authorization header, or undefined. */
export const bearerToken = (header: string | undefined) => (header === undefined ? undefined : BEARER.exec(header)?.[1])

/**
 * First step (onRequest): who is calling. Never refuses, so the rate limiter that runs next can
 * count failed attempts per address: guessing keys is rate-limited like everything else.
 */
export function identifyCaller (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const identified = (caller: Caller | undefined) => {
    request.caller = caller
    done()
  }
  const found = request.server.auth.authenticate(request.headers.authorization)
  if (found instanceof Promise) found.then(identified, done)
  else identified(found)
}

/** Second step (after the rate limit): refuse callers without a valid key or token. */
export function requireCaller (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  if (request.caller !== undefined || request.server.auth.disabled) {
    done()
    return
  }
  const header = request.headers.authorization
  // RFC 6750: no credentials get a bare challenge; wrong ones say so, and no more (expired and
  // forged tokens read the same).
  reply.header('www-authenticate', header === undefined ? 'Bearer realm="mor-gateway"' : 'Bearer realm="mor-gateway", error="invalid_token"')
  done(new UnauthorizedError(header === undefined ? 'Send an API key or a token as Authorization: Bearer <value>' : 'The API key or token is not valid'))
}

/** Throws the 403 unless the request's caller may read `userId`. */
export function authorizeUser (request: FastifyRequest, userId: number): void {
  if (!mayRead(request.caller, userId)) throw new ForbiddenReadError()
}

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const { keys, keysFile, fileKeys, disabled, jwt: jwtSettings } = config.auth
  // GATEWAY_API_KEYS's keys (every user, the default rate, read only) before the file's.
  const ringWith = (specs: KeySpec[]) => createKeyRing([...keys.map((key) => ({ key })), ...specs])
  let ring: KeyRing = ringWith(fileKeys)
  if (disabled) fastify.log.warn('AUTH_DISABLED=true: /v1 answers anyone, with the MOR API secret\'s full access')

  let jwt: JwtVerifier | undefined
  if (jwtSettings !== undefined) {
    jwt = createJwtVerifier(jwtSettings, fastify.log)
    // Not awaited: the gateway starts while the provider is slow; the first token waits for it.
    jwt.refresh().catch(() => {})
  }

  const auth: Auth = {
    authenticate (header) {
      const token = bearerToken(header)
      if (token === undefined) return undefined
      if (jwt !== undefined && looksLikeJwt(token)) return jwt.verify(token)
      return ring.verify(token)
    },
    disabled,
    async reload () {
      if (!keysFile) return
      try {
        const file = parseKeyFile(await readFile(keysFile, 'utf8'))
        // A half-written or emptied file must not lock every caller out, nor let weak keys in.
        if (file.problem !== undefined || (file.keys.length === 0 && keys.length === 0 && jwt === undefined)) {
          fastify.log.error({ problem: file.problem ?? 'holds no keys' }, 'API key file is unusable; the keys in force stay')
          return
        }
        ring = ringWith(file.keys)
        fastify.log.info({ keys: ring.size }, 'API keys reloaded')
      } catch (err) {
        fastify.log.error({ err }, 'API key file could not be read; the keys in force stay')
      }
    }
  }
  fastify.decorate('auth', auth)
  fastify.decorateRequest('caller', undefined)

  const onHangup = () => { auth.reload().catch(() => {}) }
  if (keysFile) process.on('SIGHUP', onHangup)
  fastify.addHook('onClose', async () => {
    process.off('SIGHUP', onHangup)
    jwt?.close()
  })
}, { name: 'auth', fastify: '5.x' })
