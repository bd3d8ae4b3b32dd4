// Swagger UI in a real headless Chromium: against a running demo, expand the devices operation,
// "Try it out" for a seeded user, and see the simulated devices rendered; then authorized with a
// JWT from a real JWKS endpoint instead of an API key.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { freePort } from '../../scripts/ports.js'
import { chromium, type Browser } from 'playwright-core'
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

it('runs "Try it out" in Swagger UI and renders the simulated devices of a seeded user', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } })
  await page.goto(`${base}/docs`)
  // Authorize with the demo's API key, as a frontend developer would.
  await page.locator('button.authorize').first().click()
  await page.locator('.modal-ux input[type="text"], .modal-ux input[type="password"]').first().fill(apiKey)
  await page.locator('.modal-ux button.authorize').first().click()
  await page.locator('.modal-ux button.btn-done').first().click()
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

it('authorizes Swagger UI with a JWT as well, and "Try it out" on /v1/me/devices answers the token\'s user', async () => {
  const sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
  const key = await signingKey('browser-1', 'ES256')
  const idp = await startIdentityProvider([key])
  const gw = await startGateway(sim.url, jwtEnv(idp))
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } })
    await page.goto(`${gw.url}/docs`)
    await page.locator('button.authorize').first().click()
    await page.locator('.modal-ux input[type="text"], .modal-ux input[type="password"]').first().fill(await token(key, { mor_user_id: 3 }))
    await page.locator('.modal-ux button.authorize').first().click()
    await page.locator('.modal-ux button.btn-done').first().click()
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
