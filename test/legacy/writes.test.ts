import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { legacyWriteOf, writeMayHaveChanged } from '../../src/legacy/writes.js'
import { readMessage } from '../../src/plugins/invalidation.js'

const FORM = 'application/x-www-form-urlencoded'

describe('legacyWriteOf', () => {
  it('names the user or device a write touches, from the query or the form body (the body wins)', () => {
    expect(legacyWriteOf('/billing/api', '/billing/api/device_create?u=admin&user_id=7', null, undefined)).toStrictEqual({ method: 'device_create', userId: 7 })
    expect(legacyWriteOf('/billing/api', '/billing/api/device_update', Buffer.from('u=a&device=55&description=x'), FORM)).toStrictEqual({ method: 'device_update', deviceId: 55 })
    expect(legacyWriteOf('/billing/api', '/billing/api/device_destroy?device=1', Buffer.from('device=2'), `${FORM}; charset=utf-8`)).toStrictEqual({ method: 'device_destroy', deviceId: 2 })
  })

  it('ignores reads, other prefixes, missing or malformed ids, and bodies that are not forms', () => {
    for (const [path, body, type] of [
      ['/billing/api/devices_get?user_id=7', null, undefined],
      ['/other/api/device_create?user_id=7', null, undefined],
      ['/billing/api/device_create', null, undefined],
      ['/billing/api/device_create?user_id=07', null, undefined],
      ['/billing/api/device_destroy?device=2147483648', null, undefined],
      ['/billing/api/device_destroy', Buffer.from('device=2'), 'text/plain']
    ] as const) expect(legacyWriteOf('/billing/api', path, body, type), path).toBeUndefined()
  })
})

describe('writeMayHaveChanged', () => {
  it('is false for MOR\'s <error> answers and non-2xx, true for success in any encoding', async () => {
    expect(await writeMayHaveChanged(200, Buffer.from('<status>Device was created</status>'), true, undefined)).toBe(true)
    expect(await writeMayHaveChanged(200, gzipSync('<page><status><success>Device successfully updated</success></status></page>'), true, undefined)).toBe(true)
    expect(await writeMayHaveChanged(200, gzipSync('<error>Incorrect hash</error>'), true, 'gzip')).toBe(false)
    expect(await writeMayHaveChanged(200, Buffer.from('<page><status><error>Device was not found</error></status></page>'), true, undefined)).toBe(false)
    expect(await writeMayHaveChanged(500, Buffer.from('<status>Device was deleted</status>'), true, undefined)).toBe(false)
  })

  it('counts an answer it cannot read as a change: a stale cache misleads, a dropped one costs a call', async () => {
    expect(await writeMayHaveChanged(200, Buffer.from('<error>x</error>'), false, undefined)).toBe(true)
    expect(await writeMayHaveChanged(200, Buffer.from([0x1f, 0x8b, 1, 2]), true, undefined)).toBe(true)
  })
})

describe('readMessage', () => {
  it('reads a gateway\'s message and nothing else on the channel', () => {
    expect(readMessage('{"from":"a","cause":"purge","userId":3}')).toStrictEqual({ from: 'a', cause: 'purge', userId: 3 })
    expect(readMessage('{"from":"a","cause":"legacy-write","deviceId":5}')).toStrictEqual({ from: 'a', cause: 'legacy-write', deviceId: 5 })
    for (const bad of ['', 'x', '[]', '{"from":"a","cause":"purge"}', '{"from":"a","cause":"purge","userId":3,"deviceId":4}', '{"from":"a","cause":"other","userId":3}', '{"cause":"purge","userId":3}', '{"from":"a","cause":"purge","userId":-1}']) {
      expect(readMessage(bad), bad).toBeUndefined()
    }
  })
})
