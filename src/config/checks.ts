// Rules that span variables, and the key file's content: what no single variable's schema can
// say. Checked on the variables that passed on their own; each message names the variable to fix.
import type { Static } from 'typebox'
import { unusableKeys, type KeyFile } from '../auth/api-keys.js'
import { looksLikeJwt } from '../auth/jwt.js'
import { parseCidr } from '../net/cidr.js'
import { parseRedisTarget } from '../redis/target.js'
import type { EnvSchema } from './schema.js'
import { list } from './variables.js'

type Env = Static<typeof EnvSchema>

export function checkCombinations (env: Env, bad: Set<string>, keyFile: KeyFile): string[] {
  const problems: string[] = []
  const ok = (name: keyof Env) => !bad.has(name) && env[name] !== undefined
  const jwt = env.JWT_JWKS_URL !== undefined
  if (!env.AUTH_DISABLED && env.GATEWAY_API_KEYS === undefined && env.GATEWAY_API_KEYS_FILE === undefined && !jwt) {
    problems.push('  GATEWAY_API_KEYS, GATEWAY_API_KEYS_FILE or JWT_JWKS_URL is required (or AUTH_DISABLED=true, which leaves /v1 open to anyone)')
  }
  const weak = unusableKeys(list(env.GATEWAY_API_KEYS))
  if (weak !== undefined) problems.push(`  GATEWAY_API_KEYS ${weak}`)
  if (ok('GATEWAY_API_KEYS_FILE')) {
    // An empty file is fine while other credentials exist (keys may be added later, with SIGHUP).
    if (keyFile.problem !== undefined) problems.push(`  GATEWAY_API_KEYS_FILE ${keyFile.problem}`)
    else if (keyFile.keys.length === 0 && list(env.GATEWAY_API_KEYS).length === 0 && !jwt) problems.push('  GATEWAY_API_KEYS_FILE holds no keys')
  }
  if (jwt) {
    if (env.JWT_ISSUER === undefined) problems.push('  JWT_ISSUER is required with JWT_JWKS_URL (the iss every token must carry)')
    if (env.JWT_AUDIENCE === undefined) problems.push('  JWT_AUDIENCE is required with JWT_JWKS_URL (the aud every token must carry)')
    // Such a key would be read as a token and never match.
    if ([...list(env.GATEWAY_API_KEYS), ...keyFile.keys.map((spec) => spec.key)].some(looksLikeJwt)) {
      problems.push('  GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE holds a key shaped like a JWT (three base64url parts joined by dots), which JWT_JWKS_URL makes a token')
    }
  }
  if (ok('TRUST_PROXY')) {
    for (const cidr of env.TRUST_PROXY.includes('.') || env.TRUST_PROXY.includes(':') ? list(env.TRUST_PROXY) : []) {
      if (parseCidr(cidr) === undefined) problems.push('  TRUST_PROXY must be true, false, a number of proxy hops, or a comma-separated list of proxy addresses/CIDR blocks')
    }
  }
  const redis = ok('REDIS_URL') ? parseRedisTarget(env.REDIS_URL as string) : undefined
  if (ok('REDIS_URL') && redis === undefined) {
    problems.push('  REDIS_URL must be a redis://, rediss://, redis[s]-sentinel://host:port,.../master or redis[s]-cluster://host:port,... URL')
  }
  // A CA for a connection without TLS is most likely a missing "s" in the URL's scheme.
  if (env.REDIS_TLS_CA_FILE !== undefined && !bad.has('REDIS_URL') && redis?.tls !== true) {
    problems.push('  REDIS_TLS_CA_FILE needs a TLS REDIS_URL (rediss://, rediss-sentinel:// or rediss-cluster://)')
  }
  // Only when both are set: a default never contradicts the other variable (see client in schema.ts).
  if (ok('HEADERS_TIMEOUT_MS') && ok('REQUEST_TIMEOUT_MS') && (env.HEADERS_TIMEOUT_MS as number) > (env.REQUEST_TIMEOUT_MS as number)) {
    problems.push('  HEADERS_TIMEOUT_MS must not be larger than REQUEST_TIMEOUT_MS (the headers are part of the request)')
  }
  for (const cidr of list(env.LEGACY_ALLOW_CIDRS)) {
    if (parseCidr(cidr) === undefined) problems.push('  LEGACY_ALLOW_CIDRS must be a comma-separated list of addresses or CIDR blocks')
  }
  return [...new Set(problems)]
}
