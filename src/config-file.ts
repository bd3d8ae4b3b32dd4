// Files the configuration names (secrets, the key file, a CA): read whole, at start (the key file
// also on SIGHUP). A file that cannot be read is a configuration problem named by its error code,
// never by what it holds.
import { readFileSync } from 'node:fs'

export type ConfigFile = { content: Buffer, problem?: undefined } | { content?: undefined, problem: string }

export function readConfigFile (path: string): ConfigFile {
  try {
    return { content: readFileSync(path) }
  } catch (err) {
    return { problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` }
  }
}
