// Generated values for the device list's query parameters, near every edge the contract and the
// parser draw: digits, signs, exponents, spaces, separators, case, length. Shared by the pattern
// test (the contract's patterns against the parser) and the Prism test (Prism against the gateway).
import fc from 'fast-check'
import { MAX_LIMIT } from '../../src/schemas/device-list.js'

export const LIMITISH = fc.oneof(
  fc.integer({ min: -3, max: 2 * MAX_LIMIT }).map(String),
  fc.stringMatching(/^[0+\- ]?[0-9]{0,5}(\.[0-9]|e[0-9])?$/),
  fc.constantFrom('', '0', '1', '0100', '01', '1e2', '+5', ' 5', '5 ', '5.0', String(MAX_LIMIT), String(MAX_LIMIT + 1), '１２')
)

const TYPE_PIECES = fc.constantFrom(...'aZ09_+-,. ;é'.split(''), 'SIP', 'IAX2', 'x'.repeat(31))
export const TYPEISH = fc.array(TYPE_PIECES, { maxLength: 48 }).map((pieces) => pieces.join(''))

export const PRIMARYISH = fc.constantFrom('true', 'false', '1', '0', 'TRUE', 'yes', '')

/** A list query of any of the three, each present or not (never a parameter twice, never an unknown one). */
export const LIST_QUERY = fc.record({ type: TYPEISH, limit: LIMITISH, primary: PRIMARYISH }, { requiredKeys: [] })
