// The JSON device writes end to end over real sockets: gateway -> MOR simulator's device_create,
// device_update and device_delete over HTTP, with MOR's hash rules. Success for each method and
// what the next read shows; MOR's refusals as problems; the write right and the caller's scope;
// bodies outside the contract; If-Match; Idempotency-Key replays, conflicts and reuse; and what
// never leaves the gateway (PINs, passwords, MOR's new SIP password).
import { describe, expect, it } from 'vitest'
import { CREATED_DEVICE_IDS } from '../../src/demo/data.js'
import type { MorSimulator } from '../../src/demo/simulator.js'
import { getJson, sendJson, type TestGateway } from '../helpers/gateway.js'
import { problem } from '../helpers/expected.js'
import { bearer } from '../helpers/callers.js'
import { keyFile } from '../helpers/key-file.js'
import { gateway, simulator } from '../helpers/scoped.js'

const WRITER = 'writer-key-0123456789abcdef'
const READER = 'reader-key-0123456789abcdef'
const NARROW = 'narrow-writer-0123456789ab'
const WIDE = 'wide-writer-0123456789abcd'

const keys = keyFile([
    `${WRITER} name=portal users=2-5 access=read,write`,
    `${READER} name=viewer users=*`,
    `${NARROW} name=narrow users=3 access=write,read`,
    `${WIDE} name=wide users=* access=read,write`
])

const W = bearer(WRITER)
const writes = (sim: MorSimulator, method: string) => sim.calls.writes.get(method) ?? 0

async function setup (env: Record<string, string> = {}) {
  const sim = await simulator()
  const gw = await gateway(sim.url, { ...keys.env, ...env })
  return { sim, gw }
}

const devicesOf = async (gw: TestGateway, userId: number) =>
  ((await getJson(`${gw.url}/v1/users/${userId}/devices`, W)).body as { devices: Array<{ id: number, description?: string | null }> }).devices
const details = async (gw: TestGateway, deviceId: number) => getJson(`${gw.url}/v1/devices/${deviceId}`, W)
const auditLines = (gw: TestGateway) => gw.logs.map((line) => JSON.parse(line) as { msg: string, reqId?: string, audit?: Record<string, unknown> }).filter((l) => l.msg === 'device write')

