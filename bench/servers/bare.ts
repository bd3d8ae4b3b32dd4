// Baseline: a bare Fastify route returning fixed JSON bytes, no logger, nothing else.
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'

const body = readFileSync(process.env.BODY_FILE ?? '')
const app = Fastify({ logger: false })
app.get('/v1/users/:userId/devices', async (_request, reply) => reply.type('application/json; charset=utf-8').send(body))
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
