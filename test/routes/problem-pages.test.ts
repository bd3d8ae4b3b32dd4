// What a problem's `type` points to: GET /problems/{slug} answers a page for every slug (HTML for a
// browser, plain text otherwise), and every problem's `instance` names its request.
import { describe, expect, it } from 'vitest'
import { PROBLEM_SLUGS, PROBLEM_TYPES } from '../../src/problems/catalog.js'
import { getJson } from '../helpers/gateway.js'
import { CONTRACT } from '../helpers/contract.js'
import { sharedGateway } from '../helpers/scoped.js'

const shared = sharedGateway()

describe('GET /problems/{slug}', () => {
  it('answers every problem type of the contract with its title and text, as plain text by default', async () => {
    const types = (CONTRACT.components?.schemas?.Problem as { properties: { type: { enum: string[] } } }).properties.type.enum
    expect(types).toStrictEqual(PROBLEM_SLUGS.map((slug) => `/problems/${slug}`))
    for (const type of types) {
      const res = await fetch(`${shared.gw.url}${type}`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
      const slug = type.slice('/problems/'.length) as keyof typeof PROBLEM_TYPES
      expect(await res.text()).toBe(`${PROBLEM_TYPES[slug].title}\n\n${PROBLEM_TYPES[slug].text}\n`)
    }
  })

  it('answers a browser with an HTML page, its text escaped', async () => {
    const res = await fetch(`${shared.gw.url}/problems/upstream-rejected`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('vary')).toBe('Accept')
    const html = await res.text()
    expect(html).toContain('<h1>MOR rejected the request</h1>')
    // The apostrophe in "gateway's" comes out as it is; quotes and angle brackets would be escaped.
    expect(html).toContain('Tell the gateway\'s operators.')
    expect(html).not.toMatch(/<script/i)
  })

  it('answers an unknown slug as a 404 not-found problem, without a key', async () => {
    for (const slug of ['nope', '..%2fdocs', 'INVALID-REQUEST']) {
      const res = await getJson(`${shared.gw.url}/problems/${slug}`, {}, { auth: false })
      expect(res.status).toBe(404)
      expect((res.body as { type: string }).type).toBe('/problems/not-found')
    }
  })
})

describe('a problem\'s instance', () => {
  it('is the request id as a urn:uuid, the same as X-Request-Id and the log\'s reqId', async () => {
    const res = await getJson(`${shared.gw.url}/v1/users/abc/devices`)
    const id = res.headers.get('x-request-id') ?? ''
    expect((res.body as { instance: string }).instance).toBe(`urn:uuid:${id}`)
    const logged = shared.gw.logs.map((line) => JSON.parse(line) as { reqId?: string }).filter((line) => line.reqId === id)
    expect(logged.length).toBeGreaterThan(0)
  })

  it('is left out when the caller chose its own X-Request-Id, which is not a UUID', async () => {
    const res = await getJson(`${shared.gw.url}/v1/users/abc/devices`, { 'x-request-id': 'trace-42' })
    expect(res.headers.get('x-request-id')).toBe('trace-42')
    expect(res.body).not.toHaveProperty('instance')
    const uuid = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d'
    const chosen = await getJson(`${shared.gw.url}/v1/users/abc/devices`, { 'x-request-id': uuid })
    expect((chosen.body as { instance: string }).instance).toBe(`urn:uuid:${uuid}`)
  })
})
