/**
 * Identification against real limiters (issue 12): each limiter is started on loopback, the probe designed from
 * the policy a user would write for it (its nominal rate and burst) is sent through the engine with a fresh API
 * key, and the identified algorithm and parameters are held against the limiter's configured truth with the
 * issue's tolerances: algorithm right, rate within ±5%, burst/limit within ±2 requests (or 5%).
 *
 * The limiters asserted here are those the benchmark (bench/throttle-models.ts --real) identified on every run.
 * Verdicts must not depend on machine load: the identification is asserted only when the run's measured send
 * lag, start offset and event-loop delay show the client kept the designed schedule (keptSchedule); otherwise
 * the test says so and is skipped, never retried. One probe each (about 8 s of traffic).
 */
import { describe, expect, it } from 'vitest';
import { identifyAndJudge, keptSchedule, policyFor, probeLimiter, truthBurst } from '../support/identify-real.js';
import {
  LIMITER_PRESETS,
  LIMITER_REQUIREMENTS,
  limiterAvailable,
  startLimiter,
  type LimiterPresetName,
} from '../support/limiters/index.js';

const PRESETS: LimiterPresetName[] = [
  'nginx-limit-req/nodelay',
  'haproxy/accepted-only',
  'haproxy/all-requests',
  'express-rate-limit/window-1s',
  'redis/gcra',
  'redis/spring',
];

describe('identify real limiters', () => {
  for (const preset of PRESETS) {
    const { limiter: kind } = LIMITER_PRESETS[preset];
    const run = limiterAvailable(kind) || Boolean(process.env.CI);
    if (!run) console.warn(`${preset} skipped: needs ${LIMITER_REQUIREMENTS[kind]}; under CI=true this fails`);
    it.skipIf(!run)(`${preset}: algorithm and parameters identified within the issue's tolerances`, { timeout: 60_000 }, async (ctx) => {
      const limiter = await startLimiter(LIMITER_PRESETS[preset], preset);
      let notAsserted: string | undefined;
      try {
        const { truth } = limiter;
        const hints = policyFor(truth);
        const probe = await probeLimiter(limiter.url, hints, truth.status);
        // The probe itself: every answer was an accept or the limiter's own refusal, and both happened.
        expect(probe.other, `${preset}: answers neither 2xx nor ${truth.status}`).toBe(0);
        expect(probe.accepted).toBeGreaterThan(0);
        expect(Object.keys(probe.refusalStatuses)).toEqual([String(truth.status)]);
        expect(probe.trafficMs, 'at most 10 s of traffic').toBeLessThanOrEqual(10_000 + 500);

        const judged = identifyAndJudge(probe, hints, truth);
        const p = (judged.fit ?? judged.id.best).params;
        const seen =
          `${preset}: identified ${judged.id.algorithm}${judged.id.ambiguous ? ' (ambiguous)' : ''} ${p.variant}, ` +
          `rate ${p.ratePerSec.toFixed(2)}/s, burst ${p.burst}${p.windowSec !== undefined ? `, window ${p.windowSec} s` : ''}, ` +
          `residual ${judged.id.residual}/${judged.id.residualBound.toFixed(1)}; truth ${truth.algorithm} ${truth.ratePerSec}/s ` +
          `burst ${truthBurst(truth)}; ${probe.observations.length} requests, ${(probe.trafficMs / 1000).toFixed(1)} s of traffic, ` +
          `identify ${judged.cpuMs.toFixed(0)} ms CPU`;
        const kept = keptSchedule(probe, hints);
        console.info(`${seen}; ${kept.why}`);
        if (!kept.kept) notAsserted = `the client did not keep the designed schedule (${kept.why}): identification not asserted`;
        // No model within the residual bound is "could not tell" (a busy CI machine: two test files and a busy core
        // blur the limiter's own timing), never a wrong identification: not asserted, and said so. A named
        // algorithm must be the right one, with the right numbers.
        else if (judged.id.algorithm === 'unknown') notAsserted = `no model fits within the residual bound (${seen}): not asserted`;
        else {
          expect(judged.algorithmOk, `${seen}\n${judged.id.evidence.join('\n')}`).toBe(true);
          expect(judged.rateOk, `${seen}: rate within ±5% (${(judged.rateError * 100).toFixed(1)}%)`).toBe(true);
          expect(judged.burstOk, `${seen}: burst/limit within ±2 or 5% (${judged.burstError})`).toBe(true);
          if (truth.windowSec !== undefined) expect(p.windowSec, `${seen}: window`).toBeCloseTo(truth.windowSec, 1);
          if (truth.algorithm === 'sliding-window') expect(p.countsRejected, `${seen}: counts refused`).toBe(truth.countsRejected ?? false);
        }
      } catch (error) {
        if (error instanceof Error) error.message += `\n--- ${preset} log ---\n${limiter.log().trim()}`;
        throw error;
      } finally {
        await limiter.stop();
      }
      // Verdicts must not depend on machine load: a probe that did not go out as designed is not judged.
      if (notAsserted) ctx.skip(notAsserted);
    });
  }
});
