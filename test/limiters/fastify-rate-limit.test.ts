/**
 * Sanity of the @fastify/rate-limit harness (test/support/limiters/fastify-rate-limit.ts): each setting's
 * cold volley against its truth, nothing left running after stop(), and `continueExceeding` told apart
 * from a plain window by a stream at twice the limit: locked out vs let through once the window ends.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { maxArrivalGapMs, withLimiter } from '../support/limiters/claims.js';
import { sanitySuite } from '../support/limiters/sanity.js';
import { paced, volley } from '../support/limiters/volley.js';

sanitySuite('fastify-rate-limit', ['fastify-rate-limit/window-1s', 'fastify-rate-limit/continue-exceeding'], () => {
  const outcome = { 'fastify-rate-limit/continue-exceeding': 'locked out', 'fastify-rate-limit/window-1s': 'let through' } as const;
  for (const preset of ['fastify-rate-limit/continue-exceeding', 'fastify-rate-limit/window-1s'] as const) {
    it(`${preset}: a client at twice the limit after a cold volley is ${outcome[preset]}`, async (ctx) => {
      await withLimiter(preset, async (limiter) => {
        const { limit = 0, windowSec = 1 } = limiter.truth;
        const key = `gc-${randomUUID()}`;
        const cold = await volley(limiter.url, 2 * limit, key);
        const stream = await paced(limiter.url, key, 2 * limit, 1500);
        const gap = maxArrivalGapMs(cold, stream);
        if (limiter.truth.countsRejected) {
          // Each refused request restarts the key's window: no gap of a whole window, no way back in.
          if (gap >= windowSec * 1000) ctx.skip(`arrivals up to ${gap.toFixed(0)} ms apart: the lockout is not decidable`);
          expect(stream.accepted, `${preset}: accepted while sending at ${2 * limit}/s`).toBe(0);
        } else {
          // The window opened with the volley's first arrival; requests sent after it ended pass.
          const windowEnd = Math.min(...cold.answers.map((answer) => answer.arrivedBy)) + windowSec * 1000;
          expect(Math.max(...stream.answers.map((answer) => answer.sentAt))).toBeGreaterThan(windowEnd);
          expect(stream.accepted, `${preset}: accepted while sending at ${2 * limit}/s`).toBeGreaterThan(0);
          expect(stream.accepted).toBeLessThanOrEqual(limit);
        }
        console.info(
          `${preset}: stream at ${2 * limit}/s for 1.5 s: ${stream.accepted} accepted, arrivals at most ${gap.toFixed(0)} ms apart`,
        );
      });
    });
  }
});
