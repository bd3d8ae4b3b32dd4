// Gateway API keys as a unit: the key file format, verification, and the ids logs see; and, through
// the gateway's own configuration, which keys may write.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { callerOf, createKeyRing, keyId, parseKeyFile, type KeySpec } from '../../src/auth/api-keys.js'
import { mayWrite } from '../../src/auth/caller.js'
import { closeAfterTest, gateway, simulator } from '../helpers/scoped.js'

const KEY_A = 'key-a-0123456789abcdef'
const KEY_B = 'key-b-fedcba9876543210'
/** The keys of a key file that parsed. */
const keysOf = (text: string) => {
  const file = parseKeyFile(text)
  expect(file.problem).toBeUndefined()
  return file.keys.map((spec) => spec.key)
}
const specs = (...keys: string[]): KeySpec[] => keys.map((key) => ({ key }))
const idOf = (ring: ReturnType<typeof createKeyRing>, token: string) => ring.verify(token)?.label

describe('parseKeyFile', () => {
  it('reads one key per line', () => {
    expect(keysOf(`${KEY_A}\n${KEY_B}\n`)).toStrictEqual([KEY_A, KEY_B])
  })

  it('ignores blank lines, whitespace-only lines and comment lines', () => {
    const text = `# gateway keys, one per line\n\n${KEY_A}\n   \n\t\n# retired: old-key-000000000000\n${KEY_B}`
    expect(keysOf(text)).toStrictEqual([KEY_A, KEY_B])
  })

  it('drops a comment after a key on the same line', () => {
    expect(keysOf(`${KEY_A}   # billing team\n${KEY_B}#ops`)).toStrictEqual([KEY_A, KEY_B])
  })

  it('trims spaces and tabs around keys', () => {
    expect(keysOf(`  ${KEY_A}\t\n\t${KEY_B}  `)).toStrictEqual([KEY_A, KEY_B])
  })

  it('reads a file with Windows line endings without keeping the carriage returns', () => {
    expect(keysOf(`# keys\r\n${KEY_A}\r\n\r\n${KEY_B}\r\n`)).toStrictEqual([KEY_A, KEY_B])
  })

  it('returns no keys for an empty file or one with only comments', () => {
    expect(keysOf('')).toStrictEqual([])
    expect(keysOf('# nothing here yet\n\n# still nothing\n')).toStrictEqual([])
  })
})

describe('key file fields', () => {
  it('reads name, users and rate after the key, in any order', () => {
    const { keys, problem } = parseKeyFile(`${KEY_A} name=portal users=100-199,205 rate=30\n${KEY_B} rate=5 users=* name=ops\n`)
    expect(problem).toBeUndefined()
    expect(keys.map((k) => ({ key: k.key, name: k.name, users: k.users?.text, rate: k.rate }))).toStrictEqual([
      { key: KEY_A, name: 'portal', users: '100-199,205', rate: 30 },
      { key: KEY_B, name: 'ops', users: '*', rate: 5 }
    ])
  })

  it('makes a bare key every user at the default rate, known by its id', () => {
    const caller = createKeyRing(parseKeyFile(KEY_A).keys).verify(KEY_A)
    expect(caller?.scope.has(0)).toBe(true)
    expect(caller?.scope.has(2147483647)).toBe(true)
    expect(caller?.rate).toBeUndefined()
    expect(caller?.label).toBe(keyId(KEY_A))
    expect(caller?.rateKey).toBe(`key:${keyId(KEY_A)}`)
  })

  it('makes a named key known by its name, scoped and rated as the file says', () => {
    const caller = createKeyRing(parseKeyFile(`${KEY_A} name=portal users=100-102,205 rate=30`).keys).verify(KEY_A)
    expect(caller?.label).toBe('portal')
    expect(caller?.rateKey).toBe('key:portal')
    expect(caller?.rate).toBe(30)
    expect([99, 100, 101, 102, 103, 204, 205, 206].map((id) => caller?.scope.has(id))).toStrictEqual([false, true, true, true, false, false, true, false])
  })

  it.each([
    [`${KEY_A} name=`, 'line 1: name= must be'],
    [`${KEY_A} name=a b`, 'line 1: unknown field "b"'],
    [`${KEY_A} users=`, 'line 1: users= must be'],
    [`${KEY_A} users=5-3`, 'line 1: users= must be'],
    [`${KEY_A} users=01`, 'line 1: users= must be'],
    [`${KEY_A} users=1,,2`, 'line 1: users= must be'],
    [`${KEY_A} users=2147483648`, 'line 1: users= must be'],
    [`${KEY_A} rate=0`, 'line 1: rate= must be'],
    [`${KEY_A} rate=1.5`, 'line 1: rate= must be'],
    [`${KEY_A} rate=99999999`, 'line 1: rate= must be'],
    [`${KEY_A} colour=blue`, 'line 1: unknown field "colour" (fields are name=, users=, rate=, access=)'],
    [`${KEY_A} access`, 'line 1: unknown field "access"'],
    [`${KEY_A} access=`, 'line 1: access= must be read or read,write'],
    [`${KEY_A} access=write`, 'line 1: access= must be read or read,write'],
    [`${KEY_A} access=read,read`, 'line 1: access= must be read or read,write'],
    [`${KEY_A} access=read,write,read`, 'line 1: access= must be read or read,write'],
    [`${KEY_A} access=read,`, 'line 1: access= must be read or read,write'],
    [`${KEY_A} access=read,delete`, 'line 1: access= must be read or read,write'],
    [`${KEY_A} access=READ,WRITE`, 'line 1: access= must be read or read,write'],
    [`${KEY_A} access=read access=read,write`, 'line 1: access= given twice'],
    [`${KEY_A} rate=1 rate=2`, 'line 1: rate= given twice'],
    ['# keys\n\nshort-key name=x', 'line 3: the key is shorter than 16'],
    [`${KEY_A} name=x\n${KEY_B} name=x`, 'line 2: name=x is already line 1\'s']
  ])('reports %j by line number, never quoting the key', (text, message) => {
    const { problem } = parseKeyFile(text)
    expect(problem).toContain(message)
    expect(problem).not.toContain(KEY_A)
    expect(problem).not.toContain(KEY_B)
    expect(problem).not.toContain('short-key')
  })

  it('reports every unusable line at once', () => {
    const { problem } = parseKeyFile(`${KEY_A} rate=0\n${KEY_B}\n${KEY_B}x users=x`)
    expect(problem).toContain('line 1:')
    expect(problem).toContain('line 3:')
    expect(problem).not.toContain('line 2:')
  })
})

