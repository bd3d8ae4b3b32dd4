// The files variables name, read once at load: a secret's X_FILE, and REDIS_TLS_CA_FILE's
// certificates. A file's problem names the variable, never what the file holds.
import { readConfigFile } from '../config-file.js'
import { FILE_SECRETS } from './schema.js'

const isSet = (value: string | undefined) => value !== undefined && value !== ''

/**
 * The environment with each X_FILE's content as X (read once, the trailing newline dropped), the
 * names so read, and a problem per file that cannot stand in for its variable.
 */
export function withSecretFiles (env: Record<string, string | undefined>): { env: Record<string, string | undefined>, read: Set<string>, problems: Map<string, string> } {
  const out = { ...env }
  const read = new Set<string>()
  const problems = new Map<string, string>()
  for (const name of FILE_SECRETS) {
    const path = env[`${name}_FILE`]
    if (!isSet(path)) continue
    if (isSet(env[name])) {
      problems.set(name, `  ${name} and ${name}_FILE are both set: set only one`)
      continue
    }
    const file = readConfigFile(path as string)
    const text = file.content?.toString('utf8').replace(/\r?\n$/, '')
    if (text === undefined) problems.set(name, `  ${name}_FILE ${file.problem}`)
    else if (text.trim() === '') problems.set(name, `  ${name}_FILE is an empty file`)
    else {
      out[name] = text
      read.add(name)
    }
  }
  return { env: out, read, problems }
}

/** REDIS_TLS_CA_FILE's PEM certificates, or why they cannot be used. */
export function readCaFile (path: string): { pem: Buffer | undefined, problem?: string } {
  const { content: pem, problem } = readConfigFile(path)
  if (pem === undefined) return { pem, problem }
  return pem.includes('-----BEGIN CERTIFICATE-----') ? { pem } : { pem: undefined, problem: 'holds no PEM certificate' }
}
