// npm run demo: the MOR simulator plus a gateway pointed at it, with zero configuration.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { loadConfig, loadSimulatorConfig, type Config } from '../config.js'
import { buildApp } from '../app.js'
import { closeOnSignals, startProblem } from '../runtime/process.js'
import { devicesGetHash, signParams } from '../mor/sign.js'
import { DEMO_API_SECRET, DEMO_API_USER } from './data.js'
import { startMorSimulator } from './simulator.js'

let config: Config | undefined
try {
  // The simulator takes a free port unless MOR_SIM_PORT is given, so the demo never clashes.
  const simSettings = loadSimulatorConfig({ MOR_SIM_PORT: '0', ...process.env })
  const sim = await startMorSimulator({
    apiUser: DEMO_API_USER, secret: DEMO_API_SECRET, encoding: simSettings.MOR_SIM_ENCODING, delayMs: simSettings.MOR_SIM_DELAY_MS
  }, simSettings.MOR_SIM_PORT, simSettings.MOR_SIM_HOST)
  // A fresh key per run that may read and change every user's devices (a key file line, since
  // only a line can grant the write right), unless the environment brings its own keys.
  const demoKey = `demo-${randomBytes(16).toString('hex')}`
  const ownKeys = process.env.GATEWAY_API_KEYS !== undefined || process.env.GATEWAY_API_KEYS_FILE !== undefined
  const keyFile = join(mkdtempSync(join(tmpdir(), 'mor-gateway-demo-')), 'keys')
  if (!ownKeys) writeFileSync(keyFile, `${demoKey} name=demo access=read,write\n`, { mode: 0o600 })
  config = loadConfig({
    ...(ownKeys ? {} : { GATEWAY_API_KEYS_FILE: keyFile }), ...process.env, MOR_URL: sim.url, MOR_API_USER: DEMO_API_USER, MOR_API_SECRET: DEMO_API_SECRET
  })
  const keyNote = ownKeys ? '<one of your API keys>' : demoKey
  const auth = `-H "Authorization: Bearer ${keyNote}"`
  const server = await buildApp(config)
  closeOnSignals(server, config)
  server.addHook('onClose', async () => { await sim.close() })
  await server.listen({ host: config.host, port: config.port })
  const base = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${(server.server.address() as AddressInfo).port}`
  console.log(`
  DEMO MODE: the gateway serves SIMULATED MOR data (built-in simulator at ${sim.url}).

  Gateway      ${base}
  API key      ${keyNote}
  Try it       curl -s -H "Authorization: Bearer ${keyNote}" ${base}/v1/users/2/devices
  A page       curl -s -H "Authorization: Bearer ${keyNote}" "${base}/v1/users/100/devices?type=sip&limit=100"
  One device   curl -s -H "Authorization: Bearer ${keyNote}" ${base}/v1/devices/5
  Users        curl -s -H "Authorization: Bearer ${keyNote}" "${base}/v1/users?limit=5"
  One user     curl -s -H "Authorization: Bearer ${keyNote}" ${base}/v1/users/2
  Calls        curl -s -H "Authorization: Bearer ${keyNote}" "${base}/v1/users/2/calls?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z"
  Payments     curl -s -H "Authorization: Bearer ${keyNote}" ${base}/v1/users/2/payments
  Add a device curl -s ${auth} -H "Content-Type: application/json" -H 'Idempotency-Key: "demo-add-1"' --data '{"type":"SIP","description":"Lobby phone"}' ${base}/v1/users/2/devices
  Change one   curl -s -X PATCH ${auth} -H "Content-Type: application/merge-patch+json" --data '{"description":"Front desk"}' ${base}/v1/devices/5
  Remove one   curl -s -i -X DELETE ${auth} ${base}/v1/devices/84
               (JSON writes through MOR's device_create, device_update and device_delete; the lists show them at once)
  Swagger UI   ${base}/docs  (Authorize with the key, then "Try it out")
  Other users  0 (no devices), 3 (one IAX2 trunk), 5 (five devices), 100 (5,000 devices), 9 (not found)
  Legacy API   curl -s --compressed --data "u=${DEMO_API_USER}&user_id=2&hash=${devicesGetHash(2, DEMO_API_SECRET)}" ${base}/billing/api/devices_get
               (MOR's own API, passed through unchanged; the client signs: hash = sha1(user_id + API secret))
  Legacy write curl -s --compressed --data "u=${DEMO_API_USER}&user_id=3&type=SIP&hash=${signParams(['3', 'SIP'], DEMO_API_SECRET)}" ${base}/billing/api/device_create
               (creates a device for user 3 through the passthrough, hash = sha1(user_id + type + API secret):
               user 3's JSON list shows it at once)
  Metrics      ${config.metricsPort === undefined ? `${base}/metrics` : `port ${config.metricsPort}/metrics`}
  Stop         Ctrl+C
`)
} catch (err) {
  const problem = startProblem(err, config)
  if (problem === undefined) throw err
  console.error(`demo: ${problem}`)
  process.exit(1)
}