describe('POST /v1/users/{userId}/devices', () => {
  it('creates the device in MOR, answers 201 with Location and its details, and the list shows it at once', async () => {
    const { sim, gw } = await setup()
    expect((await devicesOf(gw, 2)).map((d) => d.id)).toEqual([5, 6, 7]) // cached now
    const res = await sendJson('POST', `${gw.url}/v1/users/2/devices`, { type: 'SIP', description: 'Lobby phone', pin: '7788', extension: '299' }, W)
    expect(res.status).toBe(201)
    const id = CREATED_DEVICE_IDS.first
    expect(res.headers.get('location')).toBe(`/v1/devices/${id}`)
    expect(res.body).toMatchObject({ id, userId: 2, type: 'SIP', description: 'Lobby phone', extension: '299' })
    expect(res.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]+"$/)
    // Neither the PIN sent nor MOR's new SIP password is anywhere in the answer.
    expect(res.text).not.toContain('7788')
    expect(res.text).not.toContain(`new-${id}`)
    expect(writes(sim, 'device_create')).toBe(1)
    expect((await devicesOf(gw, 2)).map((d) => d.id)).toEqual([5, 6, 7, id])
    const [line] = auditLines(gw)
    expect(line?.audit).toEqual({ caller: 'portal', action: 'device_create', userId: 2, outcome: 'done' })
    expect(gw.logs.join('\n')).not.toContain('7788')
  })

  it('a user MOR does not have is 404 user-not-found, after MOR was asked', async () => {
    const { sim, gw } = await setup()
    const res = await sendJson('POST', `${gw.url}/v1/users/9/devices`, { type: 'SIP' }, bearer(WIDE))
    expect(res.status).toBe(404)
    expect(res.body).toEqual(problem('user-not-found', 'User not found', 404, 'MOR has no user 9 visible to the gateway\'s API user'))
    expect(writes(sim, 'device_create')).toBe(1)
    expect(auditLines(gw).at(-1)?.audit).toEqual({ caller: 'wide', action: 'device_create', userId: 9, outcome: 'refused: not-found', problem: '/problems/user-not-found' })
  })

  it('refuses a caller without the write right (403) and a user outside the caller\'s scope (403) before MOR is called', async () => {
    const { sim, gw } = await setup()
    const reader = await sendJson('POST', `${gw.url}/v1/users/2/devices`, { type: 'SIP' }, bearer(READER))
    expect(reader.status).toBe(403)
    expect(reader.body).toEqual(problem('forbidden', 'Forbidden', 403, 'This caller may read devices but not change them (an API key needs access=read,write; a token the devices:write scope)'))
    const outside = await sendJson('POST', `${gw.url}/v1/users/2/devices`, { type: 'SIP' }, bearer(NARROW))
    expect(outside.status).toBe(403)
    expect((outside.body as { type: string }).type).toBe('/problems/forbidden')
    const anonymous = await sendJson('POST', `${gw.url}/v1/users/2/devices`, { type: 'SIP' }, { authorization: '' })
    expect(anonymous.status).toBe(401)
    expect(writes(sim, 'device_create')).toBe(0)
    expect(sim.calls.total).toBe(0)
  })

  it('refuses bodies outside the contract, by field, without echoing a value', async () => {
    const { sim, gw } = await setup()
    const post = (body: unknown, type?: string) => sendJson('POST', `${gw.url}/v1/users/2/devices`, body, W, type)
    const detail = async (body: unknown, type?: string) => {
      const res = await post(body, type)
      return [res.status, (res.body as { detail?: string } | undefined)?.detail]
    }
    expect(await detail({ type: 'SIP', colour: 'red' })).toEqual([400, 'Unknown field "colour": this operation takes type, description, pin, deviceGroupId, callerId, extension'])
    expect(await detail({ description: 'no type' })).toEqual([400, 'Field "type" is required'])
    expect(await detail({ type: 'DECT' })).toEqual([400, 'Field "type" must be one of "SIP", "IAX2", "FAX", "Virtual", "H323", "ZAP", "Skype"'])
    expect(await detail({ type: 'SIP', pin: 'secret-pin-99' })).toEqual([400, 'Field "pin" must be a string of up to 16 digits'])
    expect(await detail({ type: 'SIP', deviceGroupId: '7' })).toEqual([400, 'Field "deviceGroupId" must be an integer from 0 to 2147483647'])
    expect(await detail([{ type: 'SIP' }])).toEqual([400, 'The body must be a JSON object: a new device, e.g. {"type": "SIP"}'])
    expect((await post('{"type": "SIP", ')).status).toBe(400)
    expect((await post('{"type":"SIP","__proto__":{"x":1}}')).status).toBe(400)
    const text = await post('type=SIP', 'application/x-www-form-urlencoded')
    expect(text.status).toBe(415)
    expect((text.body as { type: string }).type).toBe('/problems/unsupported-media-type')
    const patchType = await post({ type: 'SIP' }, 'application/merge-patch+json')
    expect(patchType.status).toBe(415)
    expect(patchType.headers.get('accept-post')).toBe('application/json')
    const big = await post({ type: 'SIP', description: 'x'.repeat(17 * 1024) })
    expect(big.status).toBe(413)
    expect((await sendJson('POST', `${gw.url}/v1/users/02/devices`, { type: 'SIP' }, W)).status).toBe(400)
    expect((await sendJson('POST', `${gw.url}/v1/users/2/devices?x=1`, { type: 'SIP' }, W)).status).toBe(400)
    expect(gw.logs.join('\n')).not.toContain('secret-pin-99')
    expect(writes(sim, 'device_create')).toBe(0)
  })

  it('with MOR\'s 2011 answer (no id) answers 201 with what is known and no Location; the list shows the new device', async () => {
    const { sim, gw } = await setup()
    sim.options.revision = '2011'
    const res = await sendJson('POST', `${gw.url}/v1/users/3/devices`, { type: 'IAX2' }, W)
    expect(res.status).toBe(201)
    expect(res.headers.get('location')).toBeNull()
    expect(res.body).toEqual({ id: null, userId: 3 })
    expect((await devicesOf(gw, 3)).map((d) => d.id)).toContain(CREATED_DEVICE_IDS.first)
  })
})

