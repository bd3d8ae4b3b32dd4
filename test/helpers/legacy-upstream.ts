// A healthy MOR for tests about clients: it echoes what reached it (method, URL, headers, body
// length) at /billing/api/echo, serves a large answer at /billing/api/big, and the devices of any
// user to the gateway's own signed devices_get calls. It counts requests, and those in progress.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { devicesXml } from '../../src/demo/xml.js'
import { generatedUser } from '../../src/demo/data.js'

export const BIG = 3 * 1024 * 1024
const DEVICES = gzipSync(devicesXml(generatedUser(7, 400).devices))

export async function startLegacyUpstream () {
  const state = { requests: 0, active: 0 }
  const server: Server = createServer((req, res) => {
    state.requests++
    state.active++
    res.once('close', () => { state.active-- })
    let bodyLength = 0
    req.on('data', (chunk: Buffer) => { bodyLength += chunk.length })
    req.on('end', () => {
      if (req.url?.startsWith('/billing/api/big')) {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(BIG) }).end(Buffer.alloc(BIG, 'x'))
      } else if (req.url?.startsWith('/billing/api/devices_get') && req.method === 'POST' && bodyLength > 0 && req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') === true && !req.headers['x-forwarded-for']) {
        res.writeHead(200, { 'content-type': 'text/xml', 'content-encoding': 'gzip' }).end(DEVICES)
      } else {
        const echo = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, bodyLength })
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(echo)) }).end(echo)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/billing`,
    state,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}
