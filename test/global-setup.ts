// Builds the gateway once per test run, before any test file starts: the process tests, the
// fault suite and the first-run tests run the compiled gateway (dist/), and several files
// building it in parallel would overwrite each other's output.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export default function setup (): void {
  execFileSync('npm', ['run', 'build'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'pipe' })
}
