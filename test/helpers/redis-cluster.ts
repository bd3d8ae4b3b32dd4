// A real, throwaway Redis Cluster on loopback: three masters (`redis-server --cluster-enabled yes`)
// joined by `redis-cli --cluster create`, each of which a test can kill and start again. A node
// keeps its nodes.conf across a restart, so it comes back as the same member of the cluster.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import calculateSlot from 'cluster-key-slot'
import { freePort } from '../../scripts/ports.js'
import { redisProcess } from './redis-server.js'

const run = promisify(execFile)

export interface ClusterNode {
  port: number
  stop: () => Promise<void>
  start: () => Promise<void>
}

export interface TestCluster {
  /** REDIS_URL for the gateway: every node listed, as an operator would. */
  url: string
  nodes: ClusterNode[]
  /** Resolves once every running node reports cluster_state:ok. */
  waitOk: (timeoutMs?: number) => Promise<void>
  /** Empties every node, so one test's rate-limit windows and entries do not reach the next. */
  flush: () => Promise<void>
  /** Which node serves a key's slot, as the Cluster says now (one question for any number of keys). */
  slotOwners: () => Promise<(key: string) => ClusterNode>
  close: () => Promise<void>
}

export interface ClusterOptions {
  /** cluster-node-timeout: how long a silent master takes to be marked failed. */
  nodeTimeoutMs?: number
  /** Extra redis-server arguments for every node (ACL users, TLS). */
  args?: (port: number) => string[]
  /** redis-cli arguments to reach a node (credentials, TLS). */
  cliArgs?: string[]
  /** How the URL names the scheme and credentials; `redis-cluster://` by default. */
  url?: (hosts: string) => string
}

async function startNode (dir: string, opts: ClusterOptions): Promise<ClusterNode> {
  const port = await freePort()
  // Redis's default bus port is port + 10000, which may not exist above 55535: give it its own.
  const busPort = await freePort()
  const args = [
    '--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1',
    '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`),
    '--cluster-node-timeout', String(opts.nodeTimeoutMs ?? 1000),
    // A cache may lose a shard: the others keep answering for their slots.
    '--cluster-require-full-coverage', 'no',
    '--dir', dir, '--save', '', '--appendonly', 'no', '--loglevel', 'warning',
    ...(opts.args?.(port) ?? [])
  ]
  const { start, stop } = await redisProcess(args, port)
  return { port, start, stop }
}

export async function startRedisCluster (opts: ClusterOptions = {}): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'))
  const nodes = await Promise.all([0, 1, 2].map(() => startNode(dir, opts)))
  const cli = (port: number, ...args: string[]) => run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...(opts.cliArgs ?? []), ...args], { timeout: 10_000 })
  await run('redis-cli', [...(opts.cliArgs ?? []), '--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 20_000 })

  async function waitOk (timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const states = await Promise.all(nodes.map(async (n) => {
        try {
          const { stdout } = await cli(n.port, 'cluster', 'info')
          return /cluster_state:ok/.test(stdout)
        } catch {
          return false
        }
      }))
      if (states.every(Boolean)) return
      if (Date.now() > deadline) throw new Error(`the cluster is not ok after ${timeoutMs} ms: ${JSON.stringify(states)}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  async function slotOwners (): Promise<(key: string) => ClusterNode> {
    const { stdout } = await cli(nodes[0]!.port, 'cluster', 'nodes')
    const owners: Array<{ from: number, to: number, node: ClusterNode }> = []
    for (const line of stdout.split('\n')) {
      const fields = line.split(' ')
      const node = nodes.find((n) => n.port === Number(/:([0-9]+)@/.exec(fields[1] ?? '')?.[1]))
      for (const range of fields.slice(8)) {
        const [from, to = from] = range.split('-').map(Number)
        if (node && from !== undefined && to !== undefined) owners.push({ from, to, node })
      }
    }
    return (key) => {
      const slot = calculateSlot(key)
      const owner = owners.find((o) => slot >= o.from && slot <= o.to)
      if (!owner) throw new Error(`no node serves slot ${slot}`)
      return owner.node
    }
  }
  await waitOk()
  const hosts = nodes.map((n) => `127.0.0.1:${n.port}`).join(',')
  return {
    url: opts.url ? opts.url(hosts) : `redis-cluster://${hosts}`,
    nodes,
    waitOk,
    flush: async () => { await Promise.all(nodes.map((n) => cli(n.port, 'flushall'))) },
    slotOwners,
    close: async () => {
      await Promise.all(nodes.map((n) => n.stop()))
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
