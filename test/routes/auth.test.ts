// API keys on /v1 over real sockets: missing and wrong keys, key files and their reload, AUTH_DISABLED.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdir, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError } from '../../src/config.js'
import { getJson, startGateway, TEST_API_KEY, type TestGateway } from '../helpers/gateway.js'
import { callerHarness, MISSING_KEY, INVALID_KEY, CHALLENGE, INVALID_TOKEN_CHALLENGE, KEY_ONE, KEY_TWO, KEY_THREE, bearer, waitFor } from '../helpers/callers.js'

const h = callerHarness()
const { gateway, statusWith, logged } = h

describe('API keys on /v1', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startGateway(h.sim.url) })
  afterAll(async () => { await gw.close() })

  it('returns 401 with a bare Bearer challenge when no key is sent, without calling MOR', async () => {
    const before = h.sim.calls.total
    const res = await getJson(`${gw.url}/v1/users/2/devices`, {}, { auth: false })
    expect(res.status).toBe(401)
    expect(res.type).toBe('application/problem+json; charset=utf-8')
    expect(res.body).toStrictEqual(MISSING_KEY)
    expect(res.headers.get('www-authenticate')).toBe(CHALLENGE)
    expect(h.sim.calls.total).toBe(before)
  })

  it('returns 401 invalid_token when the key is wrong, without calling MOR', async () => {
    const before = h.sim.calls.total
    const res = await getJson(`${gw.url}/v1/users/2/devices`, bearer('wrong-key-0123456789abcdef'))
    expect(res.status).toBe(401)
    expect(res.body).toStrictEqual(INVALID_KEY)
    expect(res.headers.get('www-authenticate')).toBe(INVALID_TOKEN_CHALLENGE)
    expect(h.sim.calls.total).toBe(before)
  })

  it('returns 401 invalid_token for the right key sent with the Basic scheme', async () => {
    const basic = `Basic ${Buffer.from(`user:${TEST_API_KEY}`).toString('base64')}`
    const res = await getJson(`${gw.url}/v1/users/2/devices`, { authorization: basic })
    expect(res.status).toBe(401)
    expect(res.body).toStrictEqual(INVALID_KEY)
    expect(res.headers.get('www-authenticate')).toBe(INVALID_TOKEN_CHALLENGE)
  })

  it('returns 401 invalid_token for a Bearer header without a token', async () => {
    const res = await getJson(`${gw.url}/v1/users/2/devices`, { authorization: 'Bearer' })
    expect(res.status).toBe(401)
    expect(res.body).toStrictEqual(INVALID_KEY)
  })

  it('answers 200 with the right key', async () => {
    const res = await getJson(`${gw.url}/v1/users/3/devices`)
    expect(res.status).toBe(200)
    expect(res.body).toStrictEqual({
      userId: 3,
      devices: [{ id: 55, type: 'IAX2', ipAddress: '198.51.100.7', port: 4569, username: '101', callerId: '"Bob & Sons" <101>', deviceGroupId: 3, primary: true }],
      nextCursor: null
    })
  })

  it('accepts the auth scheme in any letter case', async () => {
    expect((await getJson(`${gw.url}/v1/users/3/devices`, { authorization: `bearer ${TEST_API_KEY}` })).status).toBe(200)
  })

  it('asks for no key on /health/live, /metrics, /docs and /openapi.json', async () => {
    const live = await getJson(`${gw.url}/health/live`, {}, { auth: false })
    expect(live.status).toBe(200)
    expect(live.body).toStrictEqual({ status: 'ok' })
    const metrics = await fetch(`${gw.url}/metrics`)
    expect(metrics.status).toBe(200)
    expect(await metrics.text()).toContain('gateway_http_request_duration_seconds')
    const docs = await fetch(`${gw.url}/docs`)
    expect(docs.status).toBe(200)
    expect(docs.headers.get('content-type')).toMatch(/^text\/html/)
    const contract = await fetch(`${gw.url}/openapi.json`)
    expect(contract.status).toBe(200)
    expect((await contract.json() as { openapi: string }).openapi).toBe('3.1.0')
  })
})

