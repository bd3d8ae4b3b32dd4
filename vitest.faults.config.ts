import { defineConfig } from 'vitest/config'

// The fault-injection suite (npm run test:faults): compiled gateways in child processes.
export default defineConfig({
  test: {
    // In CI a failed test runs once more; test/reporters/retried.ts names each one that needed it.
    retry: process.env.CI === undefined ? 0 : 1,
    globalSetup: ['test/global-setup.ts'],
    include: ['test/faults/**/*.faults.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    fileParallelism: false
  }
})
