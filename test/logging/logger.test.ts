import { describe, expect, it } from 'vitest'
import { scrubUrl } from '../../src/logging/logger.js'

describe('scrubUrl', () => {
  it.each([
    ['/billing/api/devices_get?u=admin&hash=abc', '/billing/api/devices_get?u=admin&hash=[redacted]'],
    ['/x?%68ash=abc', '/x?%68ash=[redacted]'],
    ['/x?u=1;hash=abc', '/x?u=1;hash=[redacted]'],
    ['/x?hash[]=abc&hash[a]=def', '/x?hash[]=[redacted]&hash[a]=[redacted]'],
    ['/x?hash%5B%5D=abc', '/x?hash%5B%5D=[redacted]'],
    ['/x?HASH=abc&P=pw', '/x?HASH=[redacted]&P=[redacted]'],
    ['/v1/users/1/devices?access_token=key-123', '/v1/users/1/devices?access_token=[redacted]'],
    ['/x?api_key=a&key=b&token=c&password=d&secret=e&pin=f&client_secret=g', '/x?api_key=[redacted]&key=[redacted]&token=[redacted]&password=[redacted]&secret=[redacted]&pin=[redacted]&client_secret=[redacted]'],
    ['/x?hash+=abc', '/x?hash+=[redacted]'],
    ['/x?%ZZ=1&hash=abc', '/x?%ZZ=1&hash=[redacted]']
  ])('redacts credentials in %s', (url, scrubbed) => {
    expect(scrubUrl(url)).toBe(scrubbed)
  })

  it('leaves other parameters, and URLs without a query, as they are', () => {
    expect(scrubUrl('/billing/api/devices_get?u=admin&user_id=7&hashtag=x')).toBe('/billing/api/devices_get?u=admin&user_id=7&hashtag=x')
    expect(scrubUrl('/v1/users/7/devices')).toBe('/v1/users/7/devices')
  })
})
