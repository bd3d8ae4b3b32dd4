// How the simulator reads a call, over real HTTP and raw sockets: parameters merged as MOR's Rails
// merges them (query string plus a form, multipart or JSON body, sent with a Content-Length or
// chunked; the query string wins on a name in both), Rails' 400 for a body it cannot parse, a web server's 413 past the body bound, and
// HEAD and OPTIONS running the action as Rails' `match` routes do.
import { request } from 'node:http'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CREATED_DEVICE_IDS } from '../../src/demo/data.js'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { signParams } from '../../src/mor/sign.js'
import { rawRequest } from '../helpers/raw-http.js'
import { TEST_API_SECRET, TEST_API_USER } from '../helpers/gateway.js'
import { call, created, DELETED, error, signed, UPDATED, type Params } from './sim-client.js'

const FIRST_NEW = CREATED_DEVICE_IDS.first
const FORM = 'application/x-www-form-urlencoded'

let sim: MorSimulator
beforeEach(async () => { sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET, encoding: 'plain' }) })
afterEach(async () => { await sim.close() })

const api = (method: string, query = '') => `${sim.url}/api/${method}${query === '' ? '' : `?${query}`}`
const post = async (method: string, body: string | URLSearchParams | FormData, headers: Record<string, string> = {}, query = '') => {
  const res = await fetch(api(method, query), { method: 'POST', body, headers })
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() }
}
const ok = (text: string) => ({ status: 200, type: 'text/xml; charset=utf-8', text })
const descriptionOf = async (deviceId: number) => {
  const xml = await call(sim.url, 'device_details_get', signed('device_details_get', { device_id: String(deviceId) }))
  return /<description>(.*)<\/description>/.exec(xml)?.[1]
}
const createParams = signed('device_create', { user_id: '4', description: 'from the body', pin: '1234' })

