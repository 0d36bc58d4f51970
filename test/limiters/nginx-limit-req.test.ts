/**
 * Sanity of the nginx limit_req harness (test/support/limiters/nginx-limit-req.ts): each setting's cold
 * volley against its truth. Skipped without nginx unless CI is set (then it fails: .ci/run installs it).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { withLimiter } from '../support/limiters/claims.js';
import { LIMITER_REQUIREMENTS, limiterAvailable } from '../support/limiters/index.js';
import { coldVolleySanity, describeResult } from '../support/limiters/sanity.js';
import { coldAcceptBounds, now, volley } from '../support/limiters/volley.js';

const RUN = limiterAvailable('nginx-limit-req') || Boolean(process.env.CI);
if (!RUN) console.warn(`nginx limit_req harness skipped: needs ${LIMITER_REQUIREMENTS['nginx-limit-req']}; under CI=true this fails`);

describe.skipIf(!RUN)('nginx limit_req harness', { timeout: 30_000 }, () => {
  it('finds nginx installed', () => {
    expect(limiterAvailable('nginx-limit-req'), LIMITER_REQUIREMENTS['nginx-limit-req']).toBe(true);
  });

  it('nodelay: a new key gets burst+1 at once, refusals are 429', async () => {
    console.info(describeResult(await coldVolleySanity('nginx-limit-req/nodelay')));
  });

  for (const preset of ['nginx-limit-req/delay', 'nginx-limit-req/delay-4'] as const) {
    it(`${preset}: burst+1 accepted, the last ones delayed by (excess - delay)/rate, refusals as configured`, async () => {
      const result = await coldVolleySanity(preset, (limiter, volleyed) => {
        const { coldBurst, delayAfter = 0, ratePerSec } = limiter.truth;
        // With burst=B (coldBurst B+1), the last accepted request found excess above B-1 requests, or the next
        // one would have passed too: nginx held it at least (B - 1 - delay)/rate. Held times are nginx's own
        // ($request_time, ms resolution).
        const held = volleyed.answers.filter((answer) => answer.status === 200).map((answer) => answer.heldSec ?? 0);
        expect(Math.max(...held), `${preset}: longest hold of an accepted request`).toBeGreaterThanOrEqual(
          (coldBurst - 2 - delayAfter) / ratePerSec - 0.002,
        );
      });
      console.info(describeResult(result));
    });
  }

  it('nodelay: a known key idle for (B+1)/rate gets B+1 at once again, as a new key does', async () => {
    await withLimiter('nginx-limit-req/nodelay', async (limiter) => {
      const { coldBurst, ratePerSec } = limiter.truth;
      const key = `gc-${randomUUID()}`;
      const first = await volley(limiter.url, 2 * coldBurst, key);
      // The volley leaves excess at most B requests; (B+1)/rate s later it is below -1 request, clamped to 0.
      const idleMs = (coldBurst / ratePerSec) * 1000 + 150;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, first.lastArrivedBy + idleMs - now())));
      const again = await volley(limiter.url, 2 * coldBurst, key);
      expect(again.firstSentAt - first.lastArrivedBy).toBeGreaterThanOrEqual(idleMs - 1);
      const bounds = coldAcceptBounds(limiter.truth, again, 2 * coldBurst);
      expect(
        again.accepted,
        `after ${(again.firstSentAt - first.lastArrivedBy).toFixed(0)} ms idle (${bounds.why})`,
      ).toBeGreaterThanOrEqual(coldBurst);
      expect(again.accepted).toBeLessThanOrEqual(bounds.max);
      console.info(`nginx-limit-req/nodelay: cold ${first.accepted}, after idle ${again.accepted} (burst=${coldBurst - 1})`);
    });
  });
});
