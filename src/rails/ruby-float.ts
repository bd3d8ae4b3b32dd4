// Ruby's Float#to_s. A JSON float stays a Float in Rails (`{"device": 5.0}` is not the integer 5),
// and a JavaScript number cannot tell 5.0 from 5, so parameters hold a float as the text Ruby
// prints for it: "5.0", "1.0e+20", "-0.0", "Infinity".

/** The text Ruby's `Float#to_s` gives for `x`. */
export function rubyFloatText (x: number): string {
  if (Number.isNaN(x)) return 'NaN'
  if (x === Infinity) return 'Infinity'
  if (x === -Infinity) return '-Infinity'
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0'
  const sign = x < 0 ? '-' : ''
  // toExponential() without digits gives the shortest round-trip digits, as Ruby's dtoa mode 0 does.
  const [mantissa, exponent] = Math.abs(x).toExponential().split('e')
  const digits = mantissa.replace('.', '')
  const point = Number(exponent) + 1 // the value is 0.<digits> x 10^point
  // Measured on Ruby 3.1: fixed notation up to 16 integer digits, and at 16 only with a fraction.
  if ((point > -4 && point < 16) || (point === 16 && digits.length > 16)) {
    if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`
    if (digits.length <= point) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`
    return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`
  }
  const e = point - 1
  const fraction = digits.length > 1 ? digits.slice(1) : '0'
  return `${sign}${digits[0]}.${fraction}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`
}
