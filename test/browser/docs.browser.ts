// Swagger UI in a real headless Chromium: against a running demo, expand the devices operation,
// "Try it out" for a seeded user, and see the simulated devices rendered; create, change and delete
// a device the same way (the demo's key may write); then authorized with a JWT from a real JWKS
// endpoint instead of an API key.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { freePort } from '../../scripts/ports.js'
import { chromium, type Browser, type Locator, type Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startMorSimulator } from '../../src/demo/simulator.js'
import { startGateway, TEST_API_SECRET, TEST_API_USER } from '../helpers/gateway.js'
import { jwtEnv, signingKey, startIdentityProvider, token } from '../helpers/identity-provider.js'

const CHROMIUM = '/usr/bin/chromium'
// Flags for a closed network and a root user (see the machine notes): no sandbox, no background
// traffic that would be refused.
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

let demo: ChildProcess
let browser: Browser
let base: string
let apiKey: string

beforeAll(async () => {
  const port = await freePort()
  demo = spawn(process.execPath, ['dist/src/demo/demo.js'], { env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    let out = ''
    demo.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const key = /API key\s+(demo-[0-9a-f]+)/.exec(out)?.[1]
      if (key && out.includes('Stop')) {
        apiKey = key
        resolve()
      }
    })
    demo.once('exit', (code) => reject(new Error(`demo exited with ${code}: ${out}`)))
  })
  base = `http://127.0.0.1:${port}`
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS })
})

afterAll(async () => {
  await browser?.close()
  demo?.kill('SIGTERM')
})

/** Authorizes Swagger UI with a bearer credential (an API key or a token), as a frontend developer would. */
async function authorize (page: Page, credential: string): Promise<void> {
  await page.locator('button.authorize').first().click()
  await page.locator('.modal-ux input[type="text"], .modal-ux input[type="password"]').first().fill(credential)
  await page.locator('.modal-ux button.authorize').first().click()
  await page.locator('.modal-ux button.btn-done').first().click()
}

/** What Swagger UI shows of one executed request: the status, the body (undefined when none) and the headers, by lower-case name. */
interface Shown { status: number, body: unknown, headers: Record<string, string> }

/**
 * Clicks Execute on an expanded operation (its parameters and body filled in already) and reads the
 * answer Swagger UI renders. A gateway just started on a busy machine may shed a request (503
 * overloaded, before any route runs: nothing was done), so that one is cleared and executed again.
 */
async function execute (operation: Locator): Promise<Shown> {
  const table = operation.locator('.live-responses-table')
  for (let attempt = 1; ; attempt++) {
    // Cleared first, so what is read is this run's answer and not the one before it.
    const clear = operation.locator('button.btn-clear')
    if (await clear.count() > 0) {
      await clear.click()
      await table.waitFor({ state: 'detached', timeout: 15_000 })
    }
    await operation.locator('button.execute').click()
    const statusCell = table.locator('.response .response-col_status').first()
    await statusCell.waitFor({ timeout: 15_000 })
    const status = Number(await statusCell.textContent())
    const details = table.locator('.response .response-col_description').first()
    // One span per header, " name: value "; every answer has some, and they render with the body.
    const headerLines = details.locator('xpath=.//h5[normalize-space()="Response headers"]/following-sibling::pre[1]').locator('.headerline')
    await headerLines.first().waitFor({ timeout: 15_000 })
    const headers = Object.fromEntries((await headerLines.allTextContents()).map((line) => {
      const colon = line.indexOf(':')
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]
    }))
    // A 204 has no "Response body" section at all.
    const bodyPre = details.locator('xpath=.//h5[normalize-space()="Response body"]/following-sibling::*[1]//pre').first()
    const bodyText = await bodyPre.count() > 0 ? await bodyPre.textContent({ timeout: 5000 }) : undefined
    const body = bodyText == null || bodyText.trim() === '' ? undefined : JSON.parse(bodyText) as unknown
    if (status !== 503 || (body as { type?: string } | undefined)?.type !== '/problems/overloaded' || attempt >= 10) return { status, body, headers }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

/** Expands an operation of the devices tag: Try it out is on from the start (tryItOutEnabled). */
async function expand (page: Page, operationId: string): Promise<Locator> {
  const operation = page.locator(`#operations-devices-${operationId}`)
  await operation.locator('.opblock-summary').click()
  await operation.locator('button.execute').waitFor({ timeout: 15_000 })
  return operation
}

it('runs "Try it out" in Swagger UI and renders the simulated devices of a seeded user', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } })
  await page.goto(`${base}/docs`)
  // Authorize with the demo's API key, as a frontend developer would.
  await authorize(page, apiKey)
  const operation = page.locator('#operations-devices-listUserDevices')
  await operation.locator('.opblock-summary').click()
  // A bad id is refused before any call, by the rule the gateway checks: the contract's pattern.
  await operation.locator('input[placeholder="userId"]').fill('007')
  await operation.locator('button.execute').click()
  const complaint = operation.locator('.validation-errors').first()
  await expect.poll(() => complaint.textContent(), { timeout: 15_000 }).toContain('Value must follow pattern ^(0|[1-9][0-9]{0,8}|')
  await operation.locator('input[placeholder="userId"]').fill('3')
  await operation.locator('button.execute').click()
  const status = operation.locator('.live-responses-table .response .response-col_status').first()
  await expect.poll(() => status.textContent(), { timeout: 15_000 }).toBe('200')
  const body = await operation.locator('.live-responses-table .response-col_description pre.microlight').first().textContent()
  expect(JSON.parse(body ?? '')).toStrictEqual({
    userId: 3,
    devices: [{ id: 55, type: 'IAX2', ipAddress: '198.51.100.7', port: 4569, username: '101', callerId: '"Bob & Sons" <101>', deviceGroupId: 3, primary: true }],
    nextCursor: null
  })
  mkdirSync(new URL('../artifacts/', import.meta.url), { recursive: true })
  await page.screenshot({ path: new URL('../artifacts/swagger-try-it-out.png', import.meta.url).pathname, fullPage: false })
})

