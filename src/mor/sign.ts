// MOR's request signature: SHA1 hex of the hashed parameters' values concatenated, then the API
// secret appended; which parameters, in which order, each method's catalogue entry says.
// The result is a replayable credential for that user or device (it has no timestamp), so callers
// must treat it like the secret itself.
import { createHash } from 'node:crypto'

export function signParams (values: readonly string[], secret: string): string {
  return createHash('sha1').update(values.join('') + secret).digest('hex')
}

/** devices_get's hash (user_id alone), for the demo's printed example call. */
export function devicesGetHash (userId: number, secret: string): string {
  return signParams([String(userId)], secret)
}

/**
 * The hash of a call by its method's description: the values of the hashed parameters that are
 * sent (`u` and `p` among them, for the methods that hash them), in MOR's order.
 */
export function signSent (hashed: readonly string[], sent: Readonly<Record<string, string | undefined>>, secret: string): string {
  const values: string[] = []
  for (const name of hashed) {
    const value = sent[name]
    if (value !== undefined) values.push(value)
  }
  return signParams(values, secret)
}
