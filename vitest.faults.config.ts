import { defineConfig } from 'vitest/config'

// The fault-injection suite (npm run test:faults): compiled gateways in child processes.
export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    include: ['test/faults/**/*.faults.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    fileParallelism: false
  }
})
