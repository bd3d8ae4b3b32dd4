// npm run mor-sim: the MOR simulator on its own, e.g. to point a gateway (or curl) at it.
import { randomBytes } from 'node:crypto'
import { loadSimulatorConfig, ConfigError } from '../config.js'
import { DEMO_API_SECRET, DEMO_API_USER } from './data.js'
import { startMorSimulator } from './simulator.js'

try {
  const settings = loadSimulatorConfig(process.env)
  const sim = await startMorSimulator({
    apiUser: DEMO_API_USER, secret: DEMO_API_SECRET, encoding: settings.MOR_SIM_ENCODING, delayMs: settings.MOR_SIM_DELAY_MS
  }, settings.MOR_SIM_PORT, settings.MOR_SIM_HOST)
  console.log(`MOR simulator (simulated data) at ${sim.url}, answering ${settings.MOR_SIM_ENCODING}`)
  console.log(`  API user ${DEMO_API_USER}, API secret ${DEMO_API_SECRET} (demo values, not a real MOR)`)
  // A gateway needs an API key of its own to start: a fresh one, ready to paste.
  const key = `demo-${randomBytes(16).toString('hex')}`
  console.log(`  point a gateway at it: MOR_URL=${sim.url} MOR_API_USER=${DEMO_API_USER} MOR_API_SECRET=${DEMO_API_SECRET} GATEWAY_API_KEYS=${key} PORT=3000 npm start`)
  const stop = () => { sim.close().then(() => process.exit(0), () => process.exit(1)) }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  console.error(`mor-sim: ${err.message}`)
  process.exit(1)
}
