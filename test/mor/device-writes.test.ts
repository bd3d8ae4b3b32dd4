// MOR's device writes as the gateway makes them: each method's hash over MOR's parameters in MOR's
// order, the answer read into done / refused (and why) / nothing certain, and the client's calls
// against the simulator over real HTTP (which checks the hash as MOR does), plus a raw server for
// what the simulator never does: no answer at all, and words never seen before.
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readWriteAnswer, signedWrite } from '../../src/mor/device-writes.js'
import { createMorClient, type MorClient, type MorSettings } from '../../src/mor/client.js'
import { UpstreamBadResponseError, UpstreamTimeoutError, upstreamKind } from '../../src/mor/errors.js'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { TEST_API_SECRET, TEST_API_USER } from '../helpers/gateway.js'
import { failure } from '../helpers/failure.js'
import { ask } from '../helpers/ask.js'
import { deviceDetails, deviceList } from '../../src/catalogue/devices.js'
import { startFaultUpstream } from '../helpers/fault-upstream.js'

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex')

describe('signedWrite', () => {
  it('hashes the wiki\'s device_create example: the values sent, in MOR\'s order, then the secret', () => {
    const signed = signedWrite('device_create', { user_id: '2', description: 'desription1', pin: '3' }, 'secret')
    expect(signed.hash).toBe(sha1('2desription13secret'))
    expect(signed.hash).toMatch(/^6e79d4a8[0-9a-f]{28}84df$/)
  })

  it('counts what is not sent as empty, ignores unhashed fields, and keeps every parameter', () => {
    const update = signedWrite('device_update', { device: '6', host: '203.0.113.9', port: '5070', description: 'moved', password: 'pw' }, 's')
    expect(update).toStrictEqual({ device: '6', host: '203.0.113.9', port: '5070', description: 'moved', password: 'pw', hash: sha1('6203.0.113.95070s') })
    const create = signedWrite('device_create', { user_id: '3', type: 'SIP', extension: '777' }, 's')
    expect(create.hash).toBe(sha1('3SIPs'))
    expect(signedWrite('device_delete', { device: '81' }, 's').hash).toBe(sha1('81s'))
  })
})

describe('readWriteAnswer', () => {
  it('reads each method\'s success, in every revision\'s shape, and the new device\'s id when MOR sends it', () => {
    expect(readWriteAnswer('device_create', '<page><status>Device created</status><id>2000001</id><username>x</username><password>pw</password></page>'))
      .toStrictEqual({ kind: 'done', id: 2000001 })
    expect(readWriteAnswer('device_create', '<status>Device was created</status>')).toStrictEqual({ kind: 'done' })
    expect(readWriteAnswer('device_update', '<page><status><success>Device successfully updated</success></status></page>')).toStrictEqual({ kind: 'done' })
    expect(readWriteAnswer('device_delete', '<page>\n  <status>Device was deleted</status>\n</page>')).toStrictEqual({ kind: 'done' })
    expect(readWriteAnswer('device_delete', '<status>Device was deleted</status>')).toStrictEqual({ kind: 'done' })
  })

  it('sorts MOR\'s refusals into what a client can act on, whatever the error\'s shape or spelling', () => {
    const refusal = (method: 'device_create' | 'device_update' | 'device_delete', xml: string) => {
      const answer = readWriteAnswer(method, xml)
      return answer.kind === 'refused' ? answer.refusal : answer.kind
    }
    expect(refusal('device_delete', '<error>Device was not found</error>')).toBe('not-found')
    expect(refusal('device_create', '<page><error>User was not found</error></page>')).toBe('not-found')
    expect(refusal('device_update', '<page><status><error>Location was not found</error></status></page>')).toBe('not-found')
    for (const text of ['Cannot delete device - it has calls...', 'Device has forwarded calls - we cannot delete it', 'Device has Dial Plans - we cannot delete it', 'Cannot delete device - it is assigned to Queue']) {
      expect(refusal('device_delete', `<error>${text}</error>`), text).toBe('in-use')
    }
    for (const text of ['Device type invalid', 'Pin_is_already_used', 'CallerID must be numeric', 'Password is too short']) {
      expect(refusal('device_create', `<page><status><error>${text}</error></status></page>`), text).toBe('invalid')
    }
    for (const text of ['Incorrect hash', 'Access Denied', 'Bad login', 'You are not authorized to manage callerid', 'Registration over API is disabled', 'something new']) {
      expect(refusal('device_create', `<error>${text}</error>`), text).toBe('rejected')
    }
  })

  it('keeps MOR\'s words and its validation messages, unescaped', () => {
    expect(readWriteAnswer('device_create', '<page><status><error>Device was not created</error><message>Pin &amp; extension &#x27;101&#39; taken</message><message></message></status></page>'))
      .toStrictEqual({ kind: 'refused', refusal: 'invalid', message: 'Device was not created', details: ['Pin & extension \'101\' taken'] })
    expect(readWriteAnswer('device_delete', '<page><error/></page>')).toStrictEqual({ kind: 'refused', refusal: 'rejected', message: '', details: [] })
  })

  it('says nothing certain for an empty answer, another method\'s success, or words never seen before', () => {
    for (const [method, xml] of [['device_delete', ''], ['device_delete', '<status>Device created</status>'], ['device_update', '<status>OK</status>'], ['device_create', '<page><status>Device queued</status></page>']] as const) {
      expect(readWriteAnswer(method, xml), xml).toStrictEqual({ kind: 'unknown' })
    }
  })
})

