import { describe, expect, it } from 'vitest'
import { parseRedisTarget } from '../../src/redis/target.js'

describe('parseRedisTarget', () => {
  it.each(['redis://127.0.0.1:6379', 'rediss://user:pw@redis.example.com:6380/2', 'redis://localhost'])('leaves %s to ioredis', (url) => {
    expect(parseRedisTarget(url)).toStrictEqual({ kind: 'single', url })
  })

  it('reads a Sentinel URL with its sentinels, master name, password and db', () => {
    expect(parseRedisTarget('redis-sentinel://:s%40cret@10.0.0.1:26379,10.0.0.2,[::1]:26380/mymaster/3')).toStrictEqual({
      kind: 'sentinel',
      sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }, { host: '::1', port: 26380 }],
      name: 'mymaster',
      password: 's@cret',
      db: 3
    })
  })

  it('reads a Cluster URL with its seed nodes', () => {
    expect(parseRedisTarget('redis-cluster://node-a:7000,node-b:7001,node-c')).toStrictEqual({
      kind: 'cluster',
      nodes: [{ host: 'node-a', port: 7000 }, { host: 'node-b', port: 7001 }, { host: 'node-c', port: 6379 }],
      password: undefined
    })
  })

  it.each([
    'http://redis', 'redis-sentinel://h1:26379', 'redis-sentinel://h1:26379/', 'redis-sentinel://h1:x/m', 'redis-cluster://a:1/0',
    'redis-cluster://', 'redis-sentinel://h1/m/db', 'memcached://x'
  ])('refuses %s', (url) => {
    expect(parseRedisTarget(url)).toBeUndefined()
  })
})