describe('PATCH /v1/devices/{deviceId}', () => {
  it('changes the fields MOR takes and answers 200 with the details as MOR has them now; the next read shows them', async () => {
    const { sim, gw } = await setup()
    const before = await details(gw, 5)
    expect((before.body as { description: string }).description).toBe('Reception desk phone')
    const res = await sendJson('PATCH', `${gw.url}/v1/devices/5`, { description: 'Front desk', callerIdName: 'Front', pin: '1234', password: 'hunter2-long' }, W)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id: 5, userId: 2, description: 'Front desk', callerId: '"Front" <201>' })
    expect(res.headers.get('etag')).not.toBe(before.headers.get('etag'))
    expect(res.text).not.toContain('1234')
    expect(res.text).not.toContain('hunter2-long')
    expect(writes(sim, 'device_update')).toBe(1)
    const after = await details(gw, 5)
    expect((after.body as { description: string }).description).toBe('Front desk')
    expect((await devicesOf(gw, 2)).length).toBe(3)
    const logs = gw.logs.join('\n')
    expect(logs).not.toContain('hunter2-long')
    expect(logs).not.toContain('"1234"')
    expect(auditLines(gw).at(-1)?.audit).toEqual({ caller: 'portal', action: 'device_update', deviceId: 5, outcome: 'done' })
  })

  it('takes only application/merge-patch+json, and refuses unknown fields, an empty patch and a bad id', async () => {
    const { sim, gw } = await setup()
    const json = await sendJson('PATCH', `${gw.url}/v1/devices/5`, { description: 'x' }, W, 'application/json')
    expect(json.status).toBe(415)
    expect(json.headers.get('accept-patch')).toBe('application/merge-patch+json')
    const unknown = await sendJson('PATCH', `${gw.url}/v1/devices/5`, { secret: 'x' }, W)
    expect((unknown.body as { detail: string }).detail).toMatch(/^Unknown field "secret": this operation takes description, /)
    expect((await sendJson('PATCH', `${gw.url}/v1/devices/5`, {}, W)).status).toBe(400)
    expect((await sendJson('PATCH', `${gw.url}/v1/devices/5`, { port: '5060' }, W)).status).toBe(400)
    expect((await sendJson('PATCH', `${gw.url}/v1/devices/5`, { authentication: 'ip', host: 'pbx.example.com', port: 5060 }, W)).status).toBe(200)
    expect((await sendJson('PATCH', `${gw.url}/v1/devices/-1`, { description: 'x' }, W)).status).toBe(400)
    expect(writes(sim, 'device_update')).toBe(1)
  })

  it('answers a device outside the caller\'s scope exactly as one that does not exist, asking MOR for the owner first', async () => {
    const { sim, gw } = await setup()
    const foreign = await sendJson('PATCH', `${gw.url}/v1/devices/55`, { description: 'x' }, W)
    expect(foreign.status).toBe(200) // device 55 is user 3's: in the portal key's scope
    const narrow = await sendJson('PATCH', `${gw.url}/v1/devices/5`, { description: 'x' }, bearer(NARROW))
    const absent = await sendJson('PATCH', `${gw.url}/v1/devices/999999`, { description: 'x' }, bearer(NARROW))
    expect(narrow.status).toBe(404)
    expect(absent.status).toBe(404)
    expect((narrow.body as { type: string }).type).toBe('/problems/device-not-found')
    expect({ ...(narrow.body as object), detail: '', instance: '' }).toEqual({ ...(absent.body as object), detail: '', instance: '' })
    expect(writes(sim, 'device_update')).toBe(1)
  })

  it('with If-Match: the current ETag goes through, an old one is 412 and MOR is not asked to change anything', async () => {
    const { sim, gw } = await setup()
    const etag = (await details(gw, 6)).headers.get('etag') ?? ''
    // Someone else changes the device (through the passthrough here) after the client read it.
    const changed = await sendJson('PATCH', `${gw.url}/v1/devices/6`, { description: 'changed elsewhere' }, W)
    expect(changed.status).toBe(200)
    const stale = await sendJson('PATCH', `${gw.url}/v1/devices/6`, { description: 'mine' }, { ...W, 'if-match': etag })
    expect(stale.status).toBe(412)
    expect((stale.body as { type: string }).type).toBe('/problems/precondition-failed')
    const current = changed.headers.get('etag') ?? ''
    const ok = await sendJson('PATCH', `${gw.url}/v1/devices/6`, { description: 'mine' }, { ...W, 'if-match': current })
    expect(ok.status).toBe(200)
    expect((await sendJson('PATCH', `${gw.url}/v1/devices/6`, { description: 'weak' }, { ...W, 'if-match': `W/${ok.headers.get('etag') ?? ''}` })).status).toBe(412)
    expect((await sendJson('PATCH', `${gw.url}/v1/devices/6`, { description: 'any' }, { ...W, 'if-match': '*' })).status).toBe(200)
    expect(writes(sim, 'device_update')).toBe(3)
  })
})

describe('DELETE /v1/devices/{deviceId}', () => {
  it('deletes the device: 204, then the device is not found and the list no longer has it', async () => {
    const { sim, gw } = await setup()
    expect((await devicesOf(gw, 5)).map((d) => d.id)).toContain(84)
    expect((await details(gw, 84)).status).toBe(200)
    const res = await sendJson('DELETE', `${gw.url}/v1/devices/84`, undefined, W)
    expect(res.status).toBe(204)
    expect(writes(sim, 'device_delete')).toBe(1)
    expect((await details(gw, 84)).status).toBe(404)
    expect((await devicesOf(gw, 5)).map((d) => d.id)).not.toContain(84)
    expect((await sendJson('DELETE', `${gw.url}/v1/devices/84`, undefined, W)).status).toBe(404)
  })

  it('a device MOR keeps because it has calls is 409 device-in-use, in plain words, and stays', async () => {
    const { sim, gw } = await setup()
    sim.options.devicesWithCalls = new Set([82])
    const res = await sendJson('DELETE', `${gw.url}/v1/devices/82`, undefined, W)
    expect(res.status).toBe(409)
    expect(res.body).toEqual(problem('device-in-use', 'Device in use', 409, 'MOR will not delete the device: it has calls on record; nothing was changed'))
    expect((await details(gw, 82)).status).toBe(200)
    expect(auditLines(gw).at(-1)?.audit).toMatchObject({ action: 'device_delete', deviceId: 82, outcome: 'refused: in-use' })
  })
})

