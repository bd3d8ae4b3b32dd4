// The Kubernetes base (deploy/kubernetes) as kustomize renders it, checked against the gateway
// itself: the variables it reads, its own configuration check, the routes and ports it serves.
// YAML alone cannot tell a probe path the gateway does not serve from one it does.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeEach, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { EnvSchema, FILE_SECRETS, loadConfig, type Config } from '../../src/config.js'
import { freePort } from '../../scripts/ports.js'
import { gateway, simulator } from '../helpers/scoped.js'

const BASE = fileURLToPath(new URL('../../deploy/kubernetes', import.meta.url))
/** Stands in for the Secret's mount: its keys are written here as the kubelet would. */
const SECRETS_DIR = mkdtempSync(join(tmpdir(), 'mor-gw-k8s-'))

interface Metadata { name: string, labels?: Record<string, string>, annotations?: Record<string, string> }
interface Probe { httpGet: { path: string, port: string | number } }
interface Container {
  ports: Array<{ name: string, containerPort: number }>
  envFrom: Array<{ configMapRef: { name: string } }>
  env: Array<{ name: string, value: string }>
  livenessProbe: Probe
  readinessProbe: Probe
  lifecycle: { preStop: { exec: { command: string[] } } }
  resources: { limits: { cpu: string, memory: string } }
  securityContext: Record<string, unknown>
  volumeMounts: Array<{ name: string, mountPath: string, readOnly?: boolean }>
}
interface PodSpec {
  automountServiceAccountToken: boolean
  enableServiceLinks: boolean
  terminationGracePeriodSeconds: number
  securityContext: Record<string, unknown>
  containers: Container[]
  volumes: Array<{ name: string, secret?: { secretName: string, defaultMode: number }, emptyDir?: object }>
}
interface Deployment { metadata: Metadata, spec: { replicas?: number, selector: { matchLabels: Record<string, string> }, template: { metadata: Metadata, spec: PodSpec } } }
interface Service { metadata: Metadata, spec: { selector: Record<string, string>, ports: Array<{ port: number, targetPort: string | number }> } }
interface Manifest { kind: string, metadata: Metadata, [field: string]: unknown }

const KUBECTL_MISSING = 'kubectl is not installed: this test renders deploy/kubernetes with `kubectl kustomize`; install kubectl 1.27 or later (kustomize v5)'
const kubectlMissing = (spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
/**
 * Why every test here is skipped, or undefined: kubectl is missing on a developer's machine (CI
 * unset). In CI (CI=true) .ci/run installs kubectl, and a missing one fails every test instead.
 */
const SKIPPED = kubectlMissing && ['', 'false', '0'].includes(process.env.CI ?? '')
  ? `${KUBECTL_MISSING} (skipped outside CI; with CI=true it fails)`
  : undefined
if (SKIPPED !== undefined) console.warn(`test/deploy/kubernetes.test.ts: every test skipped: ${SKIPPED}`)

/** The base as `kubectl kustomize` renders it; without kubectl the test fails, saying so. */
function render (): Manifest[] {
  let text: string
  try {
    text = execFileSync('kubectl', ['kustomize', BASE], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string }
    if (e.code === 'ENOENT') throw new Error(KUBECTL_MISSING)
    throw new Error(`kubectl kustomize deploy/kubernetes failed: ${e.stderr ?? e.message}`)
  }
  // YAML 1.1, as Kubernetes reads it (0440 is octal there).
  return parseAllDocuments(text, { version: '1.1' }).map((doc) => doc.toJS() as Manifest)
}

// Rendered by the first test that looks, not in beforeAll: a failing hook marks the tests skipped,
// and a missing kubectl must fail every one of them.
let rendered: Manifest[] | undefined
const objects = () => (rendered ??= render())

function find<T> (kind: string, name: string | RegExp): T {
  const found = objects().find((o) => o.kind === kind && (typeof name === 'string' ? o.metadata.name === name : name.test(o.metadata.name)))
  if (found === undefined) throw new Error(`the rendered base has no ${kind} ${String(name)}`)
  return found as T
}
const deployment = () => find<Deployment>('Deployment', 'mor-gateway')
const pod = () => deployment().spec.template.spec
const container = () => pod().containers[0] as Container
const configData = () => find<{ data: Record<string, string> }>('ConfigMap', /^mor-gateway-config/).data
const secretData = () => find<{ stringData: Record<string, string> }>('Secret', 'mor-gateway-secrets').stringData
const secretMount = () => {
  const volume = pod().volumes.find((v) => v.secret !== undefined)
  const mount = container().volumeMounts.find((m) => m.name === volume?.name)
  if (volume?.secret === undefined || mount === undefined) throw new Error('the Deployment mounts no Secret')
  return { ...volume.secret, ...mount }
}

/** The container's environment, its secret files in SECRETS_DIR. */
function podEnv (): Record<string, string> {
  for (const [key, value] of Object.entries(secretData())) writeFileSync(join(SECRETS_DIR, key), value)
  const env: Record<string, string> = { ...configData() }
  for (const { name, value } of container().env) env[name] = value.replace(secretMount().mountPath, SECRETS_DIR)
  return env
}
const config = (): Config => loadConfig(podEnv())

/** The container port a probe's or Service's port (a name or a number) lands on. */
function containerPort (port: string | number): number | undefined {
  return typeof port === 'number' ? port : container().ports.find((p) => p.name === port)?.containerPort
}
const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => deployment().spec.template.metadata.labels?.[k] === v)
/** Kubernetes quantities as plain numbers: 512Mi, 1Gi, 500m, 1. */
function quantity (q: string): number {
  const units: Record<string, number> = { m: 1e-3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }
  const [, n = 'NaN', unit = ''] = /^([0-9.]+)([A-Za-z]*)$/.exec(q) ?? []
  return Number(n) * (unit === '' ? 1 : units[unit] ?? NaN)
}

