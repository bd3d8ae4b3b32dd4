import { defineConfig } from 'vitest/config'

// The browser test runs alone (npm run test:browser): it needs Debian's chromium and a built demo.
export default defineConfig({
  test: {
    include: ['test/browser/**/*.browser.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
