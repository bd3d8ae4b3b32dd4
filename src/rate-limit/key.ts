// Whom both per-caller limits (the request rate and the budget of calls to MOR) count a request
// against: its caller (a key's name or id, a token's subject), or its address when no valid
// credential came with it. One rule for the rate-limit hook, the hit lane and the routes.
import type { Caller } from '../auth/caller.js'

export const limitKey = (caller: Caller | undefined, ip: string): string => caller?.rateKey ?? `ip:${ip}`
