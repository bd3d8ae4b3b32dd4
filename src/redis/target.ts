// What REDIS_URL points at: one Redis (redis://, rediss:// as ioredis reads them), a Sentinel-
// managed primary, or a Cluster. ioredis supports all three but reads only the first from a URL,
// so the other two get URL forms of their own:
//   redis-sentinel://[:password@]host:26379,host:26379/<master name>[/<db>]
//   redis-cluster://[:password@]host:6379,host:6379
export type RedisTarget =
  | { kind: 'single', url: string }
  | { kind: 'sentinel', sentinels: Array<{ host: string, port: number }>, name: string, password: string | undefined, db: number }
  | { kind: 'cluster', nodes: Array<{ host: string, port: number }>, password: string | undefined }

const HOST_LIST = /^(?:(?:[^:@/]*):([^@/]*)@)?([^/@]+)(?:\/(.*))?$/

function hosts (list: string, defaultPort: number): Array<{ host: string, port: number }> | undefined {
  const out = []
  for (const item of list.split(',')) {
    const match = /^(\[[0-9a-fA-F:]+\]|[^:[\]]+)(?::([0-9]{1,5}))?$/.exec(item.trim())
    if (!match?.[1]) return undefined
    out.push({ host: match[1].replace(/^\[|\]$/g, ''), port: match[2] ? Number(match[2]) : defaultPort })
  }
  return out
}

/** The parsed target, or undefined when the URL is not one of the three forms. */
export function parseRedisTarget (url: string): RedisTarget | undefined {
  if (/^rediss?:\/\/\S+$/.test(url)) return { kind: 'single', url }
  const scheme = /^(redis-sentinel|redis-cluster):\/\/(.+)$/.exec(url)
  if (!scheme?.[2]) return undefined
  const parts = HOST_LIST.exec(scheme[2])
  if (!parts?.[2]) return undefined
  const password = parts[1] ? decodeURIComponent(parts[1]) : undefined
  if (scheme[1] === 'redis-cluster') {
    const nodes = hosts(parts[2], 6379)
    return nodes && parts[3] === undefined ? { kind: 'cluster', nodes, password } : undefined
  }
  const sentinels = hosts(parts[2], 26379)
  const [name, db = '0'] = (parts[3] ?? '').split('/')
  if (!sentinels || !name || !/^[0-9]{1,2}$/.test(db)) return undefined
  return { kind: 'sentinel', sentinels, name, password, db: Number(db) }
}
