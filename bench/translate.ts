// The CPU cost of translating one 5,000-device answer (gzip bytes in, JSON text out) against
// fast-xml-parser parsing the same XML alone, measured in alternation in one process.
import { gzipSync } from 'node:zlib'
import { XMLParser } from 'fast-xml-parser'
import { translateResource } from '../src/catalogue/translate.js'
import { deviceList } from '../src/catalogue/devices.js'
import { devicesXml } from '../src/demo/xml.js'
import { generatedUser, LARGE_USER_DEVICES } from '../src/demo/data.js'
import { median } from './lib.js'

export interface TranslateResult { xmlBytes: number, gzipBytes: number, bareMs: number, gatewayMs: number, ratio: number }

export async function measureTranslate (rounds = 15): Promise<TranslateResult> {
  const xml = devicesXml(generatedUser(100, LARGE_USER_DEVICES).devices)
  const gz = gzipSync(xml)
  const bare = new XMLParser()
  const bareTimes: number[] = []
  const gatewayTimes: number[] = []
  for (let i = 0; i < rounds + 3; i++) {
    let t = performance.now()
    bare.parse(xml)
    const bareMs = performance.now() - t
    t = performance.now()
    const out = await translateResource(deviceList, gz, 'gzip', 64 * 1024 * 1024, { id: 100, query: {} })
    const gatewayMs = performance.now() - t
    if (out.kind !== 'answer') throw new Error('translation failed')
    if (i >= 3) { bareTimes.push(bareMs); gatewayTimes.push(gatewayMs) } // the first rounds warm the JIT
  }
  const bareMs = median(bareTimes)
  const gatewayMs = median(gatewayTimes)
  return { xmlBytes: Buffer.byteLength(xml), gzipBytes: gz.length, bareMs, gatewayMs, ratio: gatewayMs / bareMs }
}
