// REDIS_URL=redis-sentinel://...: the gateway finds the primary through a real Sentinel and
// shares its cache there.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { getJson, startGateway, TEST_API_SECRET, TEST_API_USER, type TestGateway } from '../helpers/gateway.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'
import { freePort, waitForPort } from '../../scripts/ports.js'

let primary: TestRedis
let sentinel: ChildProcess
let sentinelPort: number
let sim: MorSimulator
const gateways: TestGateway[] = []

beforeAll(async () => {
  primary = await startRedis()
  sentinelPort = await freePort()
  const config = join(mkdtempSync(join(tmpdir(), 'sentinel-')), 'sentinel.conf')
  writeFileSync(config, `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 ${primary.port} 1\n`)
  sentinel = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' })
  await waitForPort(sentinelPort, 5000)
  sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
})
afterAll(async () => {
  await Promise.all(gateways.map((gw) => gw.close()))
  sentinel?.kill('SIGKILL')
  await Promise.all([primary?.close(), sim?.close()])
})

async function gateway () {
  const gw = await startGateway(sim.url, { REDIS_URL: `redis-sentinel://127.0.0.1:${sentinelPort}/mymaster` })
  gateways.push(gw)
  const deadline = Date.now() + 5000
  while (gw.app.redisStore?.available !== true) {
    if (Date.now() > deadline) throw new Error('the gateway did not reach the primary through Sentinel')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return gw
}

it('shares entries between two instances through a Sentinel-managed primary', async () => {
  const [a, b] = [await gateway(), await gateway()]
  await getJson(`${a.url}/v1/users/1201/devices`)
  const res = await getJson(`${b.url}/v1/users/1201/devices`)
  expect(res.status).toBe(200)
  expect(res.headers.get('cache-status')).toMatch(/^mor-gateway; hit/)
  expect(sim.calls.byUser.get('1201')).toBe(1)
})
