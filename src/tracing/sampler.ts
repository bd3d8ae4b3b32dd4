// Which traces are recorded, from the standard OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG:
// always_on, always_off, traceidratio, and their parentbased_ forms (the default is
// parentbased_always_on: follow the caller's decision, record the gateway's own traces).
export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const
export type SamplerName = typeof SAMPLERS[number]

/** Whether a trace is recorded: `parentSampled` is the caller's flag, undefined for a new trace. */
export type Sampler = (traceId: string, parentSampled: boolean | undefined) => boolean

export function createSampler (name: SamplerName, ratio: number): Sampler {
  // The ratio decision reads the trace id's last 7 bytes (random in every W3C trace id), so every
  // instance decides the same for the same trace.
  const bound = Math.floor(Math.min(1, Math.max(0, ratio)) * 2 ** 56)
  const byRatio = (traceId: string) => parseInt(traceId.slice(18), 16) < bound
  const root: (traceId: string) => boolean = name.endsWith('always_on') ? () => true : name.endsWith('always_off') ? () => false : byRatio
  if (!name.startsWith('parentbased_')) return (traceId) => root(traceId)
  return (traceId, parentSampled) => (parentSampled === undefined ? root(traceId) : parentSampled)
}
