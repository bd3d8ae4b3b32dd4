// A request-latency histogram that costs one Map lookup and a few additions per request.
// prom-client's Histogram hashes the label object on every observation (a labelled child too),
// a measurable share of a cache hit; this one keys series by a string the caller builds once,
// and renders the standard _bucket/_sum/_count exposition only when scraped.
import type { Registry } from 'prom-client'

interface Series { labels: Record<string, string>, counts: Float64Array, sum: number, count: number }

export interface RequestHistogram {
  observe: (key: string, labels: () => Record<string, string>, seconds: number) => void
}

export function createRequestHistogram (registry: Registry, name: string, help: string, buckets: number[]): RequestHistogram {
  const series = new Map<string, Series>()
  registry.registerMetric({
    name,
    help,
    type: 'histogram',
    get: async () => {
      const values: Array<{ labels: Record<string, string | number>, value: number, metricName: string }> = []
      for (const s of series.values()) {
        let cumulative = 0
        buckets.forEach((le, i) => {
          cumulative += s.counts[i] ?? 0
          values.push({ labels: { ...s.labels, le }, value: cumulative, metricName: `${name}_bucket` })
        })
        values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${name}_bucket` })
        values.push({ labels: s.labels, value: s.sum, metricName: `${name}_sum` })
        values.push({ labels: s.labels, value: s.count, metricName: `${name}_count` })
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' }
    }
  } as unknown as Parameters<Registry['registerMetric']>[0])

  return {
    observe (key, labels, seconds) {
      let s = series.get(key)
      if (!s) {
        s = { labels: labels(), counts: new Float64Array(buckets.length), sum: 0, count: 0 }
        series.set(key, s)
      }
      // The first bucket the observation fits; none past the last bound (+Inf is the count).
      let i = 0
      while (i < buckets.length && seconds > (buckets[i] ?? Infinity)) i++
      if (i < buckets.length) s.counts[i] = (s.counts[i] ?? 0) + 1
      s.sum += seconds
      s.count++
    }
  }
}
