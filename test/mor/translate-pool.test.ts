// The worker pool as the compiled gateway runs it (the worker file exists only in dist/): large
// answers are translated off the event loop, and a backlog past the bounded queue is refused at
// once with the gateway's 503 `overloaded` instead of growing memory.
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { findUser, LARGE_USER_ID, type SimUser } from '../../src/demo/data.js'
import { devicesXml } from '../../src/demo/xml.js'

type PoolModule = typeof import('../../src/mor/translate-pool.js')
type DevicesModule = typeof import('../../src/catalogue/devices.js')
type ErrorsModule = typeof import('../../src/problems/retry-after.js')
const compiled = (path: string) => fileURLToPath(new URL(`../../dist/src/${path}`, import.meta.url))

describe('the translation pool', () => {
  it('refuses what would wait past its queue with 503 overloaded, and serves again once drained', async () => {
    const { createTranslator, INLINE_MAX_PLAIN_BYTES } = await import(compiled('mor/translate-pool.js')) as PoolModule
    const { OverloadedError } = await import(compiled('problems/retry-after.js')) as ErrorsModule
    const { deviceList } = await import(compiled('catalogue/devices.js')) as DevicesModule
    const ask = { id: LARGE_USER_ID, query: {} }
    const body = Buffer.from(devicesXml((findUser(LARGE_USER_ID) as SimUser).devices))
    expect(body.length).toBeGreaterThan(INLINE_MAX_PLAIN_BYTES)
    const translator = createTranslator({ threads: 1, maxQueue: 2 })
    try {
      expect(translator.threaded).toBe(true)
      const settled = await Promise.allSettled(Array.from({ length: 12 }, () => translator.translateResource(deviceList, body, undefined, 64 * 1024 * 1024, ask)))
      const done = settled.filter((r) => r.status === 'fulfilled')
      const refused = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error & { statusCode?: number, code?: string, retryAfter?: number }] : []))
      // One running and two queued at most while the rest arrive at once.
      expect(done.length).toBeGreaterThanOrEqual(1)
      expect(done.length).toBeLessThanOrEqual(3)
      expect(refused.length).toBe(12 - done.length)
      for (const err of refused) {
        expect(err).toBeInstanceOf(OverloadedError)
        expect([err.statusCode, err.code, err.retryAfter]).toStrictEqual([503, 'GATEWAY_OVERLOADED', 1])
      }
      const again = await translator.translateResource(deviceList, body, undefined, 64 * 1024 * 1024, ask)
      expect(again.kind).toBe('answer')
    } finally {
      await translator.close()
    }
  })
})
