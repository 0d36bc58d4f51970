import { defineConfig } from 'vitest/config';

// Timeouts bound a hung test; they are never a verdict. A busy CI machine (one core taken by
// another job) makes start-ups and child processes slower, so the defaults (5 s) would fail
// tests that are right: every test still has its own, explicit bound where it starts servers.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
