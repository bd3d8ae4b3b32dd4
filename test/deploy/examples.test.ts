// The examples operators copy (.env.example, the systemd unit) name only variables the gateway
// reads, and the gateway accepts them as written once the secrets they point at exist.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { EnvSchema, loadConfig } from '../../src/config.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')
const KNOWN = new Set(Object.keys(EnvSchema.properties))

/** VAR=value lines, commented-out ones included when `commented`. */
function assignments (text: string, commented = false): Array<[string, string]> {
  const pattern = commented ? /^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/ : /^([A-Z][A-Z0-9_]*)=(.*)$/
  return text.split('\n').flatMap((line) => {
    const match = pattern.exec(line.trim())
    return match ? [[match[1] as string, match[2] as string] as [string, string]] : []
  })
}

describe('.env.example', () => {
  const text = read('.env.example')

  it('names only variables the gateway reads, commented-out ones included', () => {
    const names = assignments(text, true).map(([name]) => name)
    expect(names.length).toBeGreaterThan(10)
    expect(names.filter((name) => !KNOWN.has(name))).toStrictEqual([])
  })

  it('is accepted as written, with the secret files it mentions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mor-gw-env-'))
    writeFileSync(join(dir, 'secret'), 'example-secret\n')
    writeFileSync(join(dir, 'keys'), 'example-key-0123456789 name=portal\n')
    const config = loadConfig({ ...Object.fromEntries(assignments(text)), MOR_API_SECRET_FILE: join(dir, 'secret'), GATEWAY_API_KEYS_FILE: join(dir, 'keys') })
    expect([config.host, config.port, config.metricsPort, config.trustProxy]).toStrictEqual(['0.0.0.0', 3000, 9090, 1])
  })
})

describe('the systemd unit', () => {
  const unit = read('deploy/systemd/mor-gateway.service')
  const environment = unit.split('\n').flatMap((line) => {
    const match = /^Environment=([A-Z_]+)=(.*)$/.exec(line)
    return match ? [[match[1] as string, match[2] as string]] : []
  })

  it('sets only variables the gateway reads, every secret from a systemd credential', () => {
    expect(environment.length).toBeGreaterThan(0)
    for (const [name, value] of environment) {
      expect(KNOWN.has(name as string), name).toBe(true)
      expect(name).toMatch(/_FILE$/)
      const credential = /^%d\/(.+)$/.exec(value as string)?.[1]
      expect(unit).toContain(`LoadCredential=${credential}:`)
    }
  })

  it('runs the compiled server with node itself, from where the build puts it', () => {
    const exec = /^ExecStart=(\S+) (\S+)$/m.exec(unit)
    expect(exec?.[1]).toMatch(/\/node$/)
    expect(existsSync(join(ROOT, exec?.[2] as string))).toBe(true)
    // systemd's SIGKILL must come after the gateway's own grace (SHUTDOWN_GRACE_MS, default 10 s) is over.
    expect(Number(/^TimeoutStopSec=([0-9]+)$/m.exec(unit)?.[1]) * 1000).toBeGreaterThan(loadConfig({ MOR_URL: 'http://m/billing', MOR_API_USER: 'u', MOR_API_SECRET: 's', AUTH_DISABLED: 'true' }).shutdownGraceMs)
  })
})