const settings = (baseUrl: string, more: Partial<MorSettings> = {}): MorSettings =>
  ({ baseUrl, user: TEST_API_USER, secret: TEST_API_SECRET, password: undefined, timeoutMs: 2000, maxBytes: 1024 * 1024, ...more })

describe('the client\'s device writes against the simulator', () => {
  let sim: MorSimulator
  let mor: MorClient
  beforeAll(async () => {
    sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET, devicesWithCalls: new Set([55]) })
    mor = createMorClient(settings(sim.url))
  })
  afterAll(async () => {
    await mor.close()
    await sim.close()
  })

  it('creates a device (signed as MOR checks it), returns only its id, and the device is there', async () => {
    const result = await mor.createDevice(3, { type: 'SIP', description: 'Reception', pin: '4242', caller_id: '3001', extension: '301' })
    expect(result).toStrictEqual({ kind: 'done', id: expect.any(Number) as number })
    const id = (result as { id: number }).id
    const list = await mor.getResource(deviceList, ask(3))
    expect((JSON.parse(list.json) as { devices: Array<{ id: number }> }).devices.map((d) => d.id)).toContain(id)
    const details = JSON.parse((await mor.getResource(deviceDetails, ask(id))).json) as Record<string, unknown>
    expect(details).toMatchObject({ id, description: 'Reception' })
  })

  it('updates a device and deletes another, each once', async () => {
    const writes = (name: string) => sim.calls.writes.get(name) ?? 0
    const before = { update: writes('device_update'), delete: writes('device_delete') }
    expect(await mor.updateDevice(6, { description: 'moved', host: '203.0.113.9', port: '5070' })).toStrictEqual({ kind: 'done' })
    expect(JSON.parse((await mor.getResource(deviceDetails, ask(6))).json)).toMatchObject({ description: 'moved' })
    expect(await mor.deleteDevice(7)).toStrictEqual({ kind: 'done' })
    expect(writes('device_update') - before.update).toBe(1)
    expect(writes('device_delete') - before.delete).toBe(1)
  })

  it('returns MOR\'s refusals: a device in use stays, an unknown one is not found, a bad value is invalid', async () => {
    expect(await mor.deleteDevice(55)).toMatchObject({ kind: 'refused', refusal: 'in-use', message: 'Cannot delete device - it has calls...' })
    expect((await mor.getResource(deviceList, ask(3))).json.toString()).toContain('"id":55')
    expect(await mor.deleteDevice(999999)).toMatchObject({ kind: 'refused', refusal: 'not-found' })
    expect(await mor.createDevice(999999, { type: 'SIP' })).toMatchObject({ kind: 'refused', refusal: 'not-found', message: 'User was not found' })
    expect(await mor.createDevice(3, { type: 'Telex' })).toMatchObject({ kind: 'refused', refusal: 'invalid', message: 'Device type invalid' })
    expect(await mor.createDevice(3, { pin: '12ab' })).toMatchObject({ kind: 'refused', refusal: 'invalid', message: 'Pin must be numeric' })
  })

  it('is refused as the gateway, not the client, when its secret is wrong', async () => {
    const wrong = createMorClient(settings(sim.url, { secret: 'not-the-secret' }))
    try {
      expect(await wrong.deleteDevice(6)).toMatchObject({ kind: 'refused', refusal: 'rejected', message: 'Incorrect hash' })
    } finally {
      await wrong.close()
    }
  })
})

describe('the client\'s device writes when MOR\'s answer is lost or unclear', () => {
  it('times out once and never sends the write again', async () => {
    const upstream = await startFaultUpstream()
    const mor = createMorClient(settings(upstream.url, { timeoutMs: 300 }))
    try {
      upstream.handle(() => {}) // MOR takes the write and never answers
      const err = await failure(mor.deleteDevice(6))
      expect(err).toBeInstanceOf(UpstreamTimeoutError)
      expect(upstreamKind(err)).toBe('timeout')
      await new Promise((resolve) => setTimeout(resolve, 400))
      expect(upstream.requests).toBe(1)
    } finally {
      await mor.close()
      await upstream.close()
    }
  })

  it('fails as a bad response, without quoting it, when the answer says neither done nor refused', async () => {
    const upstream = await startFaultUpstream()
    const mor = createMorClient(settings(upstream.url))
    try {
      upstream.handle((_req, res) => { res.writeHead(200, { 'content-type': 'text/xml' }).end('<page><status>Device queued</status><password>sip-secret</password></page>') })
      const err = await failure(mor.createDevice(3, { type: 'SIP' }))
      expect(err).toBeInstanceOf(UpstreamBadResponseError)
      expect(err.message).toContain('says neither')
      expect(err.message).not.toContain('sip-secret')
      upstream.handle((_req, res) => { res.writeHead(200).end('<!DOCTYPE x [<!ENTITY a "b">]><status>Device was deleted</status>') })
      expect(await failure(mor.deleteDevice(6))).toBeInstanceOf(UpstreamBadResponseError)
    } finally {
      await mor.close()
      await upstream.close()
    }
  })
})
