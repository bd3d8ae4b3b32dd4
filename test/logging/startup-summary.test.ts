// The start-up line's view of Redis: form, hosts and TLS, never a user or password.
import { describe, expect, it } from 'vitest'
import { describeRedis } from '../../src/logging/startup-summary.js'

describe('describeRedis', () => {
  it.each([
    [undefined, 'none (in-process cache only)'],
    ['redis://127.0.0.1:6379', 'single 127.0.0.1:6379'],
    ['rediss://gw:Pass-1@cache.example.com:6380/2', 'single cache.example.com:6380/2 (tls)'],
    ['rediss-sentinel://gw:Pass-2@s1:26379,[::1]:26380/cache/1', 'sentinel s1:26379,[::1]:26380 master cache (tls)'],
    ['redis-cluster://:Pass-3@n1:7000,n2', 'cluster n1:7000,n2:6379']
  ])('describes %s as %s', (url, text) => {
    expect(describeRedis(url)).toBe(text)
    for (const secret of ['Pass-1', 'Pass-2', 'Pass-3', 'gw']) expect(describeRedis(url)).not.toContain(secret)
  })
})
