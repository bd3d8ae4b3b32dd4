// Memory of the in-process tier: fills it with 100,000 users' 5-device answers and reports RSS and
// heap growth per entry. Run as its own process with --expose-gc (npm run bench does that).
import { createDevicesCache, ENTRY_OVERHEAD_BYTES } from '../src/cache/devices-cache.js'
import { generatedUser } from '../src/demo/data.js'
import { devicesXml } from '../src/demo/xml.js'
import { translateResource } from '../src/catalogue/translate.js'
import { deviceList } from '../src/catalogue/devices.js'

const ENTRIES = 100_000
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
const silent = { warn () {}, info () {}, error () {}, debug () {}, trace () {}, fatal () {}, child () { return silent }, level: 'silent', silent () {} }

// One realistic 5-device answer per user, made the way the gateway makes it: MOR's XML translated by the entry.
async function list (id: number) {
  const answer = await translateResource(deviceList, Buffer.from(devicesXml(generatedUser(id, 5).devices)), undefined, 1024 * 1024, { id, query: {} })
  if (answer.kind !== 'answer') throw new Error(`no device list for user ${id}`)
  return answer
}
const keyed = (id: number) => ({ subject: { userId: id }, fetch: () => list(id) })

const cache = createDevicesCache({
  ttlSeconds: 3600,
  staleSeconds: 3600,
  negativeTtlSeconds: 10,
  maxEntries: ENTRIES,
  maxBytes: 4 * 1024 ** 3,
  keyPrefix: 'morgw:bench',
  upstreamTimeoutMs: 1000,
  redis: undefined,
  log: silent as never
})
gc()
const before = process.memoryUsage()
let bodyBytes = 0
for (let id = 1000; id < 1000 + ENTRIES; id++) bodyBytes += (await cache.getKeyed(keyed(id))).entry.body.length
gc()
const after = process.memoryUsage()
// Keeps the cache reachable until measured: an unused local may be collected before the end.
if ((await cache.getKeyed(keyed(1000))).outcome !== 'hit') throw new Error('the cache lost its entries')
const perEntry = (after.rss - before.rss) / ENTRIES
const avgBody = bodyBytes / ENTRIES
process.stdout.write(JSON.stringify({
  entries: ENTRIES,
  rssGrowthBytes: after.rss - before.rss,
  heapGrowthBytes: after.heapUsed - before.heapUsed,
  rssBytesPerEntry: Math.round(perEntry),
  averageBodyBytes: Math.round(avgBody),
  documentedBytesPerEntry: Math.round(avgBody + ENTRY_OVERHEAD_BYTES),
  withinBound: perEntry <= avgBody + ENTRY_OVERHEAD_BYTES
}))