describe('write access', () => {
  /** The caller KEY_A stands for in a key file that parsed. */
  const callerFor = (text: string) => {
    const file = parseKeyFile(text)
    expect(file.problem).toBeUndefined()
    return createKeyRing(file.keys).verify(KEY_A)
  }

  it('makes a key read only unless its line says otherwise', () => {
    expect(callerFor(KEY_A)?.write).toBe(false)
    expect(callerFor(`${KEY_A} name=portal users=100-199 rate=30`)?.write).toBe(false)
    expect(callerFor(`${KEY_A} access=read`)?.write).toBe(false)
  })

  it.each(['access=read,write', 'access=write,read'])('lets a key with %s write, next to its other fields', (access) => {
    const caller = callerFor(`${KEY_A} name=ops ${access} users=5 rate=9`)
    expect(caller?.write).toBe(true)
    expect([caller?.label, caller?.scope.text, caller?.rate]).toStrictEqual(['ops', '5', 9])
  })

  it('gives write access to the line that asks for it only', () => {
    const ring = createKeyRing(parseKeyFile(`${KEY_A} access=read,write\n${KEY_B}`).keys)
    expect([ring.verify(KEY_A)?.write, ring.verify(KEY_B)?.write]).toStrictEqual([true, false])
  })

  it('makes GATEWAY_API_KEYS\'s keys read only, even when the key file says otherwise, and a line\'s access count, in the gateway itself', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mor-gateway-access-'))
    closeAfterTest(() => rm(dir, { recursive: true, force: true }))
    const file = join(dir, 'keys')
    await writeFile(file, `${KEY_A} access=read,write\n${KEY_B} name=writer access=write,read\n`)
    const gw = await gateway((await simulator()).url, { GATEWAY_API_KEYS: KEY_A, GATEWAY_API_KEYS_FILE: file })
    const writeOfKey = async (key: string) => (await gw.app.auth.authenticate(`Bearer ${key}`))?.write
    expect(await writeOfKey(KEY_A)).toBe(false)
    expect(await writeOfKey(KEY_B)).toBe(true)
  })
})

describe('mayWrite', () => {
  it('lets every request write when there is no caller (AUTH_DISABLED: full access)', () => {
    expect(mayWrite(undefined)).toBe(true)
  })

  it('lets a caller write only when its key grants it', () => {
    expect(mayWrite(callerOf({ key: KEY_A }))).toBe(false)
    expect(mayWrite(callerOf({ key: KEY_A, write: false }))).toBe(false)
    expect(mayWrite(callerOf({ key: KEY_A, write: true }))).toBe(true)
  })
})

describe('createKeyRing', () => {
  it('verifies each configured key to its id', () => {
    const ring = createKeyRing(specs(KEY_A, KEY_B))
    expect(idOf(ring, KEY_A)).toBe(keyId(KEY_A))
    expect(idOf(ring, KEY_B)).toBe(keyId(KEY_B))
  })

  it('rejects a wrong key, a key that differs in one character, a prefix, and a longer key', () => {
    const ring = createKeyRing(specs(KEY_A))
    expect(ring.verify('not-a-key-at-all-000000')).toBeUndefined()
    expect(ring.verify(`${KEY_A.slice(0, -1)}0`)).toBeUndefined()
    expect(ring.verify(KEY_A.slice(0, -1))).toBeUndefined()
    expect(ring.verify(`${KEY_A}0`)).toBeUndefined()
    expect(ring.verify(KEY_A.toUpperCase())).toBeUndefined()
  })

  it('rejects an empty token', () => {
    expect(createKeyRing(specs(KEY_A)).verify('')).toBeUndefined()
  })

  it('rejects everything when it holds no keys', () => {
    const ring = createKeyRing([])
    expect(ring.size).toBe(0)
    expect(ring.verify('')).toBeUndefined()
    expect(ring.verify(KEY_A)).toBeUndefined()
  })

  it('counts a key listed twice once', () => {
    const ring = createKeyRing(specs(KEY_A, KEY_B, KEY_A))
    expect(ring.size).toBe(2)
    expect(idOf(ring, KEY_A)).toBe(keyId(KEY_A))
  })
})

describe('keyId', () => {
  it('is stable for a key, across calls and across key rings', () => {
    expect(keyId(KEY_A)).toBe(keyId(KEY_A))
    expect(idOf(createKeyRing(specs(KEY_A)), KEY_A)).toBe(idOf(createKeyRing(specs(KEY_B, KEY_A)), KEY_A))
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
