// The JWT verifier against a real JWKS endpoint on loopback, keys generated here: what it accepts,
// every refusal the issue names, which tokens may write, key rotation, and a provider outage.
import { createPublicKey } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CompactSign, SignJWT } from 'jose'
import { createJwtVerifier, JWKS_COOLDOWN_MS, looksLikeJwt, type JwtVerifier } from '../../src/auth/jwt.js'
import { AUDIENCE, ISSUER, signingKey, startIdentityProvider, token, type IdentityProvider, type SigningKey } from '../helpers/identity-provider.js'

const silent = { warn: () => {}, debug: () => {} }
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')

let rsa: SigningKey
let idp: IdentityProvider
const verifiers: JwtVerifier[] = []

/** A verifier trusting `idp`, on a clock the test can move. */
function verifier (clock = { now: Date.now() }, settings: Partial<{ userClaim: string, jwksUrl: string }> = {}) {
  const v = createJwtVerifier({ jwksUrl: idp.url, issuer: ISSUER, audience: AUDIENCE, userClaim: 'mor_user_id', ...settings }, silent, () => clock.now)
  verifiers.push(v)
  return v
}
const verify = async (v: JwtVerifier, value: string) => await v.verify(value)

beforeAll(async () => {
  rsa = await signingKey('rsa-1')
  idp = await startIdentityProvider([rsa])
})
afterAll(async () => { await idp.close() })
afterEach(() => {
  for (const v of verifiers.splice(0)) v.close()
  idp.keys = [rsa]
  idp.down = false
})

