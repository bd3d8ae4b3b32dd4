// Servers that live for one test: a simulator and gateways started through these are closed by
// the afterEach hook this module registers in the test file that imports it. sharedGateway() is
// the same pair for a whole file.
import { afterAll, afterEach, beforeAll } from 'vitest'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { startGateway, TEST_API_SECRET, TEST_API_USER, type TestGateway } from './gateway.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { while (cleanups.length > 0) await cleanups.pop()?.() })

export function closeAfterTest (close: () => Promise<void>): void {
  cleanups.push(close)
}

export async function simulator (port = 0): Promise<MorSimulator> {
  const sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET }, port)
  cleanups.push(sim.close)
  return sim
}

export async function gateway (url: string, env: Record<string, string> = {}, options: Parameters<typeof startGateway>[2] = {}): Promise<TestGateway> {
  const gw = await startGateway(url, env, options)
  cleanups.push(gw.close)
  return gw
}

/** A simulator and a gateway shared by every test of the calling file, closed after the last. */
export function sharedGateway (env: Record<string, string> = {}): { sim: MorSimulator, gw: TestGateway } {
  const shared = {} as { sim: MorSimulator, gw: TestGateway }
  beforeAll(async () => {
    shared.sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
    shared.gw = await startGateway(shared.sim.url, env)
  })
  afterAll(async () => {
    await shared.gw?.close()
    await shared.sim?.close()
  })
  return shared
}
