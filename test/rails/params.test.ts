// The differential test: each request goes, as raw HTTP/1.1 bytes, to the installed Rails
// (params_app.rb) and, as the gateway would hold it, to railsParams. Both must read the same
// parameters and the same write target, or both refuse the request. Fails when Ruby or ActionPack
// is missing (CI installs them).
import fc from 'fast-check'
import { afterAll, describe, expect, test } from 'vitest'
import { railsParams, targetId, type RailsValue } from '../../src/rails/params.js'
import { writeRequestOf } from '../../src/legacy/writes.js'
import { JSON_CASES, MULTIPART_CASES, URLENCODED_CASES } from './cases.js'
import { dechunk, rawClient, rawRequest, startRailsApp, type RailsApp, type RawClient, type WireRequest } from './rails-app.js'

// Each test awaits the app, so a missing Ruby fails every test (with the install hint) rather than
// skipping them behind one failed hook.
const started: Promise<{ app: RailsApp, client: RawClient }> = (async () => {
  const app = await startRailsApp()
  return { app, client: await rawClient(app.port) }
})()
started.catch(() => {})
afterAll(async () => {
  const running = await started.catch(() => undefined)
  running?.client.close()
  await running?.app.close()
})

/** Rails' JSON hashes as railsParams builds them: without a prototype. */
function bare (v: unknown): unknown {
  if (Array.isArray(v)) return v.map(bare)
  if (v === null || typeof v !== 'object') return v
  const out: Record<string, unknown> = Object.create(null)
  for (const key of Object.keys(v)) out[key] = bare((v as Record<string, unknown>)[key])
  return out
}

const targets = (params: Record<string, RailsValue>): unknown =>
  ({ user_id: targetId(params.user_id) ?? null, device: targetId(params.device) ?? null })

async function expectAgreement (request: WireRequest): Promise<void> {
  const raw = rawRequest(request)
  const body = request.body === null ? null : request.chunked === true ? dechunk(raw) : request.body
  const { client } = await started
  const rails = JSON.parse(await client.send(raw))
  // Node hands the header over without its surrounding whitespace, as Rails' server does.
  const contentType = request.contentType?.replace(/^[ \t]+|[ \t]+$/g, '')
  const ours = railsParams(request.query, body, contentType, request.method)
  if (rails.ok === true) {
    expect(ours).toStrictEqual({ ok: true, params: bare(rails.params) })
    if (ours.ok) expect(targets(ours.params)).toStrictEqual(rails.targets)
  } else {
    expect(ours).toStrictEqual({ ok: false, reason: expect.any(String) })
  }
  // The gateway's write recogniser, on the same request sent to a delete and a create: the device
  // or user Rails would read, or refused when Rails has none (or refuses the request).
  const overridden = rails.ok === true && rails.params._method !== undefined
  for (const [method, name, subject] of [['device_delete', 'device', 'deviceId'], ['device_create', 'user_id', 'userId']] as const) {
    const write = writeRequestOf({ method, exact: true }, { httpMethod: request.method, query: request.query, contentType, methodOverride: undefined, body })
    const id = rails.ok === true ? (rails.targets as Record<string, number | null>)[name] : null
    if (overridden) continue // a _method=HEAD is refused whatever its target: writes.test.ts
    expect(write, method).toStrictEqual(id === null || id === undefined
      ? { kind: 'unreadable', method, reason: expect.any(String) }
      : { kind: 'write', method, subject: { [subject]: id } })
  }
}

describe('railsParams agrees with Rails 6.1 on urlencoded requests', () => {
  test.each(URLENCODED_CASES)('$name', expectAgreement)
})

describe('railsParams agrees with Rails 6.1 on JSON bodies', () => {
  test.each(JSON_CASES)('$name', expectAgreement)
})

describe('railsParams agrees with Rails 6.1 on multipart bodies', () => {
  test.each(MULTIPART_CASES)('$name', expectAgreement)
})

const FORM_PIECES = ['a', 'device', 'user_id', '[', ']', '[]', '=', '=', '&', '&', ';', '%', '2', '0', '5', 'B', '+',
  '%5B', '%5D', '%3D', '%26', '%FF', '%C3%A9', '%00', '%2', '\xff', '__proto__', '\0']
const BODY_PIECES = [...FORM_PIECES, ' ', '\r\n']
const JSON_PIECES = ['{', '}', '[', ']', '"', '"', ':', ',', '\\', 'u', 'd8', '00', 'dc', '1', '0', '.', 'e', '-', ' ',
  '/*', '*/', '//', '\n', 'null', 'true', '"device"', '5', '\xff', '\t']
const pieces = (alphabet: string[], max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...alphabet), { maxLength: max }).map((p) => p.join(''))
const methods = fc.constantFrom('POST', 'POST', 'PUT', 'GET', 'DELETE')

describe('railsParams agrees with Rails 6.1 on generated requests', () => {
  test('agrees on random forms and query strings', async () => {
    const request = fc.record({
      method: methods,
      query: pieces(FORM_PIECES, 12),
      contentType: fc.constantFrom(undefined, 'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'text/plain', 'multipart/form-data'),
      body: fc.option(pieces(BODY_PIECES, 16).map((s) => Buffer.from(s, 'latin1')), { nil: null }),
      chunked: fc.boolean()
    })
    await fc.assert(fc.asyncProperty(request, expectAgreement), { numRuns: 200 })
  })

  test('agrees on random JSON bodies', async () => {
    const text = fc.oneof(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'), pieces(JSON_PIECES, 14))
    const request = fc.record({
      method: methods,
      query: pieces(FORM_PIECES, 4),
      contentType: fc.constantFrom('application/json', 'text/x-json; charset=utf-8'),
      body: text.map((s) => Buffer.from(s, /^[\0-\xff]*$/.test(s) ? 'latin1' : 'utf8')),
      chunked: fc.boolean()
    })
    await fc.assert(fc.asyncProperty(request, expectAgreement), { numRuns: 150 })
  })

  test('agrees on random multipart bodies', async () => {
    const part = fc.record({
      name: pieces(['a', 'device', '[', ']', '"', '\\', '%', '\xff', ';'], 4),
      value: pieces(['5', 'x', '-', '--B', '\r\n', '\xe9', '\xc3\xa9'], 4),
      filename: fc.option(pieces(['a', '.', '/', '\\', '%41', '"', '\xff'], 4), { nil: null })
    })
    const body = fc.tuple(fc.array(part, { maxLength: 4 }), fc.constantFrom('--B--\r\n', '--B--', '', '--B\r\n'), fc.nat(3))
      .map(([parts, end, cut]) => {
        const text = parts.map((p) => `--B\r\nContent-Disposition: form-data; name="${p.name}"` +
          (p.filename === null ? '' : `; filename="${p.filename}"`) + `\r\n\r\n${p.value}\r\n`).join('') + end
        return Buffer.from(text.slice(0, cut === 0 ? text.length - 3 : text.length), 'latin1')
      })
    const request = fc.record({
      method: fc.constant('POST'),
      query: pieces(FORM_PIECES, 4),
      contentType: fc.constantFrom('multipart/form-data; boundary=B', 'multipart/form-data; boundary="B"'),
      body,
      chunked: fc.boolean()
    })
    await fc.assert(fc.asyncProperty(request, expectAgreement), { numRuns: 150 })
  })
})
