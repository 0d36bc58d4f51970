/**
 * Sanity of the varnish + vsthrottle harness (test/support/limiters/varnish.ts): each setting's cold volley
 * against its truth, nothing left running after stop(), and the `block` lockout: a client that keeps
 * sending at twice the limit through the block is refused again when it ends.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { maxArrivalGapMs, withLimiter } from '../support/limiters/claims.js';
import { sanitySuite } from '../support/limiters/sanity.js';
import { paced, volley } from '../support/limiters/volley.js';

sanitySuite('varnish-vsthrottle', ['varnish-vsthrottle/token-bucket', 'varnish-vsthrottle/block'], () => {
  it('varnish-vsthrottle/block: a client at twice the rate stays locked out past the block', async (ctx) => {
    await withLimiter('varnish-vsthrottle/block', async (limiter) => {
      const { ratePerSec, lockoutSec = 0, coldBurst } = limiter.truth;
      const key = `gc-${randomUUID()}`;
      const cold = await volley(limiter.url, 2 * coldBurst, key);
      const stream = await paced(limiter.url, key, 2 * ratePerSec, (lockoutSec + 0.5) * 1000);
      // Every request moves last_used, and a refill needs a whole token since then (1/rate s): with arrivals
      // closer than that, no token ever comes back. Inside the block, a gap under 2/rate s yields at most the
      // one token the blocked request itself takes.
      const gap = maxArrivalGapMs(stream);
      const lead = (stream.answers[0]?.arrivedBy ?? Infinity) - Math.max(...cold.answers.map((answer) => answer.sentAt));
      if (gap >= 1000 / ratePerSec || lead >= 2000 / ratePerSec) {
        ctx.skip(`arrivals up to ${gap.toFixed(0)} ms apart, stream ${lead.toFixed(0)} ms after the volley: not decidable`);
      }
      expect(stream.lastArrivedBy - cold.firstSentAt, 'the stream outlasts the block').toBeGreaterThan(lockoutSec * 1000);
      expect(stream.accepted, `accepted while sending at ${2 * ratePerSec}/s`).toBe(0);
      console.info(`varnish-vsthrottle/block: stream at ${2 * ratePerSec}/s for ${lockoutSec + 0.5} s: ${stream.accepted} accepted`);
    });
  });
});
