// Loading the gateway's configuration: check every variable against EnvSchema, read the files
// they name, check the rules across variables, then decode ConfigSchema. Every problem, of any
// variable, is in one ConfigError, so a misconfigured gateway never starts half-working.
import { Value } from 'typebox/value'
import { readKeyFile, type KeyFile } from '../auth/api-keys.js'
import { checkCombinations } from './checks.js'
import { checkEnv, configError } from './env.js'
import { readCaFile, withSecretFiles } from './files.js'
import { ConfigSchema, EnvSchema, type Config, type FileContents } from './schema.js'
import { inputOf } from './variables.js'

export function loadConfig (rawEnv: Record<string, string | undefined>): Config {
  const files = withSecretFiles(rawEnv)
  const { values, problems } = checkEnv(EnvSchema, files.env)
  // A file's problem is the one to fix (its variable then reads as missing); a bad value read
  // from a file names the file it came from. Neither echoes the value.
  const lines = [...files.problems.values()]
  for (const [name, why] of problems) {
    if (files.problems.has(name)) continue
    lines.push(files.read.has(name) ? `  ${name} (read from ${name}_FILE) ${why}` : `  ${name} ${why}`)
  }
  // Read once, here: the file's problems are configuration problems like any other.
  const keyFile: KeyFile = values.GATEWAY_API_KEYS_FILE === undefined ? { keys: [], problem: undefined } : readKeyFile(values.GATEWAY_API_KEYS_FILE)
  const ca = values.REDIS_TLS_CA_FILE === undefined ? { pem: undefined } : readCaFile(values.REDIS_TLS_CA_FILE)
  if (ca.problem !== undefined) lines.push(`  REDIS_TLS_CA_FILE ${ca.problem}`)
  // Rules across variables are checked on the variables that passed on their own.
  for (const line of checkCombinations(values, new Set([...problems.keys(), ...files.problems.keys()]), keyFile)) if (!lines.includes(line)) lines.push(line)
  if (lines.length > 0) throw configError(lines)
  const contents: FileContents = { GATEWAY_API_KEYS_FILE: keyFile.keys, REDIS_TLS_CA_FILE: ca.pem }
  return Value.Decode(ConfigSchema, inputOf(ConfigSchema, values, contents))
}
