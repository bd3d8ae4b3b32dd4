// The Dockerfile and .dockerignore as scripts/dockerfile-check.ts replays them: instructions with
// continuations joined, exec-form arguments, and Docker's ignore patterns. Pure functions.
import { posix } from 'node:path'

export interface Instruction { keyword: string, flags: Map<string, string>, rest: string, line: number }

/** A failure that makes the remaining checks meaningless. */
export class Stop extends Error {}

/** Instructions with continuations joined and comments dropped (parser directives are comments too). */
export function parseDockerfile (text: string): Instruction[] {
  const out: Instruction[] = []
  let pending = ''
  let start = 0
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim()
    if (line.startsWith('#') || (pending === '' && line === '')) return
    if (pending === '') start = index + 1
    if (line.endsWith('\\')) { pending += `${line.slice(0, -1).trimEnd()} `; return }
    let rest = (pending + line).trim()
    pending = ''
    const keyword = (/^\S+/.exec(rest)?.[0] ?? '').toUpperCase()
    rest = rest.slice(keyword.length).trim()
    const flags = new Map<string, string>()
    for (let m = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest); m !== null; m = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest)) {
      flags.set(m[1] ?? '', m[2] ?? '')
      rest = rest.slice(m[0].length)
    }
    out.push({ keyword, flags, rest, line: start })
  })
  return out
}

/** Exec form (a JSON array) or undefined for shell form. */
export function execForm (rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined
  const argv: unknown = JSON.parse(rest)
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw new Stop(`not an exec-form array: ${rest}`)
  return argv
}

/** Docker's Go-style patterns: * and ? within a path segment, ** across segments, [..] classes. */
export function patternToRegExp (pattern: string): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? ''
    if (pattern.startsWith('**/', i)) { source += '(?:.*/)?'; i += 2 } else if (pattern.startsWith('**', i)) { source += '.*'; i++ } else if (c === '*') source += '[^/]*'
    else if (c === '?') source += '[^/]'
    else if (c === '[') {
      const end = pattern.indexOf(']', i)
      source += pattern.slice(i, end + 1).replace(/^\[!/, '[^')
      i = end
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`^${source}$`)
}

/** Whether a context path (relative, posix) is left out: a pattern matches it or one of its parents. */
export function dockerignore (text: string): (path: string) => boolean {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  // Docker re-includes "!" paths inside excluded folders; the copy below prunes whole folders.
  if (lines.some((l) => l.startsWith('!'))) throw new Stop('.dockerignore: "!" exceptions are not supported by this check')
  const patterns = lines.map((l) => patternToRegExp(posix.normalize(l.replace(/^\/+/, ''))))
  return (path) => {
    const parts = path.split('/')
    return parts.some((_, n) => patterns.some((p) => p.test(parts.slice(0, n + 1).join('/'))))
  }
}
