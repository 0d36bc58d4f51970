/**
 * Sanity of the nginx limit_req harness (test/support/limiters/nginx-limit-req.ts): each setting's cold
 * volley against its truth. Skipped without nginx unless CI is set (then it fails: .ci/run installs it).
 */
import { describe, expect, it } from 'vitest';
import { LIMITER_REQUIREMENTS, limiterAvailable } from '../support/limiters/index.js';
import { coldVolleySanity, describeResult } from '../support/limiters/sanity.js';

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
        const { burst = 0, delayAfter = 0, ratePerSec } = limiter.truth;
        // The last accepted request found excess above (burst-1) requests: nginx held it at least
        // (burst - 1 - delay)/rate. Held times are nginx's own ($request_time, ms resolution).
        const held = volleyed.answers.filter((answer) => answer.status === 200).map((answer) => answer.heldSec ?? 0);
        expect(Math.max(...held), `${preset}: longest hold of an accepted request`).toBeGreaterThanOrEqual(
          (burst - 1 - delayAfter) / ratePerSec - 0.002,
        );
      });
      console.info(describeResult(result));
    });
  }
});
