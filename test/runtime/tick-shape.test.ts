// tick-shape.ts keeps one nextTick entry alive, so full GCs cannot drop the hidden classes that
// later entries are built with. Checked with V8's own map comparison in a child process, where
// --expose-gc and --allow-natives-syntax can be turned on.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { beforeAll, expect, it } from 'vitest'
import { buildOnce } from '../helpers/gateway-process.js'

const TICK_SHAPE = fileURLToPath(new URL('../../dist/src/runtime/tick-shape.js', import.meta.url))

// Captures the next nextTick entry. A function, so that nothing keeps the entry once the caller
// drops it (a loop-scoped variable captured by the hook would keep the last one alive).
const NEXT_ENTRY = `
import { createHook } from 'node:async_hooks'
function nextEntry () {
  let entry
  const hook = createHook({ init (_id, type, _trigger, resource) { if (type === 'TickObject') entry ??= resource } }).enable()
  process.nextTick(() => {})
  hook.disable()
  return entry
}
const fullGc = async () => {
  await new Promise((resolve) => setImmediate(resolve))
  globalThis.gc()
}
`

// Five full GCs while no other entry is alive; after each, a new entry is compared with the kept one.
const PROBE = `${NEXT_ENTRY}
const { keptTickEntry } = await import(process.argv[1])
const sameShape = []
for (let i = 0; i < 5; i++) {
  await fullGc()
  sameShape.push(%HaveSameMap(keptTickEntry, nextEntry()))
}
process.stdout.write(JSON.stringify({ kept: keptTickEntry !== undefined, sameShape }))
`

// The same without the module: %DebugPrint writes each new entry's hidden class ("map").
const CONTROL = `${NEXT_ENTRY}
for (let i = 0; i < 3; i++) {
  await fullGc()
  ;%DebugPrint(nextEntry()) // the semicolon: a line starting with % would continue the line above
}
`

beforeAll(() => { buildOnce() }, 120_000)

// If this starts failing after a Node upgrade, V8 or Node no longer drops the classes, and
// tick-shape.ts can go.
it('without it, each full GC gives new nextTick entries a new hidden class (what tick-shape.ts prevents)', () => {
  const out = execFileSync(process.execPath, ['--expose-gc', '--allow-natives-syntax', '--input-type=module', '-e', CONTROL], { encoding: 'utf8' })
  const maps = [...out.matchAll(/^ - map: (0x[0-9a-f]+)/gm)].map((m) => m[1])
  expect(maps).toHaveLength(3)
  expect(new Set(maps).size).toBe(3)
})

it('keeps a nextTick entry, and entries built after full GCs share its hidden class', () => {
  const out = execFileSync(process.execPath, ['--expose-gc', '--allow-natives-syntax', '--input-type=module', '-e', PROBE, TICK_SHAPE], { encoding: 'utf8' })
  expect(JSON.parse(out)).toEqual({ kept: true, sameShape: [true, true, true, true, true] })
})
