// Prometheus metrics (prom-client) in a registry of the app's own, so several apps in one process
// never share counters. Served at GET /metrics on the main port, or on the internal listener
// (plugins/internal.ts) when METRICS_PORT is set: then the main port has no /metrics at all. Labels
// are route templates, outcomes and states: never user ids, keys or URLs, which would leak and
// explode cardinality.
import fp from 'fastify-plugin'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Config } from '../config.js'
import { createRequestHistogram, type RequestHistogram } from '../metrics/request-histogram.js'
import internalListener from './internal.js'

export interface GatewayMetrics {
  registry: Registry
  /** Request latency by method, status and route template (observed by plugins/request-end.ts). */
  requests: RequestHistogram
  upstream: Histogram<'outcome'>
  cache: Counter<'result'>
  /** One cache hit: a plain increment, added to `cache` at scrape time (hits are the hot path). */
  countCacheHit: () => void
  rateLimited: Counter<'limit'>
  /** Calls to MOR's write methods through the passthrough, by what became of them (plugins/legacy-upstream.ts). */
  legacyWrites: Counter<'outcome'>
  /** One /v1 request from an authenticated caller, by its label (a key's name or id, or `jwt`). */
  countCaller: (label: string) => void
  /** A gauge read at scrape time (never stale); registered only by the plugin that can read it. */
  addGauge: (name: string, help: string, read: () => number) => void
  /** A counter whose running total a plugin keeps itself (a plain number on a hot path), read at scrape time. */
  addCounter: (name: string, help: string, read: () => number) => void
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: GatewayMetrics
  }
}

export default fp<{ config: Config }>(async (fastify, { config }) => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const requests = createRequestHistogram(registry, 'gateway_http_request_duration_seconds',
    'Requests answered by the gateway, by method, route template and status',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])
  let pendingHits = 0
  // Per caller, kept in a plain map on the hot path and added at scrape time. Labels are bounded:
  // key names and ids come from the operator's configuration, and every token counts as `jwt`.
  const pendingCallers = new Map<string, number>()
  const metrics: GatewayMetrics = {
    registry,
    requests,
    upstream: new Histogram({
      name: 'gateway_mor_call_duration_seconds',
      help: 'Calls to MOR (devices_get, device_details_get) by outcome: ok, not-found, rejected, bad-response, unavailable, timeout, circuit-open',
      labelNames: ['outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry]
    }),
    cache: new Counter({
      name: 'gateway_cache_results_total',
      help: 'Cache results: hit, miss, stale, stale-if-error, revalidated, collapsed, negative',
      labelNames: ['result'] as const,
      registers: [registry],
      collect () {
        if (pendingHits > 0) this.inc({ result: 'hit' }, pendingHits)
        pendingHits = 0
      }
    }),
    countCacheHit: () => { pendingHits++ },
    countCaller: (label) => { pendingCallers.set(label, (pendingCallers.get(label) ?? 0) + 1) },
    rateLimited: new Counter({ name: 'gateway_rate_limit_rejections_total', help: 'Requests refused by a rate limit: requests (per key) or upstream (per-key MOR budget)', labelNames: ['limit'] as const, registers: [registry] }),
    legacyWrites: new Counter({
      name: 'gateway_legacy_writes_total',
      help: 'Calls to MOR\'s write methods through the passthrough: confirmed (MOR said it was done; its cached answers were invalidated), refused (MOR answered an <error>), unconfirmed (an answer that confirms nothing: empty, cut, undecodable or unknown; nothing invalidated), not_forwarded (the gateway could not read the target: HEAD, a body past the bound or unparsable, no single id)',
      labelNames: ['outcome'] as const,
      registers: [registry]
    }),
    addGauge (name, help, read) {
      new Gauge({ name, help, registers: [registry], collect () { this.set(read()) } }) // eslint-disable-line no-new
    },
    addCounter (name, help, read) {
      let reported = 0
      // eslint-disable-next-line no-new
      new Counter({
        name,
        help,
        registers: [registry],
        collect () {
          const total = read()
          this.inc(total - reported)
          reported = total
        }
      })
    }
  }
  // eslint-disable-next-line no-new
  new Counter({
    name: 'gateway_caller_requests_total',
    help: '/v1 requests by authenticated caller: an API key\'s name (or id when it has none), or jwt for every token',
    labelNames: ['caller'] as const,
    registers: [registry],
    collect () {
      for (const [caller, n] of pendingCallers) this.inc({ caller }, n)
      pendingCallers.clear()
    }
  })
  fastify.decorate('metrics', metrics)

  // Requests are observed where every request ends, whoever answers it (plugins/request-end.ts).

  // GET /metrics, one route on whichever listener serves it.
  const serveMetrics: FastifyPluginAsyncTypebox = async (instance) => {
    instance.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
      return reply.type(registry.contentType).send(await registry.metrics())
    })
  }
  // The listener METRICS_PORT names comes with the metrics, ahead of the plugins that add routes to it.
  await fastify.register(internalListener, { config })
  if (fastify.internalListener.enabled) fastify.internalListener.addRoutes(serveMetrics)
  else await fastify.register(serveMetrics)
}, { name: 'metrics', fastify: '5.x' })
