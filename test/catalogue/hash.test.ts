// The catalogue methods' hashes, worked by hand: users_get hashes u then p (unlike every device
// method), user_details_get hashes user_id then username, each "those sent"; the device methods
// hash their one id. The hex constants
// were computed once with `printf %s adminadmin1secret | sha1sum` (and so on), so a change of
// order in signSent fails here even if the code that computes the expectation changed with it.
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signSent } from '../../src/mor/sign.js'
import { userDetails, usersList } from '../../src/catalogue/users.js'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import type { Resource } from '../../src/catalogue/resource.js'
import { userCalls } from '../../src/catalogue/calls.js'
import { userPayments } from '../../src/catalogue/payments.js'
import { CATALOGUE } from '../../src/catalogue/catalogue.js'
import { deviceDetails, deviceList } from '../../src/catalogue/devices.js'
import { paramsFor, subjectsOf, translateFor } from './sim-reads.js'

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex')

describe('users_get\'s hash', () => {
  it('is the wiki\'s example: sha1 of u, then p, then the secret', () => {
    const hash = signSent(usersList.mor.hashed, { u: 'admin', p: 'admin1' }, 'secret')
    expect(hash).toBe(sha1('admin' + 'admin1' + 'secret'))
    expect(hash).toBe('c420ef706a02e6449994b7575b25ef5f74cc722b')
  })

  it('follows MOR\'s order, not the order the parameters are given in', () => {
    expect(signSent(usersList.mor.hashed, { p: 'admin1', u: 'admin' }, 'secret')).toBe('c420ef706a02e6449994b7575b25ef5f74cc722b')
  })

  it('leaves p out when it is not sent: sha1 of u, then the secret', () => {
    expect(signSent(usersList.mor.hashed, { u: 'admin' }, 'secret')).toBe('69590c5075137e4e42658c15f8f73d982e76b056')
    expect(signSent(usersList.mor.hashed, { u: 'admin', p: undefined }, 'secret')).toBe('69590c5075137e4e42658c15f8f73d982e76b056')
  })
})

describe('user_details_get\'s hash', () => {
  it('is sha1 of user_id, then username, then the secret; u and p never count', () => {
    const hash = signSent(userDetails.mor.hashed, { u: 'admin', p: 'admin1', user_id: '2', username: 'alice' }, 'secret')
    expect(hash).toBe(sha1('2' + 'alice' + 'secret'))
    expect(hash).toBe('5f1a4a2ddf05c0848adcd7e8e29384f561cff0ac')
  })

  it('hashes only those sent: user_id alone, or username alone', () => {
    expect(signSent(userDetails.mor.hashed, { u: 'admin', user_id: '2' }, 'secret')).toBe('38282ca5e65e63746498ef5b39a2fe71c6448df4')
    expect(signSent(userDetails.mor.hashed, { u: 'admin', username: 'alice' }, 'secret')).toBe('be2ce0751d4a56709c4b7a4ba81acc6bf754465e')
  })

  it('is what the gateway sends for a user: user_id only', () => {
    expect(userDetails.params({ id: 2, query: {} }, 0)).toStrictEqual({ user_id: '2' })
  })
})

describe('the other catalogue methods\' hashes, as the gateway signs its own calls', () => {
  it('user_calls_get: period_start, period_end, s_user, s_call_type, s_device, then the secret', () => {
    const params = userCalls.params({ id: 2, query: { from: '2026-12-01T00:00:00Z', to: '2026-12-08T00:00:00Z' } }, 0)
    expect(params).toStrictEqual({ period_start: '1796083200', period_end: '1796688000', s_user: '2', s_call_type: 'all', s_device: 'all' })
    const hash = signSent(userCalls.mor.hashed, { u: 'admin', p: 'admin1', ...params }, 'secret')
    expect(hash).toBe(sha1('1796083200' + '1796688000' + '2' + 'all' + 'all' + 'secret'))
    expect(hash).toBe('f141cc3e919b2ee746d7310b0aad42c598e0e870')
  })

  it('payments_get: s_user_id, then the secret', () => {
    const params = userPayments.params({ id: 2, query: {} }, 0)
    expect(signSent(userPayments.mor.hashed, { u: 'admin', ...params }, 'secret')).toBe('38282ca5e65e63746498ef5b39a2fe71c6448df4')
  })

  it('devices_get: user_id, then the secret (the wiki\'s worked example: user 100, secret 456789); u and p never count', () => {
    const params = deviceList.params({ id: 100, query: {} }, 0)
    expect(params).toStrictEqual({ user_id: '100' })
    expect(signSent(deviceList.mor.hashed, { u: 'admin', p: 'admin1', ...params }, '456789')).toBe('71516eea4850f7e0300ac86adf9fb64bca845aa7')
  })

  it('device_details_get: device_id, then the secret; u and p never count', () => {
    const params = deviceDetails.params({ id: 5, query: {} }, 0)
    expect(params).toStrictEqual({ device_id: '5' })
    expect(signSent(deviceDetails.mor.hashed, { u: 'admin', p: 'admin1', ...params }, 'demo-secret-456789')).toBe('efbd0a6142a7737be2ca398e4321b4dacf4abf80')
  })
})

