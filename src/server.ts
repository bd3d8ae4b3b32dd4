// The process: configuration, the app (app.ts builds it whole), graceful shutdown, listen.
// First, before anything allocates or queues work: V8's pretenuring off (why: runtime/no-pretenuring.ts),
// and the hidden classes of nextTick entries pinned (why: runtime/tick-shape.ts).
import './runtime/no-pretenuring.js'
import './runtime/tick-shape.js'
import { realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { loadConfig, type Config } from './config.js'
import { startupSummary } from './logging/startup-summary.js'
import { buildApp } from './app.js'
import { closeOnSignals, startProblem } from './runtime/process.js'

export { startProblem }

// Run when started directly (npm start), not when imported.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  let config: Config | undefined
  try {
    config = loadConfig(process.env)
    const app = await buildApp(config)
    closeOnSignals(app, config)
    await app.listen({ host: config.host, port: config.port })
    const listeners = app.addresses().map((a) => (typeof a === 'string' ? a : `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`))
    if (config.metricsPort !== undefined) listeners.push(`internal http://${config.host}:${config.metricsPort} (/metrics, /admin)`)
    app.log.info(startupSummary(config, listeners), 'gateway started')
  } catch (err) {
    const problem = startProblem(err, config)
    if (problem === undefined) throw err
    process.stderr.write(`mor-gateway: ${problem}\n`)
    process.exit(1)
  }
}
