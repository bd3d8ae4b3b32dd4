// JWT bearer tokens from an identity provider, verified with `jose` against the provider's JSON Web
// Key Set. The key set is this module's own cache rather than jose's remote set, for two rules
// jose's does not keep: keys already fetched verify tokens for as long as the provider is down (a
// JWKS outage must not lock every browser out), and a refresh that fails keeps them.
//   - fetched at start, every JWKS_REFRESH_MS, and when a token names an unknown `kid` (a key
//     rotation) at most once per JWKS_COOLDOWN_MS; each fetch is bounded in time and size, and
//     only tokens whose kid is unknown wait for one;
//   - a verified token's caller is remembered until the token expires (bounded), so a token costs
//     one signature check, not one per request; a wrong token is never remembered;
//   - concurrent requests with one new token share its verification.
// A token may write (create, update, delete devices) only when its scope says `devices:write`.
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose'
import { LRUCache } from 'lru-cache'
import type { Caller } from './caller.js'
import { scopeFromClaim } from './scope.js'

export interface JwtSettings {
  jwksUrl: string
  issuer: string
  audience: string
  /** The claim naming the MOR users the token may read. */
  userClaim: string
}

/** Asymmetric only: with HMAC allowed, a public key could be used as the shared secret. */
export const JWT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA']
export const CLOCK_TOLERANCE_S = 30
export const JWKS_COOLDOWN_MS = 30_000
const JWKS_REFRESH_MS = 10 * 60_000
const JWKS_TIMEOUT_MS = 5000
const JWKS_MAX_BYTES = 1024 * 1024
const REMEMBERED_TOKENS = 10_000

/** A JWS compact serialization: three base64url parts. Any other bearer value is an API key. */
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/
export const looksLikeJwt = (token: string) => JWS_COMPACT.test(token)

/** The OAuth scope that lets a token change devices; any other token reads only. */
const WRITE_SCOPE = 'devices:write'

/** A space-delimited scope string's scopes (RFC 6749 3.3); nothing from a claim of another type. */
const scopesIn = (claim: unknown): string[] => (typeof claim === 'string' ? claim.split(' ') : [])

/**
 * True when the token's scopes hold devices:write: `scope` is RFC 8693's space-delimited string;
 * `scp` is a string or an array of strings, as Okta and Azure send it. Scopes compare whole, so
 * `devices:writer` is not `devices:write`; a claim of any other shape grants nothing.
 */
function grantsWrite ({ scope, scp }: JWTPayload): boolean {
  const listed = Array.isArray(scp) && scp.every((item) => typeof item === 'string') ? scp as string[] : scopesIn(scp)
  return [...scopesIn(scope), ...listed].includes(WRITE_SCOPE)
}

export interface JwtLog {
  warn: (obj: object, msg: string) => void
  debug: (obj: object, msg: string) => void
}

export interface JwtVerifier {
  /** The caller a token is, from memory when it has been verified before; else a verification. */
  verify: (token: string) => Caller | undefined | Promise<Caller | undefined>
  /** Fetches the key set now (at start; tests). Never throws. */
  refresh: () => Promise<void>
  close: () => void
}

/** The key set, fetched with a timeout, a size cap and no redirects. */
async function fetchKeySet (url: string): Promise<JWTVerifyGetKey> {
  const res = await fetch(url, { signal: AbortSignal.timeout(JWKS_TIMEOUT_MS), redirect: 'error', headers: { accept: 'application/json' } })
  if (!res.ok || res.body === null) throw new Error(`the key set answered ${res.status}`)
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of res.body) {
    size += chunk.byteLength
    if (size > JWKS_MAX_BYTES) throw new Error(`the key set is over ${JWKS_MAX_BYTES} bytes`)
    chunks.push(chunk)
  }
  return createLocalJWKSet(JSON.parse(Buffer.concat(chunks).toString('utf8')) as JSONWebKeySet)
}

export function createJwtVerifier (settings: JwtSettings, log: JwtLog, now: () => number = Date.now): JwtVerifier {
  let keys: JWTVerifyGetKey | undefined
  let lastFetch = -Infinity
  let fetching: Promise<void> | undefined

  function refresh (): Promise<void> {
    fetching ??= (async () => {
      lastFetch = now()
      try {
        keys = await fetchKeySet(settings.jwksUrl)
      } catch (err) {
        // The keys in hand stay: tokens they signed keep verifying while the provider is away.
        log.warn({ err: { message: (err as Error).message } }, 'JWKS fetch failed; the keys already fetched stay in use')
      } finally {
        fetching = undefined
      }
    })()
    return fetching
  }
  const timer = setInterval(() => { refresh().catch(() => {}) }, JWKS_REFRESH_MS)
  timer.unref()

  /**
   * jose's key lookup, over the keys held now: a token whose key is among them never waits for a
   * fetch (a provider that hangs would hold it for the whole fetch timeout). Only a token whose
   * kid is unknown, or any token before the first keys arrive, waits: for the fetch under way, or
   * for one it starts, at most once per cooldown, so a provider that is down is not asked once per
   * token.
   */
  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      if (keys === undefined) throw new errors.JWKSNoMatchingKey()
      return await keys(header, token)
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err
      if (fetching !== undefined) await fetching
      else if (now() - lastFetch >= JWKS_COOLDOWN_MS) await refresh()
      else throw err
      if (keys === undefined) throw err
      return await keys(header, token)
    }
  }

  // Verified tokens until they expire (plus the tolerance jose allows), and verifications running.
  // On the verifier's clock, so a token is forgotten when that clock passes its expiry.
  // ttlResolution 0: read the clock on every lookup rather than keep a timer per lookup.
  const remembered = new LRUCache<string, Caller>({ max: REMEMBERED_TOKENS, perf: { now }, ttlResolution: 0 })
  const running = new Map<string, Promise<Caller | undefined>>()

  async function check (token: string): Promise<Caller | undefined> {
    try {
      const { payload } = await jwtVerify(token, getKey, {
        algorithms: JWT_ALGORITHMS,
        issuer: settings.issuer,
        audience: settings.audience,
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: new Date(now()),
        requiredClaims: ['exp', 'sub']
      })
      const scope = scopeFromClaim(payload[settings.userClaim])
      if (scope === undefined || typeof payload.sub !== 'string' || payload.exp === undefined) {
        log.debug({ reason: 'user claim' }, 'JWT refused')
        return undefined
      }
      const caller: Caller = { rateKey: `jwt:${payload.sub}`, label: 'jwt', scope, rate: undefined, write: grantsWrite(payload) }
      const ttl = (payload.exp + CLOCK_TOLERANCE_S) * 1000 - now()
      if (ttl > 0) remembered.set(token, caller, { ttl })
      return caller
    } catch (err) {
      // The code only (e.g. ERR_JWT_EXPIRED): never the token, nor a message quoting its claims.
      log.debug({ reason: (err as { code?: string }).code ?? 'error' }, 'JWT refused')
      return undefined
    }
  }

  return {
    verify (token) {
      const known = remembered.get(token)
      if (known !== undefined) return known
      let pending = running.get(token)
      if (pending === undefined) {
        pending = check(token).finally(() => running.delete(token))
        running.set(token, pending)
      }
      return pending
    },
    refresh,
    close () { clearInterval(timer) }
  }
}