describe('the simulator reads parameters as Rails does', () => {
  // u comes in the query string, the rest in the body; on a name in both, the query string wins, as in Rails' request.parameters.
  const { hash } = signed('device_create', { user_id: '4', description: 'from the query', pin: '1234' })
  const inBody = { user_id: '4', description: 'from the body', pin: '1234', hash: hash ?? '' }
  const inQuery = new URLSearchParams({ u: TEST_API_USER, description: 'from the query' }).toString()

  it.each([
    ['a urlencoded body', () => [new URLSearchParams(inBody), { 'content-type': FORM }] as const],
    ['a multipart/form-data body', () => {
      const form = new FormData()
      for (const [name, value] of Object.entries(inBody)) form.append(name, value)
      return [form, {}] as const
    }],
    ['a JSON body', () => [JSON.stringify(inBody), { 'content-type': 'application/json' }] as const]
  ])('merges %s with the query string, the query string winning on a name in both', async (_case, make) => {
    const [body, headers] = make()
    expect(await post('device_create', body, headers, inQuery)).toStrictEqual(ok(created(FIRST_NEW)))
    expect(await descriptionOf(FIRST_NEW)).toBe('from the query')
  })

  it('hashes a JSON number as Rails\' to_s writes it, and a JSON null as empty', async () => {
    const body = { u: TEST_API_USER, user_id: 4, pin: 1234, description: null, hash: signParams(['4', '1234'], TEST_API_SECRET) }
    expect(await post('device_create', JSON.stringify(body), { 'content-type': 'application/json' })).toStrictEqual(ok(created(FIRST_NEW)))
    expect(await descriptionOf(FIRST_NEW)).toBe('')
  })

  it('finds a nested value invalid: a hashed one fails the hash, an unhashed one is left out', async () => {
    const json = { 'content-type': 'application/json' }
    const nestedDevice = { u: TEST_API_USER, device: [6], hash: signParams(['6'], TEST_API_SECRET) }
    expect(await post('device_delete', JSON.stringify(nestedDevice), json)).toStrictEqual(ok(error('Incorrect hash')))
    const nestedUsername = { ...signed('device_update', { device: '6' }), username: { name: '299' } }
    expect(await post('device_update', JSON.stringify(nestedUsername), json)).toStrictEqual(ok(error('Incorrect hash')))
    const nestedDescription = { ...signed('device_update', { device: '5' }), description: ['x'] }
    expect((await post('device_update', JSON.stringify(nestedDescription), json)).text).toContain('Device successfully updated')
    expect(await descriptionOf(5)).toBe('Reception desk phone')
  })

  it('reads a body sent chunked by a client that gives no length', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(api('device_create'), { method: 'POST', headers: { 'content-type': FORM } }, (res) => {
        res.setEncoding('utf8')
        let out = ''
        res.on('data', (chunk: string) => { out += chunk }).on('end', () => resolve(out)).on('error', reject)
      })
      req.on('error', reject)
      const form = new URLSearchParams(createParams).toString()
      req.write(form.slice(0, 10))
      req.end(form.slice(10))
      expect(req.getHeader('content-length')).toBeUndefined()
    })
    expect(text).toBe(created(FIRST_NEW))
  })

  it.each([
    ['chunked', (body: string) => `Transfer-Encoding: chunked\r\n\r\n${(20).toString(16)}\r\n${body.slice(0, 20)}\r\n${(body.length - 20).toString(16)}\r\n${body.slice(20)}\r\n0\r\n\r\n`],
    ['with a Content-Length', (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`]
  ])('reads a JSON body sent %s on a raw socket', async (_case, frame) => {
    const body = JSON.stringify(signed('device_delete', { device: '6' }))
    const res = await rawRequest(sim.port, `POST /billing/api/device_delete HTTP/1.1\r\nHost: mor\r\nContent-Type: application/json\r\nConnection: close\r\n${frame(body)}`)
    expect({ status: res.status, body: res.body }).toStrictEqual({ status: 200, body: DELETED })
  })

  it('reads the query string as sent, as Rails does: %-escapes and the characters a URL parser would escape', async () => {
    const hash = signParams(['5'], TEST_API_SECRET)
    for (const [description, expected] of [['Caf%C3%A9+%26+bar', 'Caf\u00e9 &amp; bar'], ['"quoted"<tag>', '&quot;quoted&quot;&lt;tag&gt;']]) {
      const res = await rawRequest(sim.port, `GET /billing/api/device_update?u=${TEST_API_USER}&device=5&description=${description}&hash=${hash} HTTP/1.1\r\nHost: mor\r\nConnection: close\r\n\r\n`)
      expect(res.body).toBe(UPDATED)
      expect(await descriptionOf(5)).toBe(expected)
    }
  })

  it('answers an unparsable JSON body with Rails\' bare 400, before any action runs or is counted', async () => {
    const broken = `${JSON.stringify(createParams).slice(0, -1)},`
    expect(await post('device_create', broken, { 'content-type': 'application/json' })).toStrictEqual({ status: 400, type: 'text/html; charset=utf-8', text: '' })
    expect(sim.calls.total).toBe(0)
    expect(await call(sim.url, 'device_delete', signed('device_delete', { device: String(FIRST_NEW) }))).toBe(error('Device was not found'))
  })

  it('reads a body of 64 KiB, and answers a larger one with a web server\'s 413 before MOR sees it', async () => {
    const padded = (size: number) => {
      const form = new URLSearchParams(createParams).toString()
      return `${form}&extension=${'9'.repeat(size - form.length - '&extension='.length)}`
    }
    expect(await post('device_create', padded(64 * 1024), { 'content-type': FORM })).toStrictEqual(ok(created(FIRST_NEW)))
    const tooLarge = await post('device_create', padded(64 * 1024 + 1), { 'content-type': FORM })
    expect({ status: tooLarge.status, type: tooLarge.type, title: /<title>(.*)<\/title>/.exec(tooLarge.text)?.[1] })
      .toStrictEqual({ status: 413, type: 'text/html', title: '413 Request Entity Too Large' })
    const chunked = await rawRequest(sim.port, `POST /billing/api/device_create HTTP/1.1\r\nHost: mor\r\nContent-Type: ${FORM}\r\nTransfer-Encoding: chunked\r\n\r\n` +
      `8000\r\n${'a'.repeat(0x8000)}\r\n8000\r\n${'a'.repeat(0x8000)}\r\n1\r\na\r\n0\r\n\r\n`)
    expect({ status: chunked.status, closedByServer: chunked.closedByServer }).toStrictEqual({ status: 413, closedByServer: true })
    expect(sim.calls.writes).toStrictEqual(new Map([['device_create', 1]]))
  })

  it('answers a method MOR does not have with 404, without reading its body', async () => {
    expect((await post('device_explode', '{', { 'content-type': 'application/json' })).status).toBe(404)
    expect(sim.calls.total).toBe(0)
  })
})

describe('HTTP methods other than GET and POST', () => {
  const query = (method: string, params: Params) => new URLSearchParams(signed(method, params)).toString()

  it('runs the action for HEAD, as a GET, and sends its headers without the body', async () => {
    const res = await fetch(api('device_create', query('device_create', { user_id: '4' })), { method: 'HEAD' })
    expect({ status: res.status, length: res.headers.get('content-length'), body: await res.text() })
      .toStrictEqual({ status: 200, length: String(Buffer.byteLength(created(FIRST_NEW))), body: '' })
    expect(sim.calls.writes).toStrictEqual(new Map([['device_create', 1]]))
    expect(await call(sim.url, 'devices_get', signed('devices_get', { user_id: '4' }))).toContain(`<device_id>${FIRST_NEW}</device_id>`)
  })

  it('refuses HEAD like GET when GET requests are disabled', async () => {
    sim.options.allowGet = false
    const res = await fetch(api('device_delete', query('device_delete', { device: '6' })), { method: 'HEAD' })
    expect({ status: res.status, length: res.headers.get('content-length') }).toStrictEqual({ status: 200, length: String(Buffer.byteLength(error('GET Requests are disabled'))) })
    expect(await call(sim.url, 'device_details_get', signed('device_details_get', { device_id: '6' }))).toContain('<id>6</id>')
  })

  it('runs the action for OPTIONS, as Rails runs a match route for every verb, and answers with the body', async () => {
    sim.options.allowGet = false
    const res = await fetch(api('device_delete', query('device_delete', { device: '6' })), { method: 'OPTIONS' })
    expect({ status: res.status, body: await res.text() }).toStrictEqual({ status: 200, body: DELETED })
    expect(sim.calls.writes).toStrictEqual(new Map([['device_delete', 1]]))
  })
})
