// The MOR simulator's own settings (npm run mor-sim, npm run demo), checked like the gateway's.
import { Type, type Static } from 'typebox'
import { parseEnv } from './env.js'
import { Int } from './variables.js'

export const SimulatorEnvSchema = Type.Object({
  MOR_SIM_HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  MOR_SIM_PORT: Int(0, 65535, 8090),
  MOR_SIM_ENCODING: Type.Union([Type.Literal('gzip'), Type.Literal('gzip-file'), Type.Literal('plain')], { default: 'gzip' }),
  MOR_SIM_DELAY_MS: Int(0, 60_000, 0)
})
export type SimulatorConfig = Static<typeof SimulatorEnvSchema>

export function loadSimulatorConfig (env: Record<string, string | undefined>): SimulatorConfig {
  return parseEnv(SimulatorEnvSchema, env)
}
