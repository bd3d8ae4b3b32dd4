import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { writeMethodOf, writeRequestOf, type WriteCall, type WriteMethod, type WritePath } from '../../src/legacy/writes.js'
import { writeOutcome } from '../../src/legacy/write-answer.js'
import { readMessage, writeMessage, type BusMessage } from '../../src/cache/bus.js'

const FORM = 'application/x-www-form-urlencoded'
const API = '/billing/api'

describe('writeMethodOf', () => {
  it('names MOR\'s four write methods, both delete names included, and nothing else', () => {
    expect(['device_create', 'device_update', 'device_delete', 'device_destroy'].map((m) => writeMethodOf(API, `${API}/${m}`)))
      .toStrictEqual(['device_create', 'device_update', 'device_delete', 'device_destroy'].map((method) => ({ method, exact: true })))
    for (const route of [`${API}/devices_get`, `${API}/device_details_get`, '/other/api/device_create', `${API}/Device_Delete`, `${API}/device_deletes`, `${API}/`, API]) {
      expect(writeMethodOf(API, route), route).toBeUndefined()
    }
  })

  it('calls a write method with a format or further segments unreadable: Rails would route it to the method', () => {
    for (const [route, method] of [[`${API}/device_delete.xml`, 'device_delete'], [`${API}/device_update/5`, 'device_update'], [`${API}/device_create.json/x`, 'device_create']]) {
      expect(writeMethodOf(API, route as string), route).toStrictEqual({ method, exact: false })
    }
  })
})

/** A call as the relay makes it, from the request target the client sent. */
const call = ({ url = `${API}/device_delete`, ...over }: Partial<Omit<WriteCall, 'query'>> & { url?: string }): WriteCall =>
  ({ httpMethod: 'POST', query: url.includes('?') ? url.slice(url.indexOf('?') + 1) : '', contentType: FORM, methodOverride: undefined, body: null, ...over })
const exact = (method: WriteMethod): WritePath => ({ method, exact: true })

describe('writeRequestOf', () => {
  it('names the user a create adds to, or the device an update or delete changes, from the query or any body Rails parses', () => {
    expect(writeRequestOf(exact('device_create'), call({ url: `${API}/device_create?u=admin&user_id=7`, httpMethod: 'GET', contentType: undefined })))
      .toStrictEqual({ kind: 'write', method: 'device_create', subject: { userId: 7 } })
    expect(writeRequestOf(exact('device_update'), call({ url: `${API}/device_update`, body: Buffer.from('u=a&device=55&description=x') })))
      .toStrictEqual({ kind: 'write', method: 'device_update', subject: { deviceId: 55 } })
    expect(writeRequestOf(exact('device_delete'), call({ body: Buffer.from('{"u":"a","device":12}'), contentType: 'application/json' })))
      .toStrictEqual({ kind: 'write', method: 'device_delete', subject: { deviceId: 12 } })
    const multipart = Buffer.from('--b\r\ncontent-disposition: form-data; name="device"\r\n\r\n9\r\n--b--\r\n')
    expect(writeRequestOf(exact('device_destroy'), call({ url: `${API}/device_destroy`, body: multipart, contentType: 'multipart/form-data; boundary=b' })))
      .toStrictEqual({ kind: 'write', method: 'device_destroy', subject: { deviceId: 9 } })
  })

  it('reads a target with leading zeros as MOR does, and refuses every other shape', () => {
    expect(writeRequestOf(exact('device_delete'), call({ body: Buffer.from('device=0012') }))).toStrictEqual({ kind: 'write', method: 'device_delete', subject: { deviceId: 12 } })
    for (const body of ['', 'u=a', 'device=', 'device=x', 'device=-1', 'device=1.0', 'device[]=1', 'device[a]=1', 'device=2147483648', 'device=%EF%BC%91']) {
      const result = writeRequestOf(exact('device_delete'), call({ body: Buffer.from(body) }))
      expect(result, body).toStrictEqual({ kind: 'unreadable', method: 'device_delete', reason: 'device must be one id: digits only, at most 2147483647' })
    }
    expect(writeRequestOf(exact('device_delete'), call({ body: Buffer.from('{"device":1.5}'), contentType: 'application/json' })).kind).toBe('unreadable')
    expect(writeRequestOf(exact('device_delete'), call({ body: Buffer.from('{"device":'), contentType: 'application/json' })).kind).toBe('unreadable')
  })

  it('refuses a write Rack would turn into a HEAD, by a _method field or the override header', () => {
    const head = { kind: 'unreadable', method: 'device_delete', reason: 'a write sent as HEAD has no answer to confirm it' }
    expect(writeRequestOf(exact('device_delete'), call({ body: Buffer.from('device=1&_method=head') }))).toStrictEqual(head)
    expect(writeRequestOf(exact('device_delete'), call({ body: Buffer.from('device=1'), methodOverride: 'HEAD' }))).toStrictEqual(head)
    expect(writeRequestOf(exact('device_delete'), call({ body: Buffer.from('device=1&_method=put') })).kind).toBe('write')
  })

  it('says a write path with a format or further segments cannot be read', () => {
    expect(writeRequestOf({ method: 'device_delete', exact: false }, call({ url: `${API}/device_delete.xml?device=1` })))
      .toStrictEqual({ kind: 'unreadable', method: 'device_delete', reason: 'a write method takes no format or further path segments' })
  })
})

