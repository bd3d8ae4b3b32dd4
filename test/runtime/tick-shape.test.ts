// runtime/tick-shape.ts keeps one nextTick entry alive, so full GCs cannot drop the hidden classes that
// later entries are built with. Checked with V8's own map comparison in a child process, where
// --expose-gc and --allow-natives-syntax can be turned on.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

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

// Why the module exists (each full GC gave new entries a new hidden class) is recorded in
// docs/decisions/nextTick-hidden-classes.md; it was seen with %DebugPrint, whose text output is no
// contract to test against. This test checks the module's effect with V8's own map comparison.
it('keeps a nextTick entry, and entries built after full GCs share its hidden class', () => {
  const out = execFileSync(process.execPath, ['--expose-gc', '--allow-natives-syntax', '--input-type=module', '-e', PROBE, TICK_SHAPE], { encoding: 'utf8' })
  expect(JSON.parse(out)).toEqual({ kept: true, sameShape: [true, true, true, true, true] })
})
