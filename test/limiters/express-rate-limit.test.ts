/**
 * Sanity of the express-rate-limit harness (test/support/limiters/express-rate-limit.ts): each setting's
 * cold volley against its truth, nothing left running after stop(), and its window opened by the key's
 * first request: a client sending at twice the limit is let through again once that window has ended
 * (the store counts refusals, but a fixed window forgets them at its end).
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { withLimiter } from '../support/limiters/claims.js';
import { sanitySuite } from '../support/limiters/sanity.js';
import { paced, volley } from '../support/limiters/volley.js';

sanitySuite('express-rate-limit', ['express-rate-limit/window-1s', 'express-rate-limit/window-2s-503'], () => {
  it('express-rate-limit/window-1s: a client at twice the limit passes again when the window its first request opened ends', async () => {
    await withLimiter('express-rate-limit/window-1s', async (limiter) => {
      const { limit = 0, windowSec = 1 } = limiter.truth;
      const key = `gc-${randomUUID()}`;
      const cold = await volley(limiter.url, 2 * limit, key);
      const stream = await paced(limiter.url, key, 2 * limit, 1500);
      // The window opened at the volley's first arrival, at the latest its earliest answer; sends after its end pass.
      const windowEnd = Math.min(...cold.answers.map((answer) => answer.arrivedBy)) + windowSec * 1000;
      const accepted = stream.answers.filter((answer) => answer.status === 200);
      expect(Math.max(...stream.answers.map((answer) => answer.sentAt))).toBeGreaterThan(windowEnd);
      expect(accepted.length).toBeGreaterThan(0);
      expect(accepted.length).toBeLessThanOrEqual(limit);
      // Nothing passes inside the first window: every accepted request arrived after it (at the earliest, its first send).
      expect(accepted.filter((answer) => answer.arrivedBy < cold.firstSentAt + windowSec * 1000)).toEqual([]);
      console.info(`express-rate-limit/window-1s: stream at ${2 * limit}/s for 1.5 s: ${accepted.length} accepted after the first window`);
    });
  });
});
