// Which MOR users a caller may read: every user, or a set of ids and inclusive ranges. Parsed once
// per key (at start and on SIGHUP) and once per token (its verification is cached), so the check
// on every request is a walk over a few ranges.
import { idOf, USER_ID_PATTERN } from '../schemas/device.js'

export interface Scope {
  /** True when the caller may read this user's devices. */
  has: (userId: number) => boolean
  /** The one user the scope holds, when it holds exactly one (GET /v1/me/devices), else undefined. */
  readonly single: number | undefined
  /** How the scope reads in a key file (`*` or `100-199,205`); for logs and tests. */
  readonly text: string
}

export const EVERY_USER: Scope = { has: () => true, single: undefined, text: '*' }

/**
 * True for a scope of every user, by what it says rather than by identity: a scope can reach a
 * caller as a copy of EVERY_USER (the configuration's decoder copies the key file's specs).
 */
export const isEveryUser = (scope: Scope): boolean => scope.text === EVERY_USER.text

/** Sorted, merged inclusive ranges. */
function scopeOf (ranges: Array<[number, number]>): Scope {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0])
  const merged: Array<[number, number]> = []
  for (const [from, to] of sorted) {
    const last = merged.at(-1)
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to)
    else merged.push([from, to])
  }
  const first = merged[0]
  return {
    has (userId) {
      for (const [from, to] of merged) {
        if (userId < from) return false
        if (userId <= to) return true
      }
      return false
    },
    single: merged.length === 1 && first !== undefined && first[0] === first[1] ? first[0] : undefined,
    text: merged.map(([from, to]) => (from === to ? String(from) : `${from}-${to}`)).join(',')
  }
}

// The route's own user-id rule (decimal, no sign or leading zeros, at most MAX_USER_ID), so a
// scope can never name an id the route refuses: one id or range (one id: idOf).
const ID_RULE = USER_ID_PATTERN.slice(1, -1)
const ITEM = new RegExp(`^${ID_RULE}(?:-${ID_RULE})?$`)

/**
 * A key file's `users=` value: `*`, or ids and inclusive ranges separated by commas
 * (`100-199,205`). Undefined when malformed (an empty item, a reversed range, an id out of range).
 */
export function parseUsers (text: string): Scope | undefined {
  if (text === '*') return EVERY_USER
  const ranges: Array<[number, number]> = []
  for (const item of text.split(',')) {
    const match = ITEM.exec(item)
    if (!match) return undefined
    const from = Number(match[1])
    const to = match[2] === undefined ? from : Number(match[2])
    if (to < from) return undefined
    ranges.push([from, to])
  }
  return scopeOf(ranges)
}

/**
 * A token's user claim: an id (integer or string of digits), an array of them, or `"*"`.
 * Undefined when it is anything else, or an empty array: such a token may read nobody.
 */
export function scopeFromClaim (claim: unknown): Scope | undefined {
  if (claim === '*') return EVERY_USER
  const items = Array.isArray(claim) ? claim : [claim]
  if (items.length === 0 || items.length > 10_000) return undefined
  const ranges: Array<[number, number]> = []
  for (const item of items) {
    const id = idOf(item)
    if (id === undefined) return undefined
    ranges.push([id, id])
  }
  return scopeOf(ranges)
}