describe('the simulator checks exactly these hashes', () => {
  let sim: MorSimulator
  beforeAll(async () => { sim = await startMorSimulator({ apiUser: 'admin', secret: 'secret', password: 'admin1', encoding: 'plain' }) })
  afterAll(async () => { await sim.close() })

  async function call (method: string, form: Record<string, string>): Promise<Buffer> {
    const res = await fetch(`${sim.url}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form)
    })
    expect(res.status).toBe(200)
    return Buffer.from(await res.arrayBuffer())
  }
  const translated = async (resource: Resource, method: string, form: Record<string, string>) =>
    translateFor(resource, await call(method, form))
  const INCORRECT = { kind: 'error', message: 'Incorrect hash' }

  it('answers users_get signed with u and p', async () => {
    const answer = await translated(usersList, 'users_get', { u: 'admin', p: 'admin1', hash: 'c420ef706a02e6449994b7575b25ef5f74cc722b' })
    expect(answer.kind).toBe('answer')
  })

  it('refuses users_get signed without p, in the other order, or with another secret', async () => {
    for (const hash of ['69590c5075137e4e42658c15f8f73d982e76b056', sha1('admin1' + 'admin' + 'secret'), sha1('admin' + 'admin1' + 'other')]) {
      expect(await translated(usersList, 'users_get', { u: 'admin', p: 'admin1', hash }), hash).toStrictEqual(INCORRECT)
    }
  })

  it('answers user_details_get and its old name signed with user_id then username', async () => {
    for (const method of ['user_details_get', 'user_details']) {
      const answer = await translated(userDetails, method, { u: 'admin', p: 'admin1', user_id: '2', username: 'alice', hash: '5f1a4a2ddf05c0848adcd7e8e29384f561cff0ac' })
      expect(answer.kind, method).toBe('answer')
      expect(answer.kind === 'answer' ? JSON.parse(answer.json) : undefined).toMatchObject({ id: 2, username: 'alice' })
    }
  })

  it('answers user_details_get signed with user_id alone when only user_id is sent', async () => {
    const answer = await translated(userDetails, 'user_details_get', { u: 'admin', p: 'admin1', user_id: '3', hash: sha1('3secret') })
    expect(answer.kind === 'answer' ? JSON.parse(answer.json) : answer).toMatchObject({ id: 3, username: 'bob' })
  })

  it('refuses user_details_get signed in the other order, with p, or without the username it was sent', async () => {
    for (const hash of [sha1('alice' + '2' + 'secret'), sha1('admin1' + '2' + 'alice' + 'secret'), '38282ca5e65e63746498ef5b39a2fe71c6448df4']) {
      expect(await translated(userDetails, 'user_details_get', { u: 'admin', p: 'admin1', user_id: '2', username: 'alice', hash }), hash).toStrictEqual(INCORRECT)
    }
  })

  for (const resource of CATALOGUE) {
    it(`answers ${resource.mor.name} as the gateway signs it, and refuses another secret or a changed value`, async () => {
      const params = paramsFor(resource, subjectsOf(resource).at(-1) as string)
      const form = { u: 'admin', p: 'admin1', ...params }
      expect((await translated(resource, resource.mor.name, { ...form, hash: signSent(resource.mor.hashed, form, 'secret') })).kind).toBe('answer')
      const wrong = [signSent(resource.mor.hashed, form, 'other')]
      // The hash of the same call with its first hashed parameter (other than u and p) changed.
      const first = Object.keys(params).find((name) => resource.mor.hashed.includes(name))
      if (first !== undefined) wrong.push(signSent(resource.mor.hashed, { ...form, [first]: `${params[first] ?? ''}0` }, 'secret'))
      for (const hash of wrong) expect(await translated(resource, resource.mor.name, { ...form, hash })).toStrictEqual(INCORRECT)
    })
  }
})
