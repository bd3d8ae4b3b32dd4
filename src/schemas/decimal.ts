// Decimal integers as the gateway reads them from a path or a query: digits only, no sign, no
// leading zeros, within a range. JSON Schema's minimum and maximum apply to numbers, and a
// validator that reads a parameter as a number first (Prism, Swagger UI) accepts `007` or `1e2`
// that the gateway refuses; so the contract states the rule as a pattern on the text, built here
// from the same bound the code checks.

/** `lo` to `hi` (single digits) as a regex character class, or the digit itself. */
const digits = (lo: number, hi: number) => lo === hi ? String(lo) : `[${lo}-${hi}]`
const anyDigits = (count: number) => count === 0 ? '' : count === 1 ? '[0-9]' : `[0-9]{${count}}`

/**
 * An anchored pattern for the decimal integers from `min` (0 or 1) to `max`, without sign or
 * leading zeros: shorter numbers, then each way of staying under `max` digit by digit, then `max`'s
 * own last digit range. For 2147483647 this is the user id rule MOR's INT(11) ids follow.
 */
export function decimalPattern (max: number, min: 0 | 1 = 0): string {
  if (!Number.isSafeInteger(max) || max < Math.max(min, 1)) throw new RangeError(`decimalPattern: bad maximum ${max}`)
  const top = String(max)
  const n = top.length
  const alternatives: string[] = min === 0 ? ['0'] : []
  if (n > 1) alternatives.push(n === 2 ? '[1-9]' : `[1-9][0-9]{0,${n - 2}}`)
  for (let i = 0; i < n; i++) {
    const last = i === n - 1
    const low = i === 0 ? 1 : 0
    const high = Number(top[i]) - (last ? 0 : 1)
    if (high < low) continue
    alternatives.push(`${top.slice(0, i)}${digits(low, high)}${anyDigits(n - i - 1)}`)
  }
  return `^(${alternatives.join('|')})$`
}