describe('JWT verification', () => {
  it('accepts a valid token: its subject counts the rate, its claim scopes the users', async () => {
    const caller = await verify(verifier(), await token(rsa, { mor_user_id: 7, sub: 'alice' }))
    expect(caller).toMatchObject({ rateKey: 'jwt:alice', label: 'jwt', rate: undefined, write: false })
    expect(caller?.scope.has(7)).toBe(true)
    expect(caller?.scope.has(8)).toBe(false)
    expect(caller?.scope.single).toBe(7)
  })

  it.each(['PS256', 'ES256', 'EdDSA'] as const)('accepts %s', async (alg) => {
    const key = await signingKey(`k-${alg}`, alg)
    idp.keys = [rsa, key]
    expect(await verify(verifier(), await token(key))).toBeDefined()
  })

  it.each([
    ['a string of digits', '42', [42], [41]],
    ['an array of ids', [1, '3', 5], [1, 3, 5], [2, 4]],
    ['every user', '*', [0, 99, 2147483647], []]
  ])('reads the claim as %s', async (_what, claim, allowed, refused) => {
    const caller = await verify(verifier(), await token(rsa, { mor_user_id: claim }))
    for (const id of allowed) expect(caller?.scope.has(id)).toBe(true)
    for (const id of refused) expect(caller?.scope.has(id)).toBe(false)
  })

  it('reads the user claim JWT_USER_CLAIM names', async () => {
    const caller = await verify(verifier(undefined, { userClaim: 'https://mor/users' }), await token(rsa, { 'https://mor/users': [9] }))
    expect(caller?.scope.single).toBe(9)
  })

  it.each([
    ['no user claim', { mor_user_id: undefined }],
    ['a negative id', { mor_user_id: -1 }],
    ['an id past MOR\'s range', { mor_user_id: 2147483648 }],
    ['a name', { mor_user_id: 'alice' }],
    ['leading zeros', { mor_user_id: '007' }],
    ['an empty list', { mor_user_id: [] }],
    ['an object', { mor_user_id: { id: 2 } }]
  ])('refuses a token whose claim is %s', async (_what, claims) => {
    expect(await verify(verifier(), await token(rsa, claims))).toBeUndefined()
  })

  /** A token whose user claim is this JSON text exactly: SignJWT's JSON.stringify would write -0 as 0. */
  async function tokenWithClaimText (claimText: string): Promise<string> {
    const payload = `{"iss":${JSON.stringify(ISSUER)},"aud":${JSON.stringify(AUDIENCE)},"sub":"s","exp":${Math.floor(Date.now() / 1000) + 600},"mor_user_id":${claimText}}`
    return await new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'RS256', kid: rsa.kid }).sign(rsa.privateKey)
  }

  it.each(['-0', '-0.0', '[2, -0]', '"-0"', '"+1"', '"01"', '" 1"', '"1e2"', '"1.0"', '1.5'])('refuses a token whose claim is written %s', async (claimText) => {
    expect(await verify(verifier(), await tokenWithClaimText(claimText))).toBeUndefined()
  })

  it.each([['0', '0'], ['0.0', '0'], ['1e2', '100'], ['"100"', '100']])('reads a claim written %s as user %s (a JSON number by its value)', async (claimText, users) => {
    expect((await verify(verifier(), await tokenWithClaimText(claimText)))?.scope.text).toBe(users)
  })

  it('refuses an expired token beyond the 30 s tolerance, and accepts one within it', async () => {
    const now = Math.floor(Date.now() / 1000)
    expect(await verify(verifier(), await token(rsa, { exp: now - 45 }))).toBeUndefined()
    expect(await verify(verifier(), await token(rsa, { exp: now - 10 }))).toBeDefined()
  })

  it('refuses a token not valid yet (nbf) beyond the tolerance', async () => {
    const now = Math.floor(Date.now() / 1000)
    expect(await verify(verifier(), await token(rsa, { nbf: now + 120 }))).toBeUndefined()
    expect(await verify(verifier(), await token(rsa, { nbf: now + 10 }))).toBeDefined()
  })

  it('refuses a token without exp, or without sub', async () => {
    const noExp = await new SignJWT({ mor_user_id: 2 }).setProtectedHeader({ alg: 'RS256', kid: rsa.kid }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('s').sign(rsa.privateKey)
    const noSub = await new SignJWT({ mor_user_id: 2 }).setProtectedHeader({ alg: 'RS256', kid: rsa.kid }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(rsa.privateKey)
    expect(await verify(verifier(), noExp)).toBeUndefined()
    expect(await verify(verifier(), noSub)).toBeUndefined()
  })

  it('refuses the wrong issuer and the wrong audience', async () => {
    expect(await verify(verifier(), await token(rsa, { iss: 'https://evil.example/' }))).toBeUndefined()
    expect(await verify(verifier(), await token(rsa, { aud: 'another-api' }))).toBeUndefined()
  })

  it('refuses alg none', async () => {
    const now = Math.floor(Date.now() / 1000)
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 's', exp: now + 600, mor_user_id: '*' })}.`
    expect(looksLikeJwt(unsigned)).toBe(true)
    expect(await verify(verifier(), unsigned)).toBeUndefined()
  })

  it('refuses HS256 signed with the provider\'s public key as the secret (algorithm confusion)', async () => {
    const pem = createPublicKey({ key: rsa.jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' })
    for (const secret of [Buffer.from(pem), Buffer.from(JSON.stringify(rsa.jwk))]) {
      const forged = await new SignJWT({ mor_user_id: '*' }).setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
        .setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('mallory').setExpirationTime('5m').sign(secret)
      expect(await verify(verifier(), forged)).toBeUndefined()
    }
  })

  it('refuses a tampered payload and a signature from another key with the same kid', async () => {
    const good = await token(rsa, { mor_user_id: 2 })
    const [header, , signature] = good.split('.')
    const tampered = `${header}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'user-2@portal', exp: Math.floor(Date.now() / 1000) + 600, mor_user_id: '*' })}.${signature}`
    expect(await verify(verifier(), tampered)).toBeUndefined()
    const impostor = await signingKey(rsa.kid)
    expect(await verify(verifier(), await token(impostor))).toBeUndefined()
  })

  it('refuses a token whose kid the provider does not publish, refetching at most once per cooldown', async () => {
    const clock = { now: Date.now() }
    const v = verifier(clock)
    const stranger = await signingKey('never-published')
    expect(await verify(v, await token(rsa))).toBeDefined()
    const before = idp.fetches
    expect(await verify(v, await token(stranger))).toBeUndefined()
    expect(await verify(v, await token(stranger, { sub: 'other' }))).toBeUndefined()
    expect(idp.fetches - before).toBeLessThanOrEqual(1)
    clock.now += JWKS_COOLDOWN_MS + 1
    expect(await verify(v, await token(stranger, { sub: 'third' }))).toBeUndefined()
    expect(idp.fetches - before).toBeLessThanOrEqual(2)
  })

  it('follows a key rotation: a token with a new kid is verified after one refetch', async () => {
    const clock = { now: Date.now() }
    const v = verifier(clock)
    expect(await verify(v, await token(rsa))).toBeDefined()
    const next = await signingKey('rsa-2')
    idp.keys = [rsa, next]
    clock.now += JWKS_COOLDOWN_MS + 1
    const before = idp.fetches
    expect(await verify(v, await token(next))).toBeDefined()
    expect(idp.fetches - before).toBe(1)
  })

  it('verifies a new token whose key is held while a fetch for an unknown kid hangs; only the unknown kid waits for that fetch', async () => {
    const clock = { now: Date.now() }
    const v = verifier(clock)
    expect(await verify(v, await token(rsa, { sub: 'first' }))).toBeDefined()
    const rotated = await signingKey('rsa-rotated')
    const [unknownKid, knownKid] = [await token(rotated, { sub: 'rotated' }), await token(rsa, { sub: 'never-seen' })]
    idp.keys = [rsa, rotated]
    clock.now += JWKS_COOLDOWN_MS + 1
    const release = idp.hang()
    const before = idp.fetches
    const events: string[] = []
    const waiting = Promise.resolve(v.verify(unknownKid)).then((caller) => { events.push('unknown kid answered'); return caller })
    try {
      await expect.poll(() => idp.fetches).toBe(before + 1)
      const caller = await verify(v, knownKid)
      events.push('known kid answered')
      expect(caller?.rateKey).toBe('jwt:never-seen')
    } finally {
      events.push('fetch released')
      release()
    }
    expect((await waiting)?.rateKey).toBe('jwt:rotated')
    expect(events).toStrictEqual(['known kid answered', 'fetch released', 'unknown kid answered'])
    expect(idp.fetches - before).toBe(1)
  })

  it('keeps verifying tokens signed with fetched keys while the provider is down, and never throws', async () => {
    const clock = { now: Date.now() }
    const v = verifier(clock)
    expect(await verify(v, await token(rsa, { sub: 'first' }))).toBeDefined()
    idp.down = true
    clock.now += JWKS_COOLDOWN_MS + 1
    await v.refresh()
    expect(await verify(v, await token(rsa, { sub: 'second' }))).toBeDefined()
    const rotated = await signingKey('rsa-unseen')
    await expect(verify(v, await token(rotated))).resolves.toBeUndefined()
  })

  it('asks a provider that has never answered at most once per cooldown, however many tokens come', async () => {
    idp.down = true
    const clock = { now: Date.now() }
    const v = verifier(clock)
    const before = idp.fetches
    for (let i = 0; i < 5; i++) expect(await verify(v, await token(rsa, { sub: `s${i}` }))).toBeUndefined()
    expect(idp.fetches - before).toBe(1)
    clock.now += JWKS_COOLDOWN_MS + 1
    idp.down = false
    expect(await verify(v, await token(rsa, { sub: 'back' }))).toBeDefined()
    expect(idp.fetches - before).toBe(2)
  })

  it('refuses every token, without throwing, when the provider has never answered', async () => {
    idp.down = true
    await expect(verify(verifier(), await token(rsa))).resolves.toBeUndefined()
    await expect(verify(verifier(undefined, { jwksUrl: 'http://127.0.0.1:1/jwks.json' }), await token(rsa))).resolves.toBeUndefined()
  })

  it('remembers a verified token until it expires, and a wrong one never', async () => {
    const clock = { now: Date.now() }
    const v = verifier(clock)
    const value = await token(rsa, { exp: Math.floor(clock.now / 1000) + 60 })
    expect(await v.verify(value)).toBeDefined()
    // Now answered from memory, synchronously.
    expect(v.verify(value)).not.toBeInstanceOf(Promise)
    clock.now += 95_000
    const later = v.verify(value)
    expect(later).toBeInstanceOf(Promise)
    expect(await later).toBeUndefined()
    const wrong = `${value.slice(0, -4)}AAAA`
    expect(await v.verify(wrong)).toBeUndefined()
    expect(v.verify(wrong)).toBeInstanceOf(Promise)
  })

  it('shares one verification among concurrent requests with one new token', async () => {
    const v = verifier()
    const value = await token(rsa)
    const [a, b] = [v.verify(value), v.verify(value)]
    expect(a).toBe(b)
    expect(await a).toBeDefined()
  })
})

describe('JWT write access', () => {
  it.each([
    ['no scope claim', false, {}],
    ['scope "openid devices:read"', false, { scope: 'openid devices:read' }],
    ['scope "devices:write"', true, { scope: 'devices:write' }],
    ['scope "openid devices:write profile"', true, { scope: 'openid devices:write profile' }],
    ['scope "devices:writer"', false, { scope: 'devices:writer' }],
    ['scope "openid devices:write:all"', false, { scope: 'openid devices:write:all' }],
    ['scope "Devices:Write" (scopes are case-sensitive)', false, { scope: 'Devices:Write' }],
    ['scope "openid,devices:write" (commas do not delimit)', false, { scope: 'openid,devices:write' }],
    ['scope as an array (it is a string)', false, { scope: ['devices:write'] }],
    ['scp ["openid", "devices:write"]', true, { scp: ['openid', 'devices:write'] }],
    ['scp ["devices:writer"]', false, { scp: ['devices:writer'] }],
    ['scp ["openid devices:write"] (one item, one scope)', false, { scp: ['openid devices:write'] }],
    ['scp with an item that is not a string', false, { scp: ['devices:write', 7] }],
    ['scp "devices:write"', true, { scp: 'devices:write' }],
    ['scp "openid devices:write"', true, { scp: 'openid devices:write' }],
    ['scp "devices:writes"', false, { scp: 'devices:writes' }],
    ['scope without and scp with devices:write', true, { scope: 'openid', scp: ['devices:write'] }]
  ])('reads a token with %s as write %s', async (_what, write, claims) => {
    const caller = await verify(verifier(), await token(rsa, { ...claims, sub: 'writer' }))
    expect(caller).toMatchObject({ rateKey: 'jwt:writer', write })
    expect(caller?.scope.single).toBe(2)
  })

  it('remembers a token\'s write access with it', async () => {
    const v = verifier()
    const value = await token(rsa, { scope: 'openid devices:write' })
    expect((await v.verify(value))?.write).toBe(true)
    const remembered = v.verify(value)
    expect(remembered).not.toBeInstanceOf(Promise)
    expect((remembered as Awaited<typeof remembered>)?.write).toBe(true)
  })
})

describe('looksLikeJwt', () => {
  it('tells JWS compact tokens from API keys', () => {
    expect(looksLikeJwt('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln')).toBe(true)
    for (const key of ['test-key-0123456789abcdef', 'a.b', 'a.b.c.d', 'a+b.c.d', 'a.b/c.d', '.b.c']) expect(looksLikeJwt(key)).toBe(false)
  })
})
