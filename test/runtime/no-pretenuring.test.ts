// runtime/no-pretenuring.ts turns V8's allocation-site pretenuring off for the process (why: the
// module's comment and docs/benchmarks.md). Checked with V8's own trace of its pretenuring
// decisions (--trace-pretenuring-statistics prints a line per collection while it is on): in a
// child process with and without the module, and in the gateway as operators start it.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TEST_API_SECRET, TEST_API_USER } from '../helpers/gateway.js'
import { signParams } from '../../src/mor/sign.js'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { startGatewayProcess } from '../helpers/gateway-process.js'

const MODULE = fileURLToPath(new URL('../../dist/src/runtime/no-pretenuring.js', import.meta.url))
const TRACE = '--trace-pretenuring-statistics'
const decisions = (lines: string[]) => lines.filter((line) => line.includes('pretenuring:')).length

// Literals that all survive a collection or two, as a burst of requests' records do.
const BURST = `
if (process.argv[1] === 'off') await import(${JSON.stringify(MODULE)})
console.log('START')
let kept = []
for (let i = 0; i < 2e6; i++) { kept.push({ i, list: [i] }); if (kept.length > 5000) kept = [] }
`
const afterStart = (out: string) => out.slice(out.indexOf('START')).split('\n')

describe('V8 pretenuring', () => {
  it('decides on literals in a burst without the module, and not at all with it', () => {
    const run = (mode: string) => execFileSync(process.execPath, [TRACE, '--input-type=module', '-e', BURST, mode], { encoding: 'utf8' })
    expect(decisions(afterStart(run('on')))).toBeGreaterThan(0)
    expect(decisions(afterStart(run('off')))).toBe(0)
  })

  describe('in the gateway process', () => {
    let sim: MorSimulator
    beforeAll(async () => { sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET }) })
    afterAll(async () => { await sim.close() })

    it('is off while it relays and answers', async () => {
      const gw = await startGatewayProcess(sim.url, {}, [TRACE])
      try {
        const started = gw.logs().length
        const query = `u=${TEST_API_USER}&user_id=2&hash=${signParams(['2'], TEST_API_SECRET)}`
        for (let i = 0; i < 40; i++) {
          const answers = await Promise.all(Array.from({ length: 25 }, async () => (await fetch(`${gw.url}/billing/api/devices_get?${query}`)).status))
          expect(answers.every((status) => status === 200)).toBe(true)
        }
        const scavenges = await gw.metric('nodejs_gc_duration_seconds_count{kind="minor"}')
        expect(scavenges).toBeGreaterThan(0)
        expect(decisions(gw.logs().slice(started))).toBe(0)
      } finally {
        await gw.stop()
      }
    })
  })
})
