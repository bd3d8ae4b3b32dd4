// SIGHUP to the real process re-reads the key file and keeps serving; it is not a shutdown.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { TEST_API_SECRET, TEST_API_USER } from '../helpers/gateway.js'
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js'

const OLD_KEY = 'old-key-0123456789abcdef'
const NEW_KEY = 'new-key-0123456789abcdef'
const keyFile = join(mkdtempSync(join(tmpdir(), 'gw-keys-')), 'keys')

let sim: MorSimulator
let gw: GatewayProcess

beforeAll(async () => {
  sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
  writeFileSync(keyFile, `# gateway keys\n${OLD_KEY}\n`)
  gw = await startGatewayProcess(sim.url, { GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: keyFile })
}, 120_000)
afterAll(async () => {
  await gw?.stop()
  await sim?.close()
})

const statusWith = async (key: string) => (await fetch(`${gw.url}/v1/users/3/devices`, { headers: { authorization: `Bearer ${key}` } })).status

it('reloads the key file on SIGHUP and keeps serving', async () => {
  expect(await statusWith(OLD_KEY)).toBe(200)
  expect(await statusWith(NEW_KEY)).toBe(401)
  writeFileSync(keyFile, `${NEW_KEY}\n`)
  gw.proc.kill('SIGHUP')
  const deadline = Date.now() + 5000
  while (await statusWith(NEW_KEY) !== 200) {
    if (Date.now() > deadline) throw new Error('the new key was not loaded')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  expect(await statusWith(OLD_KEY)).toBe(401)
  expect(gw.proc.exitCode).toBeNull()
  expect((await fetch(`${gw.url}/health/live`)).status).toBe(200)
})
