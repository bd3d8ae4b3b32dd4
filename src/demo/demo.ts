// npm run demo: the MOR simulator plus a gateway pointed at it, with zero configuration.
import type { AddressInfo } from 'node:net'
import { ConfigError, loadConfig, loadSimulatorConfig } from '../config.js'
import { buildServer } from '../server.js'
import { DEMO_API_SECRET, DEMO_API_USER } from './data.js'
import { startMorSimulator } from './simulator.js'

try {
  // The simulator takes a free port unless MOR_SIM_PORT is given, so the demo never clashes.
  const simSettings = loadSimulatorConfig({ MOR_SIM_PORT: '0', ...process.env })
  const sim = await startMorSimulator({
    apiUser: DEMO_API_USER, secret: DEMO_API_SECRET, encoding: simSettings.MOR_SIM_ENCODING, delayMs: simSettings.MOR_SIM_DELAY_MS
  }, simSettings.MOR_SIM_PORT, simSettings.MOR_SIM_HOST)
  const config = loadConfig({ ...process.env, MOR_URL: sim.url, MOR_API_USER: DEMO_API_USER, MOR_API_SECRET: DEMO_API_SECRET })
  const server = await buildServer(config)
  server.addHook('onClose', async () => { await sim.close() })
  await server.listen({ host: config.host, port: config.port })
  const base = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${(server.server.address() as AddressInfo).port}`
  console.log(`
  DEMO MODE: the gateway serves SIMULATED MOR data (built-in simulator at ${sim.url}).

  Gateway      ${base}
  Try it       curl -s ${base}/v1/users/2/devices
  Other users  0 (no devices), 3 (one IAX2 trunk), 5 (five devices), 100 (5,000 devices), 9 (not found)
  Stop         Ctrl+C
`)
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  console.error(`demo: ${err.message}`)
  process.exit(1)
}
