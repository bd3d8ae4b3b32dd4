// Baseline: a bare Fastify route returning fixed JSON bytes, no logger, nothing else: a user's
// device list from BODY_FILE and, with DEVICE_BODY_FILE, a device's details. With HEADERS_FILE (a
// JSON list of [name, value] pairs) it also sends those headers, fixed: the gateway's answer
// headers, so a second baseline shows what the contract's headers cost by themselves, apart from
// the gateway's work. With ROUTES_FILE (a JSON list of [route, body file] pairs) it serves those
// bodies too: the catalogue's resources, each at its route.
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'

const body = readFileSync(process.env.BODY_FILE ?? '')
const headers = Object.fromEntries(process.env.HEADERS_FILE === undefined ? [] : JSON.parse(readFileSync(process.env.HEADERS_FILE, 'utf8')) as Array<[string, string]>)
const app = Fastify({ logger: false })
app.get('/v1/users/:userId/devices', async (_request, reply) => reply.headers(headers).type('application/json; charset=utf-8').send(body))
if (process.env.DEVICE_BODY_FILE !== undefined) {
  const details = readFileSync(process.env.DEVICE_BODY_FILE)
  app.get('/v1/devices/:deviceId', async (_request, reply) => reply.headers(headers).type('application/json; charset=utf-8').send(details))
}
if (process.env.ROUTES_FILE !== undefined) {
  for (const [route, file] of JSON.parse(readFileSync(process.env.ROUTES_FILE, 'utf8')) as Array<[string, string]>) {
    const bytes = readFileSync(file)
    app.get(route, async (_request, reply) => reply.headers(headers).type('application/json; charset=utf-8').send(bytes))
  }
}
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
