// Decorates the app with the MOR client and closes its connection pool when the app closes.
import fp from 'fastify-plugin'
import { createMorClient, type MorClient, type MorSettings } from '../mor/client.js'

declare module 'fastify' {
  interface FastifyInstance {
    mor: MorClient
  }
}

export default fp<{ settings: MorSettings }>(async (fastify, opts) => {
  const client = createMorClient(opts.settings)
  fastify.decorate('mor', client)
  fastify.addHook('onClose', async () => { await client.close() })
}, { name: 'mor', fastify: '5.x' })
