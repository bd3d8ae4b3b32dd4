// The one line an operator reads after a deploy: what this gateway will do, and nothing secret.
// MOR by origin only (a MOR_URL may carry credentials), Redis by form and hosts (never the
// user or password), auth by mode and key count, never a key; the trace collector by origin
// (its path or headers may hold a tenant's token).
import type { Config } from '../config.js'
import { parseRedisTarget } from '../redis/target.js'

export interface StartupSummary {
  mor: string
  redis: string
  auth: string
  apiKeys: number
  passthrough: boolean
  docs: boolean
  /** Where spans go (the collector's origin only: its path or headers may hold a token) and which are kept. */
  tracing: string
  listeners: string[]
}

/** Redis as `<form> <hosts>`, TLS marked, credentials left out. */
export function describeRedis (url: string | undefined): string {
  if (url === undefined) return 'none (in-process cache only)'
  const target = parseRedisTarget(url)
  if (!target) return 'invalid'
  const tls = target.tls ? ' (tls)' : ''
  if (target.kind === 'single') {
    try {
      const { host, pathname } = new URL(url)
      return `single ${host}${pathname.length > 1 ? pathname : ''}${tls}`
    } catch {
      return `single${tls}`
    }
  }
  const hosts = (target.kind === 'sentinel' ? target.sentinels : target.nodes).map((h) => (h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`)).join(',')
  return target.kind === 'sentinel' ? `sentinel ${hosts} master ${target.name}${tls}` : `cluster ${hosts}${tls}`
}

export function startupSummary (config: Config, listeners: string[]): StartupSummary {
  const { auth } = config
  const modes = [auth.keys.length + auth.fileKeys.length > 0 ? 'api-keys' : undefined, auth.jwt ? 'jwt' : undefined].filter(Boolean)
  return {
    mor: new URL(config.mor.baseUrl).origin,
    redis: describeRedis(config.redis?.url),
    auth: auth.disabled ? 'disabled (open to anyone)' : modes.join('+'),
    apiKeys: auth.keys.length + auth.fileKeys.length,
    passthrough: config.legacy.enabled,
    docs: config.docsEnabled,
    tracing: config.tracing ? `otlp ${new URL(config.tracing.url).origin} (${config.tracing.sampler}${config.tracing.sampler.endsWith('ratio') ? ` ${config.tracing.ratio}` : ''})` : 'off',
    listeners
  }
}
