// The Dockerfile reader the container check replays with, and the repository's own Dockerfile and
// .dockerignore as it reads them: what the image would contain is decided here.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { dockerignore, execForm, parseDockerfile, Stop } from '../../scripts/dockerfile-parse.js'

const read = (name: string) => readFileSync(new URL(`../../${name}`, import.meta.url), 'utf8')

describe('parseDockerfile', () => {
  it('joins continuations, drops comments and reads flags', () => {
    const text = '# syntax=docker/dockerfile:1\nFROM node:24 AS build\nCOPY --from=build --chown=node /app/dist ./dist\nENV A=1 \\\n    B=2\n'
    expect(parseDockerfile(text)).toStrictEqual([
      { keyword: 'FROM', flags: new Map(), rest: 'node:24 AS build', line: 2 },
      { keyword: 'COPY', flags: new Map([['from', 'build'], ['chown', 'node']]), rest: '/app/dist ./dist', line: 3 },
      { keyword: 'ENV', flags: new Map(), rest: 'A=1 B=2', line: 4 }
    ])
  })

  it('reads exec form, leaves shell form, and refuses an array of anything but strings', () => {
    expect(execForm('["node", "dist/src/server.js"]')).toStrictEqual(['node', 'dist/src/server.js'])
    expect(execForm('npm start')).toBeUndefined()
    expect(() => execForm('["node", 1]')).toThrow(Stop)
  })
})

describe('dockerignore', () => {
  it('matches Docker\'s patterns, a folder excluding what is inside it', () => {
    const ignored = dockerignore('node_modules\n**/.env\n*.md\ndocs\n')
    expect(['node_modules/x/y.js', 'a/b/.env', '.env', 'README.md', 'docs/api.md'].filter(ignored)).toHaveLength(5)
    expect(['src/server.ts', 'package.json', 'src/README.md.ts'].filter(ignored)).toStrictEqual([])
  })

  it('refuses "!" exceptions rather than copy what Docker would not', () => {
    expect(() => dockerignore('docs\n!docs/keep.md\n')).toThrow(Stop)
  })
})

describe('the repository\'s image definition', () => {
  const instructions = parseDockerfile(read('Dockerfile'))
  const ignored = dockerignore(read('.dockerignore'))

  it('runs the compiled server with node itself, as a non-root user', () => {
    const last = (keyword: string) => instructions.filter((i) => i.keyword === keyword).at(-1)
    expect(execForm(last('CMD')?.rest ?? '')).toStrictEqual(['node', 'dist/src/server.js'])
    expect(last('USER')?.rest).toBe('node')
  })

  it('sends the sources and lockfile to the build, never secrets, tests or local builds', () => {
    expect(['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/server.ts'].filter(ignored)).toStrictEqual([])
    for (const path of ['.env', 'deploy/.env', 'certs/server.key', 'test/config.test.ts', 'node_modules/fastify/package.json', 'dist/src/server.js', '.git/HEAD']) {
      expect(ignored(path), path).toBe(true)
    }
  })
})
