// Gateway API keys as a unit: the key file format, verification, and the ids logs see.
import { describe, expect, it } from 'vitest'
import { createKeyRing, keyId, parseKeyFile } from '../../src/auth/api-keys.js'

const KEY_A = 'key-a-0123456789abcdef'
const KEY_B = 'key-b-fedcba9876543210'

describe('parseKeyFile', () => {
  it('reads one key per line', () => {
    expect(parseKeyFile(`${KEY_A}\n${KEY_B}\n`)).toStrictEqual([KEY_A, KEY_B])
  })

  it('ignores blank lines, whitespace-only lines and comment lines', () => {
    const text = `# gateway keys, one per line\n\n${KEY_A}\n   \n\t\n# retired: old-key-000000000000\n${KEY_B}`
    expect(parseKeyFile(text)).toStrictEqual([KEY_A, KEY_B])
  })

  it('drops a comment after a key on the same line', () => {
    expect(parseKeyFile(`${KEY_A}   # billing team\n${KEY_B}#ops`)).toStrictEqual([KEY_A, KEY_B])
  })

  it('trims spaces and tabs around keys', () => {
    expect(parseKeyFile(`  ${KEY_A}\t\n\t${KEY_B}  `)).toStrictEqual([KEY_A, KEY_B])
  })

  it('reads a file with Windows line endings without keeping the carriage returns', () => {
    expect(parseKeyFile(`# keys\r\n${KEY_A}\r\n\r\n${KEY_B}\r\n`)).toStrictEqual([KEY_A, KEY_B])
  })

  it('returns no keys for an empty file or one with only comments', () => {
    expect(parseKeyFile('')).toStrictEqual([])
    expect(parseKeyFile('# nothing here yet\n\n# still nothing\n')).toStrictEqual([])
  })
})

describe('createKeyRing', () => {
  it('verifies each configured key to its id', () => {
    const ring = createKeyRing([KEY_A, KEY_B])
    expect(ring.verify(KEY_A)).toBe(keyId(KEY_A))
    expect(ring.verify(KEY_B)).toBe(keyId(KEY_B))
  })

  it('rejects a wrong key, a key that differs in one character, a prefix, and a longer key', () => {
    const ring = createKeyRing([KEY_A])
    expect(ring.verify('not-a-key-at-all-000000')).toBeUndefined()
    expect(ring.verify(`${KEY_A.slice(0, -1)}0`)).toBeUndefined()
    expect(ring.verify(KEY_A.slice(0, -1))).toBeUndefined()
    expect(ring.verify(`${KEY_A}0`)).toBeUndefined()
    expect(ring.verify(KEY_A.toUpperCase())).toBeUndefined()
  })

  it('rejects an empty token', () => {
    expect(createKeyRing([KEY_A]).verify('')).toBeUndefined()
  })

  it('rejects everything when it holds no keys', () => {
    const ring = createKeyRing([])
    expect(ring.size).toBe(0)
    expect(ring.verify('')).toBeUndefined()
    expect(ring.verify(KEY_A)).toBeUndefined()
  })

  it('counts a key listed twice once', () => {
    const ring = createKeyRing([KEY_A, KEY_B, KEY_A])
    expect(ring.size).toBe(2)
    expect(ring.verify(KEY_A)).toBe(keyId(KEY_A))
  })
})

describe('keyId', () => {
  it('is stable for a key, across calls and across key rings', () => {
    expect(keyId(KEY_A)).toBe(keyId(KEY_A))
    expect(createKeyRing([KEY_A]).verify(KEY_A)).toBe(createKeyRing([KEY_B, KEY_A]).verify(KEY_A))
  })

  it('is a short key-prefixed hex id', () => {
    expect(keyId(KEY_A)).toMatch(/^key-[0-9a-f]{12}$/)
  })

  it('differs between keys', () => {
    expect(keyId(KEY_A)).not.toBe(keyId(KEY_B))
  })

  it('does not contain the key or any long piece of it', () => {
    for (const key of [KEY_A, KEY_B, 'abcdef012345abcdef012345']) {
      const id = keyId(key)
      expect(id).not.toContain(key)
      // No 8-character run of the key shows up in its id.
      for (let i = 0; i + 8 <= key.length; i++) expect(id).not.toContain(key.slice(i, i + 8))
    }
  })
})
