// Liveness and readiness for orchestrators. Ready means the gateway can serve: configuration
// loaded and plugins up. Redis and MOR are reported, not required: Redis is only an accelerator
// (every request is still answered without it), and failing readiness on MOR would take every
// instance out of rotation at once and stop serving stale data just when it matters.
import { connect } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import type { Config } from '../config.js'
import { problemResponses } from '../schemas/problem-answers.js'

const MOR_PROBE_TIMEOUT_MS = 1000
const MOR_PROBE_TTL_MS = 5000

export const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('degraded')]),
  checks: Type.Object({
    config: Type.Literal('ok'),
    redis: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('disabled')]),
    mor: Type.Union([Type.Literal('reachable'), Type.Literal('unreachable')]),
    circuit: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half-open')])
  })
})

/** A TCP connect to MOR: cheap, and says whether the billing server's port answers at all. */
function probeTcp (url: URL): Promise<boolean> {
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port, timeout: MOR_PROBE_TIMEOUT_MS })
    const done = (ok: boolean) => { socket.destroy(); resolve(ok) }
    socket.once('connect', () => done(true))
    socket.once('timeout', () => done(false))
    socket.once('error', () => done(false))
  })
}

export default async function health (fastify: FastifyInstance, { config }: { config: Config }) {
  const morUrl = new URL(config.mor.baseUrl)
  let probe: { at: number, result: Promise<boolean> } | undefined
  const morReachable = () => {
    if (!probe || Date.now() - probe.at > MOR_PROBE_TTL_MS) probe = { at: Date.now(), result: probeTcp(morUrl) }
    return probe.result
  }

  fastify.get('/health/live', {
    logLevel: 'warn',
    // A busy process is alive: shedding load must not fail the liveness probe, or the orchestrator
    // restarts the instance and pushes its load onto the others. (Readiness still sheds.)
    config: { shedsLoad: false },
    schema: {
      operationId: 'getLiveness',
      tags: ['operations'],
      summary: 'The process is up',
      description: 'For an orchestrator\'s liveness probe: 200 while the process runs. Needs no credential.',
      security: [],
      response: { 200: Type.Object({ status: Type.Literal('ok') }), ...problemResponses('getLiveness') }
    }
  }, async () => ({ status: 'ok' as const }))

  fastify.get('/health/ready', {
    logLevel: 'warn',
    schema: {
      operationId: 'getReadiness',
      tags: ['operations'],
      summary: 'The gateway can serve; Redis and MOR are reported',
      description: 'For a balancer\'s readiness probe: 200 once configuration and plugins are up. Redis and MOR are reported ' +
        '(`degraded` when either is down), not required, so a MOR outage does not take every instance out of rotation. Needs no credential.',
      security: [],
      response: { 200: ReadySchema, ...problemResponses('getReadiness') }
    }
  }, async () => {
    const redis = fastify.redisStore ? (fastify.redisStore.available ? 'up' : 'down') : 'disabled'
    const mor = (await morReachable()) ? 'reachable' : 'unreachable'
    const checks = { config: 'ok' as const, redis, mor, circuit: fastify.mor.breaker.state } as const
    return { status: redis === 'down' || mor === 'unreachable' ? 'degraded' : 'ready', checks }
  })
}