describe('deploy/kubernetes, rendered by kubectl kustomize', () => {
  beforeEach((context) => { if (SKIPPED !== undefined) context.skip(SKIPPED) })

  it('holds the settings, the Secret, two Services, the Deployment, its disruption budget and autoscaler', () => {
    expect(objects().map((o) => `${o.kind}/${o.metadata.name}`)).toStrictEqual([
      expect.stringMatching(/^ConfigMap\/mor-gateway-config-[a-z0-9]{10}$/),
      'Secret/mor-gateway-secrets',
      'Service/mor-gateway',
      'Service/mor-gateway-internal',
      'Deployment/mor-gateway',
      'PodDisruptionBudget/mor-gateway',
      'HorizontalPodAutoscaler/mor-gateway'
    ])
    expect(container().envFrom).toStrictEqual([{ configMapRef: { name: find<Manifest>('ConfigMap', /^mor-gateway-config/).metadata.name } }])
    expect(secretMount()).toMatchObject({ secretName: 'mor-gateway-secrets', readOnly: true, defaultMode: 0o440 })
  })

  it('sets only variables the gateway reads, and no secret as a variable', () => {
    const names = [...Object.keys(configData()), ...container().env.map((e) => e.name)]
    expect(names.filter((name) => !(name in EnvSchema.properties))).toStrictEqual([])
    expect(names.filter((name) => [...FILE_SECRETS, 'GATEWAY_API_KEYS'].includes(name))).toStrictEqual([])
  })

  it('points every *_FILE variable at a key of the mounted Secret, and mounts no key unused', () => {
    const prefix = `${secretMount().mountPath}/`
    const files = container().env.filter((e) => e.name.endsWith('_FILE'))
    expect(files.filter((e) => !e.value.startsWith(prefix))).toStrictEqual([])
    expect(files.map((e) => e.value.slice(prefix.length)).sort()).toStrictEqual(Object.keys(secretData()).sort())
  })

  it('passes the gateway\'s own configuration check, secrets read from their files', () => {
    const c = config()
    expect({ host: c.host, port: c.port, metricsPort: c.metricsPort, secret: c.mor.secret, redis: c.redis?.url, keys: c.auth.fileKeys.map((k) => k.name) }).toStrictEqual({
      host: '0.0.0.0',
      port: Number(configData().PORT),
      metricsPort: Number(configData().METRICS_PORT),
      secret: secretData()['mor-api-secret'],
      redis: secretData()['redis-url'],
      keys: ['example']
    })
  })

  it('probes PORT, exposes only PORT to callers and METRICS_PORT on the internal Service', () => {
    const { port, metricsPort } = config()
    expect([container().livenessProbe, container().readinessProbe].map((p) => containerPort(p.httpGet.port))).toStrictEqual([port, port])
    const targets = (name: string) => find<Service>('Service', name).spec.ports.map((p) => containerPort(p.targetPort))
    expect(targets('mor-gateway')).toStrictEqual([port])
    expect(targets('mor-gateway-internal')).toStrictEqual([metricsPort])
    expect(pod().containers.flatMap((c) => c.ports.map((p) => p.containerPort)).sort()).toStrictEqual([port, metricsPort].sort())
    expect(deployment().spec.template.metadata.annotations?.['prometheus.io/port']).toBe(String(metricsPort))
    for (const name of ['mor-gateway', 'mor-gateway-internal']) expect(selects(find<Service>('Service', name).spec.selector), name).toBe(true)
  })

  it('serves the probe paths on PORT, and /metrics and the purge API on METRICS_PORT only', async () => {
    const sim = await simulator()
    const internal = `http://127.0.0.1:${await freePort()}`
    // The ConfigMap's settings, on loopback, with the simulator as MOR and a free internal port.
    const gw = await gateway(sim.url, { ...configData(), MOR_URL: sim.url, HOST: '127.0.0.1', METRICS_PORT: internal.split(':')[2] as string })
    const get = async (url: string, method = 'GET') => (await fetch(url, { method })).status
    expect(await get(`${gw.url}${container().livenessProbe.httpGet.path}`)).toBe(200)
    expect(await get(`${gw.url}${container().readinessProbe.httpGet.path}`)).toBe(200)
    expect(await get(`${internal}${deployment().spec.template.metadata.annotations?.['prometheus.io/path'] ?? ''}`)).toBe(200)
    expect(await get(`${internal}/admin/cache/users/2`, 'DELETE')).toBe(204)
    expect(await get(`${gw.url}/metrics`)).toBe(404)
    expect(await get(`${gw.url}/admin/cache/users/2`, 'DELETE')).toBe(404)
  })

  it('runs as the image\'s node user, read-only, without privileges, token or service links', () => {
    expect({ ...pod().securityContext, ...container().securityContext }).toStrictEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] }
    })
    const tmp = container().volumeMounts.find((m) => m.mountPath === '/tmp')
    expect(pod().volumes.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined()
    expect([pod().automountServiceAccountToken, pod().enableServiceLinks]).toStrictEqual([false, false])
  })

  it('kills no later than preStop plus the gateway\'s shutdown grace allow', () => {
    const [command, seconds] = container().lifecycle.preStop.exec.command
    expect(command).toBe('sleep')
    expect(pod().terminationGracePeriodSeconds).toBeGreaterThan(Number(seconds) + config().shutdownGraceMs / 1000)
  })

  it('sizes the cache and the translation threads for the container\'s limits', () => {
    const { limits } = container().resources
    const c = config()
    // Half the memory for the cache's bodies at most: the heap, buffers and sockets need the rest.
    expect(c.cache.maxBytes).toBeLessThanOrEqual(quantity(limits.memory) / 2)
    expect(c.translateThreads).toBeLessThanOrEqual(Math.max(1, Math.floor(quantity(limits.cpu))))
  })

  it('leaves the replica count to the autoscaler, which keeps more than the disruption budget', () => {
    const hpa = find<{ spec: { scaleTargetRef: object, minReplicas: number, maxReplicas: number } }>('HorizontalPodAutoscaler', 'mor-gateway').spec
    const pdb = find<{ spec: { minAvailable: number, selector: { matchLabels: Record<string, string> } } }>('PodDisruptionBudget', 'mor-gateway').spec
    expect(deployment().spec.replicas).toBeUndefined()
    expect(hpa.scaleTargetRef).toStrictEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'mor-gateway' })
    expect(hpa.minReplicas).toBeGreaterThan(pdb.minAvailable)
    expect(selects(pdb.selector.matchLabels)).toBe(true)
    expect(selects(deployment().spec.selector.matchLabels)).toBe(true)
  })
})
