// A real identity provider's key endpoint for tests: a JWKS served over HTTP on loopback, keys
// generated in the test (RSA, EC, Ed25519), rotation, and an outage on demand (the port keeps
// listening but every fetch gets a 503, or hangs unanswered, or the server stops outright).
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'

export const ISSUER = 'https://id.example.test/'
export const AUDIENCE = 'mor-gateway'

export interface SigningKey {
  kid: string
  alg: 'RS256' | 'PS256' | 'ES256' | 'EdDSA'
  privateKey: CryptoKey
  jwk: JWK
}

export async function signingKey (kid: string, alg: SigningKey['alg'] = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true })
  return { kid, alg, privateKey, jwk: { ...await exportJWK(publicKey), kid, alg, use: 'sig' } }
}

/** A token signed by `key`; claims default to a valid token for user 2 expiring in 10 minutes. */
export async function token (key: SigningKey, claims: JWTPayload = {}, header: { kid?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ mor_user_id: 2, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: header.kid ?? key.kid, typ: 'JWT' })
    .setIssuer(typeof claims.iss === 'string' ? claims.iss : ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setSubject(typeof claims.sub === 'string' ? claims.sub : 'user-2@portal')
    .setIssuedAt(now)
    .setExpirationTime(typeof claims.exp === 'number' ? claims.exp : now + 600)
    .sign(key.privateKey)
}

export interface IdentityProvider {
  url: string
  /** The keys the JWKS publishes now. */
  keys: SigningKey[]
  /** How many times the JWKS was fetched. */
  fetches: number
  /** While true, every fetch gets a 503. */
  down: boolean
  /** Leaves every fetch from now on unanswered until the returned function is called; then they are answered. */
  hang: () => () => void
  close: () => Promise<void>
}

export async function startIdentityProvider (keys: SigningKey[]): Promise<IdentityProvider> {
  let held: Array<() => void> | undefined
  const idp: IdentityProvider = {
    url: '',
    keys,
    fetches: 0,
    down: false,
    hang () {
      held ??= []
      return () => {
        const waiting = held ?? []
        held = undefined
        for (const respond of waiting) respond()
      }
    },
    close: async () => {}
  }
  const server: Server = createServer((req, res) => {
    if (req.url !== '/jwks.json') {
      res.writeHead(404).end()
      return
    }
    idp.fetches++
    if (held !== undefined) held.push(() => answer(res))
    else answer(res)
  })
  function answer (res: ServerResponse) {
    if (idp.down) {
      res.writeHead(503).end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: idp.keys.map((k) => k.jwk) }))
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  idp.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`
  idp.close = () => new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
  return idp
}

/** The gateway settings that trust `idp`. */
export const jwtEnv = (idp: IdentityProvider) => ({ JWT_JWKS_URL: idp.url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE })
