// What of MOR's refusal a client may read: plain-word lines only, never a line that holds a
// credential the request sent in any spelling MOR may echo, and MOR's "in use" refusals in words.
import { describe, expect, it } from 'vitest'
import { inUseReason, quotable } from '../../src/devices/write-errors.js'

describe('quotable', () => {
  it('keeps MOR\'s plain-word lines, at most five, joined', () => {
    expect(quotable(['Device was not created', 'Pin is already used', 'Name has already been taken'], [])).toBe('Device was not created; Pin is already used; Name has already been taken')
    expect(quotable(['a', 'b', 'c', 'd', 'e', 'f'], [])).toBe('a; b; c; d; e')
  })

  it('leaves out a line with digits, =, & or %: it may echo a PIN or the signed form', () => {
    expect(quotable(['Pin 4455 is taken', 'u=admin&pin=4455&hash=abc', 'caf%C3%A9', 'Pin is already used'], [])).toBe('Pin is already used')
  })

  it('leaves out a line holding a credential sent, raw, percent-encoded or form-encoded', () => {
    const password = 'open sesame'
    expect(quotable(['Password open sesame is weak', 'Password open%20sesame', 'Password open+sesame', 'Password is too short'], [password])).toBe('Password is too short')
    expect(quotable(['Word hunter is weak'], ['hunter'])).toBe('')
  })

  it('leaves out a line over 200 characters rather than cutting it (a cut could keep part of a secret)', () => {
    expect(quotable([`${'x'.repeat(201)}`, 'Short'], [])).toBe('Short')
  })
})

describe('inUseReason', () => {
  it('says in plain words what keeps a device, from each documented refusal', () => {
    expect(inUseReason('Cannot delete device - it has calls...')).toBe('it has calls on record')
    expect(inUseReason('Device has forwarded calls - we cannot delete it')).toBe('calls are forwarded to it')
    expect(inUseReason('Device has Dial Plans - we cannot delete it')).toBe('dial plans use it')
    expect(inUseReason('Cannot delete device - it is assigned to Queue')).toBe('it is assigned to a queue')
    expect(inUseReason('Cannot delete device - something new')).toBe('something in MOR still uses it')
  })
})
