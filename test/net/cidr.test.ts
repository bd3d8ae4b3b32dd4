// Address allowlists for LEGACY_ALLOW_CIDRS: what parses, and which client addresses match.
import { describe, expect, it } from 'vitest'
import { allowList, parseCidr } from '../../src/net/cidr.js'

describe('parseCidr', () => {
  it('parses an IPv4 block', () => {
    expect(parseCidr('10.0.0.0/8')).toStrictEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' })
  })

  it('parses an IPv6 block', () => {
    expect(parseCidr('2001:db8::/32')).toStrictEqual({ address: '2001:db8::', prefix: 32, family: 'ipv6' })
  })

  it('reads a single IPv4 address as a /32', () => {
    expect(parseCidr('192.0.2.7')).toStrictEqual({ address: '192.0.2.7', prefix: 32, family: 'ipv4' })
  })

  it('reads a single IPv6 address as a /128', () => {
    expect(parseCidr('::1')).toStrictEqual({ address: '::1', prefix: 128, family: 'ipv6' })
  })

  it('ignores whitespace around the entry', () => {
    expect(parseCidr('  172.16.0.0/12 ')).toStrictEqual({ address: '172.16.0.0', prefix: 12, family: 'ipv4' })
  })

  it('accepts the widest prefixes /0 and the narrowest /32 and /128', () => {
    expect(parseCidr('0.0.0.0/0')).toStrictEqual({ address: '0.0.0.0', prefix: 0, family: 'ipv4' })
    expect(parseCidr('::/0')).toStrictEqual({ address: '::', prefix: 0, family: 'ipv6' })
    expect(parseCidr('192.0.2.7/32')).toStrictEqual({ address: '192.0.2.7', prefix: 32, family: 'ipv4' })
    expect(parseCidr('2001:db8::1/128')).toStrictEqual({ address: '2001:db8::1', prefix: 128, family: 'ipv6' })
  })

  const invalid = [
    ['an empty string', ''],
    ['a word', 'localhost'],
    ['a prefix without an address', '/8'],
    ['an address with an empty prefix', '10.0.0.0/'],
    ['an IPv4 prefix over 32', '10.0.0.0/33'],
    ['an IPv6 prefix over 128', '2001:db8::/129'],
    ['a negative prefix', '10.0.0.0/-1'],
    ['a prefix with trailing junk', '10.0.0.0/8x'],
    ['a prefix with a space inside', '10.0.0.0/ 8'],
    ['two prefixes', '10.0.0.0/8/8'],
    ['an IPv4 octet over 255', '300.0.0.0/8'],
    ['a short IPv4 address', '1.2.3'],
    ['an IPv4 octet with a leading zero', '01.2.3.4'],
    ['a hostname with a prefix', 'example.com/24']
  ] as const
  for (const [what, text] of invalid) {
    it(`rejects ${what} (${JSON.stringify(text)})`, () => {
      expect(parseCidr(text)).toBeUndefined()
    })
  }
})

describe('allowList', () => {
  const allowed = allowList(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32'])

  it('matches IPv4 addresses inside a block and not outside it', () => {
    expect(allowed('10.0.0.0')).toBe(true)
    expect(allowed('10.255.255.255')).toBe(true)
    expect(allowed('11.0.0.1')).toBe(false)
    expect(allowed('9.255.255.255')).toBe(false)
  })

  it('matches a single IPv4 address exactly', () => {
    expect(allowed('192.0.2.7')).toBe(true)
    expect(allowed('192.0.2.8')).toBe(false)
  })

  it('matches IPv6 addresses inside a block, however they are written', () => {
    expect(allowed('2001:db8::1')).toBe(true)
    expect(allowed('2001:0db8:0000:0000:0000:0000:0000:0001')).toBe(true)
    expect(allowed('2001:db9::1')).toBe(false)
    expect(allowed('::1')).toBe(false)
  })

  it('treats an IPv4-mapped IPv6 address as the IPv4 address', () => {
    expect(allowed('::ffff:10.1.2.3')).toBe(true)
    expect(allowed('::FFFF:10.1.2.3')).toBe(true)
    expect(allowed('::ffff:192.0.2.7')).toBe(true)
    expect(allowed('::ffff:11.0.0.1')).toBe(false)
  })

  it('does not let an IPv4 block admit IPv6 clients', () => {
    const everyIpv4 = allowList(['0.0.0.0/0'])
    expect(everyIpv4('203.0.113.50')).toBe(true)
    expect(everyIpv4('::1')).toBe(false)
    expect(everyIpv4('2001:db8::1')).toBe(false)
  })

  it('does not let an IPv6-only list admit mapped IPv4 clients', () => {
    expect(allowList(['2001:db8::/32'])('::ffff:10.1.2.3')).toBe(false)
  })

  it('matches a block written with host bits set as the whole block', () => {
    expect(allowList(['10.0.0.1/8'])('10.200.0.1')).toBe(true)
  })

  it('refuses anything that is not an address', () => {
    expect(allowed('')).toBe(false)
    expect(allowed('garbage')).toBe(false)
    expect(allowed('10.1.2.3 ')).toBe(false)
  })

  it('admits nobody when the list is empty', () => {
    const nobody = allowList([])
    expect(nobody('127.0.0.1')).toBe(false)
    expect(nobody('::1')).toBe(false)
  })

  it('skips entries that do not parse and keeps the rest', () => {
    const list = allowList(['not-a-cidr', '127.0.0.1'])
    expect(list('127.0.0.1')).toBe(true)
    expect(list('127.0.0.2')).toBe(false)
  })
})
