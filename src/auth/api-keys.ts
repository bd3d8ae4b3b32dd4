// Gateway API keys: who may call /v1. The ring holds SHA-256 digests, compared in constant time
// against every key, so timing gives no key away; keys that have been used are remembered to skip
// the hash next time (see createKeyRing). A key is known in logs and metrics by a short id
// derived from its digest, never by itself.
import { hash, timingSafeEqual } from 'node:crypto'
import { readConfigFile } from '../config-file.js'
import type { Caller } from './caller.js'
import { EVERY_USER, parseUsers, type Scope } from './scope.js'

export interface KeyRing {
  /** The caller whose key `token` is, or undefined. */
  verify: (token: string) => Caller | undefined
  readonly size: number
}

// The one-shot hash: every request is verified, and a Hash object costs twice as much.
const digest = (value: string) => hash('sha256', value, 'buffer')

/** API keys are bearer secrets: too short and they can be guessed. */
export const MIN_API_KEY_LENGTH = 16
/** RFC 6750 token68 characters: a key with others could never be presented. */
const BEARER_TOKEN = /^[A-Za-z0-9._~+/=-]+$/

/** Long enough not to be guessed, and sendable as a Bearer token. */
const usableKey = (key: string) => key.length >= MIN_API_KEY_LENGTH && BEARER_TOKEN.test(key)

/** What is wrong with a set of keys, for a configuration error (never quoting a key), or undefined. */
export function unusableKeys (keys: string[]): string | undefined {
  const invalid = keys.filter((key) => !usableKey(key)).length
  return invalid > 0 ? `holds ${invalid} key(s) shorter than ${MIN_API_KEY_LENGTH} characters or with characters a Bearer token cannot carry` : undefined
}

/** One key and what the key file says of it. */
export interface KeySpec {
  key: string
  name?: string | undefined
  users?: Scope | undefined
  rate?: number | undefined
  /** `access=read,write`: may change devices too. Unset: read only. */
  write?: boolean | undefined
}

/** A key file's keys, and what is wrong with it (line by line, never quoting a key), if anything. */
export interface KeyFile { keys: KeySpec[], problem: string | undefined }

/** A key's name: what logs and metrics show, so short and plain. */
const NAME = /^[A-Za-z0-9._-]{1,64}$/
const MAX_RATE = 10_000_000
const FIELDS = ['name', 'users', 'rate', 'access']

/**
 * access=: true for `read,write` (either order), false for `read`, else undefined. `write` alone
 * is refused rather than taken to mean read,write: a line says in full what it grants.
 */
function writeOf (access: string): boolean | undefined {
  const words = access.split(',').sort().join(',')
  return words === 'read,write' ? true : words === 'read' ? false : undefined
}

/**
 * One line: `<key> [name=<name>] [users=<list>] [rate=<n>] [access=read|read,write]`, fields in
 * any order. The reason the line is unusable (naming the field, never the key), or its spec.
 */
function parseKeyLine (line: string): KeySpec | string {
  const [key = '', ...fields] = line.split(/[ \t]+/)
  if (!usableKey(key)) return `the key is shorter than ${MIN_API_KEY_LENGTH} characters or has characters a Bearer token cannot carry`
  const spec: KeySpec = { key }
  const given = new Set<string>()
  for (const field of fields) {
    const eq = field.indexOf('=')
    const name = eq === -1 ? field : field.slice(0, eq)
    const value = field.slice(eq + 1)
    if (eq === -1 || !FIELDS.includes(name)) return `unknown field "${name.slice(0, 20)}" (fields are name=, users=, rate=, access=)`
    if (given.has(name)) return `${name}= given twice`
    given.add(name)
    if (name === 'name') {
      if (!NAME.test(value)) return 'name= must be 1-64 characters of A-Za-z0-9._-'
      spec.name = value
    } else if (name === 'users') {
      const users = parseUsers(value)
      if (!users) return 'users= must be * or user ids and ranges, e.g. users=100-199,205'
      spec.users = users
    } else if (name === 'rate') {
      const rate = /^[1-9][0-9]{0,7}$/.test(value) ? Number(value) : NaN
      if (!(rate <= MAX_RATE)) return `rate= must be a whole number of requests per minute from 1 to ${MAX_RATE}`
      spec.rate = rate
    } else {
      const write = writeOf(value)
      if (write === undefined) return 'access= must be read or read,write (each word once, either order)'
      spec.write = write
    }
  }
  return spec
}

/**
 * A key file: one key per line with its fields; blank lines and `#` comments are ignored. Every
 * unusable line is reported by number, two keys with one name too (the rate limit counts by name).
 */
export function parseKeyFile (text: string): KeyFile {
  const keys: KeySpec[] = []
  const problems: string[] = []
  const names = new Map<string, number>()
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim()
    if (line === '') return
    const spec = parseKeyLine(line)
    if (typeof spec === 'string') {
      problems.push(`line ${index + 1}: ${spec}`)
      return
    }
    const earlier = spec.name === undefined ? undefined : names.get(spec.name)
    if (earlier !== undefined) problems.push(`line ${index + 1}: name=${spec.name ?? ''} is already line ${earlier}'s`)
    if (spec.name !== undefined) names.set(spec.name, index + 1)
    keys.push(spec)
  })
  if (problems.length > 0) return { keys, problem: `has unusable lines: ${problems.join('; ')}` }
  return { keys, problem: undefined }
}

/** The key file at `path`, or why it cannot be used. Read at start by the config check, and on SIGHUP. */
export function readKeyFile (path: string): KeyFile {
  const file = readConfigFile(path)
  return file.content === undefined ? { keys: [], problem: file.problem } : parseKeyFile(file.content.toString('utf8'))
}

export function keyId (key: string): string {
  return `key-${digest(`mor-gateway key id\n${key}`).toString('hex').slice(0, 12)}`
}

/** Past this many remembered tokens the memo starts over (a valid key has few spellings). */
const MEMO_LIMIT = 1000

/**
 * The caller a key stands for: named, scoped, rated and given write access by the key file, else
 * every user at the default rate, read only (so are GATEWAY_API_KEYS's keys, which have no line).
 */
export function callerOf (spec: KeySpec): Caller {
  const label = spec.name ?? keyId(spec.key)
  return { rateKey: `key:${label}`, label, scope: spec.users ?? EVERY_USER, rate: spec.rate, write: spec.write ?? false }
}

export function createKeyRing (specs: KeySpec[]): KeyRing {
  // One entry per key; a key listed twice keeps its first line.
  const seen = new Set<string>()
  const entries = specs.filter((spec) => !seen.has(spec.key) && seen.add(spec.key)).map((spec) => ({ digest: digest(spec.key), caller: callerOf(spec) }))
  // Tokens already verified, valid ones only: hashing every request's key was a fifth of the cost
  // of a cache hit. This keeps the keys in use in memory, as process.env does for
  // GATEWAY_API_KEYS; a wrong token is never remembered, so guesses always pay the full check.
  const verified = new Map<string, Caller>()
  return {
    verify (token) {
      const known = verified.get(token)
      if (known !== undefined) return known
      const candidate = digest(token)
      let found: Caller | undefined
      // No early exit: the time taken does not depend on which key (if any) matched.
      for (const entry of entries) {
        if (timingSafeEqual(candidate, entry.digest)) found = entry.caller
      }
      if (found !== undefined) {
        if (verified.size >= MEMO_LIMIT) verified.clear()
        verified.set(token, found)
      }
      return found
    },
    size: entries.length
  }
}
