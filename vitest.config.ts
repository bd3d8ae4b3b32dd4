import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // In CI a failed test runs once more; test/reporters/retried.ts names each one that needed it.
    retry: process.env.CI === undefined ? 0 : 1,
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000
  }
})