describe('API keys from GATEWAY_API_KEYS_FILE', () => {
  const keyFile = async (name: string, text: string) => {
    const path = join(h.dir, name)
    await writeFile(path, text)
    return path
  }

  it('accepts the keys in the file and no others', async () => {
    const path = await keyFile('start.keys', `# gateway keys\n${KEY_ONE}   # billing\n\n# retired: ${KEY_THREE}\n${KEY_TWO}\n`)
    const gw = await gateway({ GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: path })
    const url = `${gw.url}/v1/users/2/devices`
    expect(await statusWith(url, KEY_ONE)).toBe(200)
    expect(await statusWith(url, KEY_TWO)).toBe(200)
    expect(await statusWith(url, KEY_THREE)).toBe(401)
    expect(await statusWith(url, TEST_API_KEY)).toBe(401)
  })

  it('accepts keys from both GATEWAY_API_KEYS and the file', async () => {
    const path = await keyFile('both.keys', `${KEY_ONE}\n`)
    const gw = await gateway({ GATEWAY_API_KEYS_FILE: path })
    const url = `${gw.url}/v1/users/2/devices`
    expect(await statusWith(url, KEY_ONE)).toBe(200)
    expect(await statusWith(url, TEST_API_KEY)).toBe(200)
  })

  it('takes up a rewritten key file on SIGHUP: the new key works and the removed one gets 401', async () => {
    const path = await keyFile('sighup.keys', `# v1\n${KEY_ONE}\n${KEY_TWO}\n`)
    const gw = await gateway({ GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: path })
    const url = `${gw.url}/v1/users/2/devices`
    expect(await statusWith(url, KEY_THREE)).toBe(401)

    await writeFile(path, `# v2: key one retired\r\n${KEY_TWO}\r\n${KEY_THREE}\r\n`)
    process.kill(process.pid, 'SIGHUP')
    await waitFor(async () => (await statusWith(url, KEY_THREE)) === 200)

    const removed = await getJson(url, bearer(KEY_ONE))
    expect(removed.status).toBe(401)
    expect(removed.body).toStrictEqual(INVALID_KEY)
    expect(await statusWith(url, KEY_TWO)).toBe(200)
    expect(logged(gw).some((line) => line.msg === 'API keys reloaded')).toBe(true)
  })

  it('takes up a rewritten key file when auth.reload() is called', async () => {
    const path = await keyFile('reload.keys', `${KEY_ONE}\n`)
    const gw = await gateway({ GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: path })
    const url = `${gw.url}/v1/users/2/devices`
    await writeFile(path, `${KEY_TWO}\n`)
    expect(await statusWith(url, KEY_ONE)).toBe(200)

    await gw.app.auth.reload()
    expect(await statusWith(url, KEY_TWO)).toBe(200)
    expect(await statusWith(url, KEY_ONE)).toBe(401)
  })

  it('keeps the keys in force when the file is gone at reload, and logs it', async () => {
    const path = await keyFile('vanishing.keys', `${KEY_ONE}\n`)
    const gw = await gateway({ GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: path })
    await unlink(path)
    await gw.app.auth.reload()
    expect(await statusWith(`${gw.url}/v1/users/2/devices`, KEY_ONE)).toBe(200)
    const errors = logged(gw).filter((line) => line.msg.includes('API key file could not be read'))
    expect(errors).toHaveLength(1)
    expect(errors[0]?.level).toBe(50)
  })

  it('keeps the keys in force when the file cannot be read at reload', async () => {
    const path = await keyFile('unreadable.keys', `${KEY_ONE}\n`)
    const gw = await gateway({ GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: path })
    // A directory in the file's place: unreadable even for root, who ignores file modes.
    await unlink(path)
    await mkdir(path)
    await gw.app.auth.reload()
    expect(await statusWith(`${gw.url}/v1/users/2/devices`, KEY_ONE)).toBe(200)
    expect(gw.logs.some((line) => line.includes('API key file could not be read'))).toBe(true)
  })

  it('refuses to start when the key file does not exist, naming GATEWAY_API_KEYS_FILE', async () => {
    const start = startGateway(h.sim.url, { GATEWAY_API_KEYS_FILE: join(h.dir, 'no-such.keys') })
    await expect(start).rejects.toBeInstanceOf(ConfigError)
    await expect(start).rejects.toThrow(/GATEWAY_API_KEYS_FILE cannot be read \(ENOENT\)/)
  })

  it('refuses to start when the key file holds no keys and no other keys are set', async () => {
    const path = await keyFile('empty.keys', '# no keys yet\n\n')
    const start = startGateway(h.sim.url, { GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: path })
    await expect(start).rejects.toBeInstanceOf(ConfigError)
    await expect(start).rejects.toThrow(/GATEWAY_API_KEYS_FILE holds no keys/)
  })
})

describe('AUTH_DISABLED=true', () => {
  it('answers /v1 without a key and warns about it in the log', async () => {
    const gw = await gateway({ GATEWAY_API_KEYS: '', AUTH_DISABLED: 'true' })
    const res = await getJson(`${gw.url}/v1/users/3/devices`, {}, { auth: false })
    expect(res.status).toBe(200)
    const warnings = logged(gw).filter((line) => line.msg.includes('AUTH_DISABLED=true'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]?.level).toBe(40)
  })
})
