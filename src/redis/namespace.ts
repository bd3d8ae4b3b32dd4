// Every key the gateway writes to Redis starts with one namespace per MOR server and API user:
// what one may see, another may not, even when several gateways share one Redis.
import { createHash } from 'node:crypto'
import type { Config } from '../config.js'

export function upstreamKeyPrefix (mor: Config['mor']): string {
  return `morgw:${createHash('sha256').update(`${mor.baseUrl}\n${mor.user}`).digest('hex').slice(0, 16)}`
}
