/**
 * Sanity of the Redis-backed harness (test/support/limiters/redis.ts: GCRA and Spring Cloud Gateway's
 * script): each setting's cold volley against its truth, nothing left running after stop(), and Spring's
 * whole-second refill: once a volley has emptied the bucket, nothing passes before the next wall-clock
 * second, and at most `replenishRate` per second boundary after it; GCRA's steady rate under a stream at
 * twice the rate.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { maxArrivalGapMs, withLimiter } from '../support/limiters/claims.js';
import { sanitySuite } from '../support/limiters/sanity.js';
import { paced, volley } from '../support/limiters/volley.js';

sanitySuite('redis', ['redis/gcra', 'redis/spring'], () => {
  it('redis/spring: after the bucket is emptied, refills come only on whole seconds, replenishRate at a time', async (ctx) => {
    await withLimiter('redis/spring', async (limiter) => {
      const { coldBurst, tokensPerFill = 0 } = limiter.truth;
      const key = `gc-${randomUUID()}`;
      const cold = await volley(limiter.url, 2 * coldBurst, key);
      // Decidable when the volley took the whole bucket inside one second of Redis TIME (our clock too).
      const second = Math.floor(cold.firstSentAt / 1000);
      if (cold.accepted !== coldBurst || Math.floor(cold.lastArrivedBy / 1000) !== second) {
        ctx.skip(`the volley straddled a second boundary (${cold.accepted} accepted): not decidable`);
      }
      const stream = await paced(limiter.url, key, 2 * tokensPerFill, 2200);
      const accepted = stream.answers.filter((answer) => answer.status === 200);
      const boundary = (second + 1) * 1000;
      // Nothing before the first boundary after the volley: an accepted request arrived after it.
      expect(accepted.filter((answer) => answer.arrivedBy < boundary)).toEqual([]);
      // At most tokensPerFill per boundary crossed up to the last arrival (the stream sends twice that per second).
      const boundaries = Math.floor(stream.lastArrivedBy / 1000) - second;
      expect(accepted.length).toBeGreaterThan(0);
      expect(accepted.length).toBeLessThanOrEqual(boundaries * tokensPerFill);
      console.info(
        `redis/spring: stream at ${2 * tokensPerFill}/s for 2.2 s: ${accepted.length} accepted over ${boundaries} second boundaries`,
      );
    });
  });

  it('redis/gcra: a client at twice the rate gets the rate, one request per emission interval', async (ctx) => {
    await withLimiter('redis/gcra', async (limiter) => {
      const { coldBurst, ratePerSec } = limiter.truth;
      const key = `gc-${randomUUID()}`;
      const cold = await volley(limiter.url, 2 * coldBurst, key);
      const stream = await paced(limiter.url, key, 2 * ratePerSec, 1500);
      // The volley's accepts leave the TAT coldBurst intervals ahead, from its first arrival at the earliest:
      // with everything at arrival times in [first send, last arrival], GCRA admits in total at most
      // coldBurst + rate·span + 1, and at least rate·(stream's last send - volley's last arrival) - 1 + coldBurst
      // when no gap between arrivals reaches an emission interval (every slot finds a request waiting).
      const total = cold.accepted + stream.accepted;
      const upper = coldBurst + Math.floor((ratePerSec * (stream.lastArrivedBy - cold.firstSentAt)) / 1000) + 1;
      expect(total, 'accepted in the volley and the stream').toBeLessThanOrEqual(upper);
      const gap = maxArrivalGapMs(stream);
      if (gap >= 1000 / ratePerSec) ctx.skip(`arrivals up to ${gap.toFixed(0)} ms apart: the lower bound is not decidable`);
      const lastSent = Math.max(...stream.answers.map((answer) => answer.sentAt));
      const lower = coldBurst + Math.floor((ratePerSec * (lastSent - cold.lastArrivedBy)) / 1000) - 1;
      expect(total, 'accepted in the volley and the stream').toBeGreaterThanOrEqual(lower);
      console.info(
        `redis/gcra: stream at ${2 * ratePerSec}/s for 1.5 s: ${stream.accepted} accepted (total ${total}, bounds ${lower}..${upper})`,
      );
    });
  });
});
