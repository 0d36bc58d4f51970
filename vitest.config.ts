import { defineConfig } from 'vitest/config';

// Timeouts bound a hung test; they are never a verdict. A busy CI machine (one core taken by
// another job) makes start-ups and child processes slower, so the defaults (5 s) would fail
// tests that are right: every test still has its own, explicit bound where it starts servers.
export default defineConfig({
  test: {
    // Two files at once even on 2 cores (vitest's default is cores − 1: one here). The end-to-end files spend most
    // of their time waiting on paced traffic, idle buckets and servers; verdicts must not depend on the load that
    // adds, and the suite runs with one core busy in CI to show it.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