describe('writeOutcome', () => {
  it('confirms only the success text of the method called, in any encoding and shape MOR sends', async () => {
    expect(await writeOutcome('device_create', 200, Buffer.from('<page><status>Device created</status><id>12</id></page>'), true, undefined)).toBe('confirmed')
    expect(await writeOutcome('device_create', 200, Buffer.from('<?xml version="1.0"?>\n<status>Device was created</status>'), true, undefined)).toBe('confirmed')
    expect(await writeOutcome('device_update', 200, gzipSync('<page><status><success>Device successfully updated</success></status></page>'), true, undefined)).toBe('confirmed')
    expect(await writeOutcome('device_delete', 200, gzipSync('<page><status>Device was deleted</status></page>'), true, 'gzip')).toBe('confirmed')
    expect(await writeOutcome('device_destroy', 200, Buffer.from('<head></head><body><status>Device was deleted</status></body>'), true, undefined)).toBe('confirmed')
  })

  it('calls MOR\'s <error> answers refused, whatever their shape', async () => {
    expect(await writeOutcome('device_create', 200, gzipSync('<error>Incorrect hash</error>'), true, 'gzip')).toBe('refused')
    expect(await writeOutcome('device_delete', 200, Buffer.from('<page><status><error>Cannot delete device - it has calls</error></status></page>'), true, undefined)).toBe('refused')
  })

  it('confirms nothing from an empty, cut, undecodable, non-2xx or unknown answer, or another method\'s success', async () => {
    const cases: Array<[string, Parameters<typeof writeOutcome>]> = [
      ['empty (a HEAD, a 304)', ['device_delete', 200, Buffer.alloc(0), true, undefined]],
      ['cut short', ['device_delete', 200, Buffer.from('<status>Device was deleted</status>'), false, undefined]],
      ['broken gzip', ['device_delete', 200, Buffer.from([0x1f, 0x8b, 1, 2]), true, undefined]],
      ['a 500', ['device_delete', 500, Buffer.from('<status>Device was deleted</status>'), true, undefined]],
      ['an HTML page', ['device_update', 200, Buffer.from('<html><body>Welcome</body></html>'), true, undefined]],
      ['a create\'s text to a delete', ['device_delete', 200, Buffer.from('<status>Device created</status><id>3</id>'), true, undefined]],
      ['an update\'s text to a create', ['device_create', 200, Buffer.from('<success>Device successfully updated</success>'), true, undefined]]
    ]
    for (const [what, args] of cases) expect(await writeOutcome(...args), what).toBe('unconfirmed')
  })
})

describe('readMessage', () => {
  it('reads a gateway\'s message and nothing else on the channel', () => {
    // The form gateways without acknowledgements send: still read, so a rolling upgrade keeps invalidating.
    expect(readMessage('{"from":"a","cause":"purge","userId":3}')).toStrictEqual({ kind: 'invalidate', from: 'a', cause: 'purge', subject: { userId: 3 } })
    expect(readMessage('{"from":"a","cause":"legacy-write","deviceId":5}')).toStrictEqual({ kind: 'invalidate', from: 'a', cause: 'legacy-write', subject: { deviceId: 5 } })
    expect(readMessage('{"from":"a","cause":"legacy-write","deviceId":5,"owner":2,"ack":"t1"}')).toStrictEqual({ kind: 'invalidate', from: 'a', cause: 'legacy-write', subject: { deviceId: 5 }, owner: 2, ack: 't1' })
    expect(readMessage('{"from":"a","ackOf":"t1"}')).toStrictEqual({ kind: 'ack', from: 'a', of: 't1' })
    expect(readMessage('{"from":"a","hello":true}')).toStrictEqual({ kind: 'hello', from: 'a', reply: false })
    expect(readMessage('{"from":"a","here":true}')).toStrictEqual({ kind: 'hello', from: 'a', reply: true })
    expect(readMessage('{"from":"a","bye":true}')).toStrictEqual({ kind: 'bye', from: 'a' })
    for (const bad of ['', 'x', '[]', 'null', '{"from":"a","cause":"purge"}', '{"from":"a","cause":"purge","userId":3,"deviceId":4}', '{"from":"a","cause":"other","userId":3}',
      '{"cause":"purge","userId":3}', '{"from":"a","cause":"purge","userId":-1}', '{"from":"","cause":"purge","userId":3}', `{"from":"${'a'.repeat(65)}","bye":true}`,
      '{"from":"a","cause":"purge","userId":3,"owner":2}', '{"from":"a","cause":"purge","deviceId":3,"owner":"2"}', '{"from":"a","cause":"purge","userId":3,"ack":7}', '{"from":"a","ackOf":""}', '{"from":"a","hello":1}']) {
      expect(readMessage(bad), bad).toBeUndefined()
    }
  })

  it('reads back every message writeMessage writes', () => {
    const messages: BusMessage[] = [
      { kind: 'invalidate', from: 'a', cause: 'refresh', subject: { userId: 3 } },
      { kind: 'invalidate', from: 'a', cause: 'purge', subject: { deviceId: 6 }, owner: 2, ack: 'k' },
      { kind: 'ack', from: 'b', of: 'k' },
      { kind: 'hello', from: 'c', reply: false },
      { kind: 'hello', from: 'c', reply: true },
      { kind: 'bye', from: 'd' }
    ]
    for (const message of messages) expect(readMessage(writeMessage(message))).toStrictEqual(message)
  })
})
