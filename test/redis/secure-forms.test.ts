// Redis ACL users and TLS in the three REDIS_URL forms, against real servers that accept nothing
// else: the `default` user is off, and only TLS ports listen. Two gateways share an entry through
// each, which only works when every connection (to each sentinel, to the primary it names, to
// each Cluster node) authenticates and verifies the private CA.
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMorSimulator, type MorSimulator } from '../../src/demo/simulator.js'
import { getJson, startGateway, TEST_API_SECRET, TEST_API_USER, type TestGateway } from '../helpers/gateway.js'
import { startRedisCluster } from '../helpers/redis-cluster.js'
import { makeTlsFiles, tlsServerArgs, type TlsFiles } from '../helpers/tls-files.js'
import { waitFor } from '../helpers/wait.js'
import { freePort } from '../../scripts/ports.js'
import { redisProcess } from '../helpers/redis-server.js'

const ACL = ['--user', 'default', 'off', '--user', 'gateway', 'on', '>gw-pass', '~*', '&*', '+@all']
let tls: TlsFiles
let sim: MorSimulator
const closers: Array<() => Promise<void>> = []

beforeAll(async () => {
  tls = makeTlsFiles()
  sim = await startMorSimulator({ apiUser: TEST_API_USER, secret: TEST_API_SECRET })
})
afterAll(async () => {
  await Promise.all(closers.map((close) => close()))
  await sim?.close()
  rmSync(tls.dir, { recursive: true, force: true })
})

async function spawnRedis (args: string[], port: number): Promise<void> {
  const redis = await redisProcess(args, port)
  closers.push(redis.stop)
}

async function gateway (url: string, env: Record<string, string> = {}): Promise<TestGateway> {
  const gw = await startGateway(sim.url, { REDIS_URL: url, REDIS_TLS_CA_FILE: tls.ca, ...env })
  closers.push(() => gw.close())
  return gw
}

/** Two gateways on `url`: the second answers from the first one's entry, without calling MOR. */
async function expectShared (url: string, userId: number): Promise<void> {
  const [a, b] = [await gateway(url), await gateway(url)]
  await waitFor(() => a.app.redisStore?.available === true && b.app.redisStore?.available === true, { what: 'both gateways to reach Redis' })
  await getJson(`${a.url}/v1/users/${userId}/devices`)
  const res = await getJson(`${b.url}/v1/users/${userId}/devices`)
  expect(res.status).toBe(200)
  expect(res.headers.get('cache-status')).toMatch(/^mor-gateway; hit/)
  expect(sim.calls.byUser.get(String(userId))).toBe(1)
}

describe('an ACL user over TLS', () => {
  it('reaches one Redis (rediss://user:password@host)', async () => {
    const port = await freePort()
    await spawnRedis([...tlsServerArgs(tls, port), '--bind', '127.0.0.1', '--save', '', ...ACL], port)
    await expectShared(`rediss://gateway:gw-pass@127.0.0.1:${port}`, 1600)

    // The same server refuses what is not both: no CA to verify it, or a wrong password.
    const noCa = await startGateway(sim.url, { REDIS_URL: `rediss://gateway:gw-pass@127.0.0.1:${port}`, REDIS_TIMEOUT_MS: '200' })
    const wrong = await gateway(`rediss://gateway:nope@127.0.0.1:${port}`, { REDIS_TIMEOUT_MS: '200' })
    closers.push(() => noCa.close())
    await new Promise((resolve) => setTimeout(resolve, 500))
    for (const gw of [noCa, wrong]) {
      expect(gw.app.redisStore?.available).toBe(false)
      expect((await getJson(`${gw.url}/v1/users/1601/devices`)).status).toBe(200)
    }
  })

  it('reaches a Sentinel-managed primary (rediss-sentinel://user:password@sentinels/name)', async () => {
    const [port, sentinelPort] = [await freePort(), await freePort()]
    await spawnRedis([...tlsServerArgs(tls, port), '--bind', '127.0.0.1', '--save', '', ...ACL], port)
    const config = join(tls.dir, 'sentinel.conf')
    writeFileSync(config, [
      'port 0', `tls-port ${sentinelPort}`, `tls-cert-file ${tls.cert}`, `tls-key-file ${tls.key}`, `tls-ca-cert-file ${tls.ca}`,
      'tls-auth-clients no', 'tls-replication yes', 'bind 127.0.0.1',
      `sentinel monitor mymaster 127.0.0.1 ${port} 1`, 'sentinel auth-user mymaster gateway', 'sentinel auth-pass mymaster gw-pass',
      'user default off', 'user gateway on >gw-pass +@all'
    ].join('\n') + '\n')
    await spawnRedis([config, '--sentinel'], sentinelPort)
    await expectShared(`rediss-sentinel://gateway:gw-pass@127.0.0.1:${sentinelPort}/mymaster`, 1610)
  })

  it('reaches every node of a Cluster (rediss-cluster://user:password@nodes)', async () => {
    const cluster = await startRedisCluster({
      args: (port) => [...tlsServerArgs(tls, port), '--tls-cluster', 'yes', ...ACL],
      cliArgs: ['--tls', '--cacert', tls.ca, '--user', 'gateway', '--pass', 'gw-pass', '--no-auth-warning'],
      url: (hosts) => `rediss-cluster://gateway:gw-pass@${hosts}`
    })
    closers.push(() => cluster.close())
    // Users on more than one shard, so more than one node's connection is proven.
    for (const userId of [1620, 1621, 1622, 1623]) await expectShared(cluster.url, userId)
  })
})
