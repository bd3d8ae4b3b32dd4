// What REDIS_URL points at: one Redis (redis://, rediss:// as ioredis reads them), a Sentinel-
// managed primary, or a Cluster. ioredis supports all three but reads only the first from a URL,
// so the other two get URL forms of their own, with TLS as the extra "s" the way rediss:// has it:
//   redis[s]-sentinel://[user][:password@]host:26379,host:26379/<master name>[/<db>]
//   redis[s]-cluster://[user][:password@]host:6379,host:6379
// The credentials (an ACL user, or only a password for `default`) and TLS apply to every
// connection: to each sentinel and the primary it names, to each node of a Cluster.
export interface RedisCredentials { username: string | undefined, password: string | undefined }
type Hosts = Array<{ host: string, port: number }>

export type RedisTarget =
  | { kind: 'single', url: string, tls: boolean }
  | ({ kind: 'sentinel', sentinels: Hosts, name: string, db: number, tls: boolean } & RedisCredentials)
  | ({ kind: 'cluster', nodes: Hosts, tls: boolean } & RedisCredentials)

const HOST_LIST = /^(?:([^:@/]*)(?::([^@/]*))?@)?([^/@]+)(?:\/(.*))?$/

function hosts (list: string, defaultPort: number): Hosts | undefined {
  const out = []
  for (const item of list.split(',')) {
    const match = /^(\[[0-9a-fA-F:]+\]|[^:[\]]+)(?::([0-9]{1,5}))?$/.exec(item.trim())
    if (!match?.[1]) return undefined
    out.push({ host: match[1].replace(/^\[|\]$/g, ''), port: match[2] ? Number(match[2]) : defaultPort })
  }
  return out
}

const decoded = (part: string | undefined) => (part ? decodeURIComponent(part) : undefined)

/** The parsed target, or undefined when the URL is not one of the forms. */
export function parseRedisTarget (url: string): RedisTarget | undefined {
  if (/^rediss?:\/\/\S+$/.test(url)) return { kind: 'single', url, tls: url.startsWith('rediss:') }
  const scheme = /^redis(s?)-(sentinel|cluster):\/\/(.+)$/.exec(url)
  if (!scheme?.[3]) return undefined
  const parts = HOST_LIST.exec(scheme[3])
  if (!parts?.[3]) return undefined
  let credentials: RedisCredentials
  try {
    credentials = { username: decoded(parts[1]), password: decoded(parts[2]) }
  } catch {
    return undefined // a malformed %-escape
  }
  const tls = scheme[1] === 's'
  if (scheme[2] === 'cluster') {
    const nodes = hosts(parts[3], 6379)
    return nodes && parts[4] === undefined ? { kind: 'cluster', nodes, tls, ...credentials } : undefined
  }
  const sentinels = hosts(parts[3], 26379)
  const [name, db = '0'] = (parts[4] ?? '').split('/')
  if (!sentinels || !name || !/^[0-9]{1,2}$/.test(db)) return undefined
  return { kind: 'sentinel', sentinels, name, db: Number(db), tls, ...credentials }
}
