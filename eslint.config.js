import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'openapi/**', 'node_modules/**', 'test/artifacts/**', 'bench/results/**'] })
]
