// The one place that reads the environment. The configuration is one nested TypeBox schema
// (config/schema.ts) whose decoded type is Config; loadConfig checks every variable against it
// and fails fast with a message naming each bad variable, so a misconfigured gateway never
// starts half-working.
export { ConfigSchema, EnvSchema, FILE_SECRETS, type Config, type TracingSettings } from './config/schema.js'
export { ConfigError, parseEnv } from './config/env.js'
export { loadConfig } from './config/load.js'
export { SimulatorEnvSchema, loadSimulatorConfig, type SimulatorConfig } from './config/simulator.js'
