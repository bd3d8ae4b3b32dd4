import { defineConfig } from 'vitest/config'

// The browser test runs alone (npm run test:browser): it needs Debian's chromium and a built demo.
export default defineConfig({
  test: {
    // In CI a failed test runs once more; test/reporters/retried.ts names each one that needed it.
    retry: process.env.CI === undefined ? 0 : 1,
    include: ['test/browser/**/*.browser.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
