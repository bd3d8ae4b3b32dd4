// A key file for the tests of one file: written before its first test, removed after its last.
// Write rights (access=read,write) exist only on a key file's lines, so every test of a device
// write starts its gateways with one.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'

/** Registers the hooks in the calling test file; `path` is the file's once the tests run. */
export function keyFile (lines: string[]): { readonly path: string, readonly env: Record<string, string> } {
  const state = { dir: '', path: '' }
  beforeAll(async () => {
    state.dir = await mkdtemp(join(tmpdir(), 'mor-gateway-keys-'))
    state.path = join(state.dir, 'keys')
    await writeFile(state.path, `${lines.join('\n')}\n`)
  })
  afterAll(async () => { await rm(state.dir, { recursive: true, force: true }) })
  return {
    get path () { return state.path },
    /** The gateway settings that use this file and no other key. */
    get env () { return { GATEWAY_API_KEYS: '', GATEWAY_API_KEYS_FILE: state.path } }
  }
}
