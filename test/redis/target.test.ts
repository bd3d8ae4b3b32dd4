import { describe, expect, it } from 'vitest'
import { parseRedisTarget } from '../../src/redis/target.js'

describe('parseRedisTarget', () => {
  it.each(['redis://127.0.0.1:6379', 'redis://localhost'])('leaves %s to ioredis', (url) => {
    expect(parseRedisTarget(url)).toStrictEqual({ kind: 'single', url, tls: false })
  })

  it('says when a single URL asks for TLS', () => {
    expect(parseRedisTarget('rediss://user:pw@redis.example.com:6380/2')).toStrictEqual({ kind: 'single', url: 'rediss://user:pw@redis.example.com:6380/2', tls: true })
  })

  it('reads a Sentinel URL with its sentinels, master name, password and db', () => {
    expect(parseRedisTarget('redis-sentinel://:s%40cret@10.0.0.1:26379,10.0.0.2,[::1]:26380/mymaster/3')).toStrictEqual({
      kind: 'sentinel',
      sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }, { host: '::1', port: 26380 }],
      name: 'mymaster',
      db: 3,
      tls: false,
      username: undefined,
      password: 's@cret'
    })
  })

  it('reads an ACL user and TLS in the Sentinel form', () => {
    expect(parseRedisTarget('rediss-sentinel://gateway:pw%3Aw@s1:26380/cache')).toStrictEqual({
      kind: 'sentinel', sentinels: [{ host: 's1', port: 26380 }], name: 'cache', db: 0, tls: true, username: 'gateway', password: 'pw:w'
    })
  })

  it('reads an ACL user and TLS in the Cluster form', () => {
    expect(parseRedisTarget('rediss-cluster://gateway:pw@n1:7000,n2:7001')).toStrictEqual({
      kind: 'cluster', nodes: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }], tls: true, username: 'gateway', password: 'pw'
    })
  })

  it('reads a Cluster URL with its seed nodes', () => {
    expect(parseRedisTarget('redis-cluster://node-a:7000,node-b:7001,node-c')).toStrictEqual({
      kind: 'cluster',
      nodes: [{ host: 'node-a', port: 7000 }, { host: 'node-b', port: 7001 }, { host: 'node-c', port: 6379 }],
      tls: false,
      username: undefined,
      password: undefined
    })
  })

  it.each([
    'http://redis', 'redis-sentinel://h1:26379', 'redis-sentinel://h1:26379/', 'redis-sentinel://h1:x/m', 'redis-cluster://a:1/0',
    'redis-cluster://', 'redis-sentinel://h1/m/db', 'memcached://x', 'redis-cluster://u:%zz@h1', 'redisss-cluster://h1'
  ])('refuses %s', (url) => {
    expect(parseRedisTarget(url)).toBeUndefined()
  })
})
