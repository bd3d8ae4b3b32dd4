// Request ids: a sane caller's id is kept; otherwise a fresh RFC 9562 version-8 UUID, random per
// instance and counting per request.
import type { IncomingMessage } from 'node:http'
import { describe, expect, it, vi } from 'vitest'
import { idSource, requestId } from '../../src/logging/request-id.js'

const V8_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const withId = (id?: string | string[]) => ({ headers: id === undefined ? {} : { 'x-request-id': id } }) as unknown as IncomingMessage

describe('requestId', () => {
  it('keeps a sane caller id and replaces anything else with a fresh one', () => {
    expect(requestId(withId('abc-123'))).toBe('abc-123')
    expect(requestId(withId('a'.repeat(128)))).toBe('a'.repeat(128))
    for (const bad of [undefined, '', 'a'.repeat(129), 'two words', 'line\nbreak', 'é', ['a', 'b']]) {
      expect(requestId(withId(bad)), String(bad)).toMatch(V8_UUID)
    }
  })

  it('gives every request its own id, counting on from one random prefix', () => {
    const ids = Array.from({ length: 10_000 }, () => requestId(withId()))
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids) expect(id).toMatch(V8_UUID)
    const prefixes = new Set(ids.map((id) => id.slice(0, 24)))
    expect(prefixes.size).toBe(1)
    const counts = ids.map((id) => parseInt(id.slice(24), 16))
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBe((counts[i - 1] ?? NaN) + 1)
  })

  it('draws a new random prefix in each instance', async () => {
    const first = requestId(withId())
    vi.resetModules()
    const again = await import('../../src/logging/request-id.js')
    const other = again.requestId(withId())
    expect(other).toMatch(V8_UUID)
    expect(other.slice(0, 24)).not.toBe(first.slice(0, 24))
  })
})

describe('idSource', () => {
  it('sets the version to 8 and keeps the random UUID variant bits', () => {
    const next = idSource('01234567-89ab-4cde-bf01-23456789abcd', 255)
    expect(next()).toBe('01234567-89ab-8cde-bf01-0000000000ff')
    expect(next()).toBe('01234567-89ab-8cde-bf01-000000000100')
  })

  it('wraps its 48-bit count instead of growing a thirteenth digit', () => {
    const next = idSource('01234567-89ab-4cde-bf01-23456789abcd', 2 ** 48 - 1)
    expect(next()).toBe('01234567-89ab-8cde-bf01-ffffffffffff')
    expect(next()).toBe('01234567-89ab-8cde-bf01-000000000000')
  })
})