describe('Idempotency-Key', () => {
  it('the same key and request get the first answer again, with no second call to MOR', async () => {
    const { sim, gw } = await setup()
    const key = { ...W, 'idempotency-key': '"create-once-1"' }
    const first = await sendJson('POST', `${gw.url}/v1/users/2/devices`, { type: 'SIP', description: 'once' }, key)
    const again = await sendJson('POST', `${gw.url}/v1/users/2/devices`, { description: 'once', type: 'SIP' }, key)
    expect(first.status).toBe(201)
    expect(again.status).toBe(201)
    expect(again.text).toBe(first.text)
    expect(again.headers.get('location')).toBe(first.headers.get('location'))
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(first.headers.get('idempotent-replayed')).toBeNull()
    expect(writes(sim, 'device_create')).toBe(1)
    expect((await devicesOf(gw, 2)).length).toBe(4)
  })

  it('the same key for another request is 422; another caller\'s same key is its own', async () => {
    const { sim, gw } = await setup()
    const key = { 'idempotency-key': '"k-2"' }
    expect((await sendJson('PATCH', `${gw.url}/v1/devices/55`, { description: 'a' }, { ...W, ...key })).status).toBe(200)
    const other = await sendJson('PATCH', `${gw.url}/v1/devices/55`, { description: 'b' }, { ...W, ...key })
    expect(other.status).toBe(422)
    expect((other.body as { type: string }).type).toBe('/problems/idempotency-key-reused')
    expect((await sendJson('PATCH', `${gw.url}/v1/devices/55`, { description: 'b' }, { ...bearer(NARROW), ...key })).status).toBe(200)
    expect(writes(sim, 'device_update')).toBe(2)
  })

  it('while the first request runs, the same key is 409; afterwards it replays the first answer', async () => {
    const { sim, gw } = await setup()
    sim.options.delayMs = 300
    const key = { ...W, 'idempotency-key': '"slow-1"' }
    const first = sendJson('DELETE', `${gw.url}/v1/devices/83`, undefined, key)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const during = await sendJson('DELETE', `${gw.url}/v1/devices/83`, undefined, key)
    expect(during.status).toBe(409)
    expect((during.body as { type: string }).type).toBe('/problems/idempotency-key-in-use')
    expect((await first).status).toBe(204)
    sim.options.delayMs = 0
    const after = await sendJson('DELETE', `${gw.url}/v1/devices/83`, undefined, key)
    expect(after.status).toBe(204)
    expect(after.headers.get('idempotent-replayed')).toBe('true')
    expect(writes(sim, 'device_delete')).toBe(1)
  })

  it('concurrent duplicates: of 10 identical creates at once, MOR sees exactly one', async () => {
    const { sim, gw } = await setup()
    const key = { ...W, 'idempotency-key': '"burst-1"' }
    const answers = await Promise.all(Array.from({ length: 10 }, () => sendJson('POST', `${gw.url}/v1/users/5/devices`, { type: 'SIP' }, key)))
    expect(writes(sim, 'device_create')).toBe(1)
    expect(answers.filter((a) => a.status === 201).length).toBeGreaterThanOrEqual(1)
    expect(answers.every((a) => a.status === 201 || a.status === 409)).toBe(true)
  })

  it('a refusal before MOR is called frees the key: after a 412, the same key may carry the request again', async () => {
    const { sim, gw } = await setup()
    const key = { 'idempotency-key': '"after-412"' }
    expect((await sendJson('DELETE', `${gw.url}/v1/devices/81`, undefined, { ...W, ...key, 'if-match': '"nope"' })).status).toBe(412)
    expect((await sendJson('DELETE', `${gw.url}/v1/devices/81`, undefined, { ...W, ...key, 'if-match': '"nope"' })).status).toBe(412)
    expect(writes(sim, 'device_delete')).toBe(0)
    const malformed = await sendJson('DELETE', `${gw.url}/v1/devices/81`, undefined, { ...W, 'idempotency-key': '' })
    expect(malformed.status).toBe(400)
  })
})