it('creates, changes and deletes a device with "Try it out", authorized with the demo\'s key, which may write', async () => {
  // The demo writes its key to a key file as `access=read,write` (src/demo/demo.ts): no other set-up.
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } })
  await page.goto(`${base}/docs`)
  await authorize(page, apiKey)

  // POST with the documented example body, for user 2 (the example userId), and an Idempotency-Key.
  const create = await expand(page, 'createDevice')
  await create.locator('input[placeholder="userId"]').fill('2')
  await create.locator('input[placeholder="idempotency-key"]').fill('"swagger-create-1"')
  const body = JSON.parse(await create.locator('textarea.body-param__text').inputValue()) as Record<string, unknown>
  expect(body).toMatchObject({ type: 'SIP', description: 'Reception desk phone' })
  const created = await execute(create)
  expect(created.status).toBe(201)
  const device = created.body as { id: number, userId: number, type: string, description: string }
  expect(device).toMatchObject({ id: expect.any(Number), userId: 2, type: 'SIP', description: 'Reception desk phone' })
  expect(created.headers.location).toBe(`/v1/devices/${device.id}`)
  expect(created.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/)
  // Executed again with the same key: the first answer again, and no second device.
  const replayed = await execute(create)
  expect(replayed.status).toBe(201)
  expect(replayed.headers['idempotent-replayed']).toBe('true')
  expect(replayed.body).toStrictEqual(device)
  const listed = await fetch(`${base}/v1/users/2/devices`, { headers: { authorization: `Bearer ${apiKey}` } })
  expect(((await listed.json()) as { devices: Array<{ id: number }> }).devices.filter((d) => d.id === device.id)).toHaveLength(1)

  // PATCH device 5 (the example deviceId) with the documented example merge patch.
  const update = await expand(page, 'updateDevice')
  await update.locator('input[placeholder="deviceId"]').fill('5')
  await expect.poll(() => update.locator('select.content-type').first().inputValue()).toBe('application/merge-patch+json')
  const changed = await execute(update)
  expect(changed.status).toBe(200)
  expect(changed.body).toMatchObject({ id: 5, userId: 2, description: 'Front desk', callerId: '"Reception" <3725550100>' })
  expect(changed.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/)

  // DELETE the device made above, only as it was made (If-Match with its ETag).
  const remove = await expand(page, 'deleteDevice')
  await remove.locator('input[placeholder="deviceId"]').fill(String(device.id))
  await remove.locator('input[placeholder="if-match"]').fill(created.headers.etag ?? '')
  const removed = await execute(remove)
  expect(removed.status).toBe(204)
  expect(removed.body).toBeUndefined()
  expect((await fetch(`${base}/v1/devices/${device.id}`, { headers: { authorization: `Bearer ${apiKey}` } })).status).toBe(404)
  mkdirSync(new URL('../artifacts/', import.meta.url), { recursive: true })
  await remove.locator('.live-responses-table').screenshot({ path: new URL('../artifacts/swagger-try-it-out-delete.png', import.meta.url).pathname })
}, 120_000)

it('authorizes Swagger UI with a JWT as well, and "Try it out" on /v1/me/devices answers the token\'s user', async () => {
  const sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
  const key = await signingKey('browser-1', 'ES256')
  const idp = await startIdentityProvider([key])
  const gw = await startGateway(sim.url, jwtEnv(idp))
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } })
    await page.goto(`${gw.url}/docs`)
    await authorize(page, await token(key, { mor_user_id: 3 }))
    const operation = page.locator('#operations-devices-listMyDevices')
    await operation.locator('.opblock-summary').click()
    await operation.locator('button.execute').click()
    const status = operation.locator('.live-responses-table .response .response-col_status').first()
    await expect.poll(() => status.textContent(), { timeout: 15_000 }).toBe('200')
    const body = await operation.locator('.live-responses-table .response-col_description pre.microlight').first().textContent()
    expect((JSON.parse(body ?? '') as { userId: number }).userId).toBe(3)
  } finally {
    await gw.close()
    await Promise.all([idp.close(), sim.close()])
  }
})
