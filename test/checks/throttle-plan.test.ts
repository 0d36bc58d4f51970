import { describe, expect, it } from 'vitest';
import { idleBucketWaitMs } from '../../src/engine/throttle-model.js';
import { planThrottle } from '../../src/checks/throttle/plan.js';

/**
 * The plan's sizes, worked out by hand from scenarios/throttle-probe.yaml (volley 1.5·burst, paced
 * 2·rate) and the check's floors (volley ≥ ⌈burst·(1+tol)⌉ + 10, paced ≥ rate + 10/s); the idle
 * wait is ⌈burst/rate · 1500⌉ + 200 ms. Literal numbers, so a changed formula fails a row.
 */
describe('planThrottle', () => {
  it.each([
    // rate, burst, tol, probeSeconds → volleySize, pacedRatePerSec, pacedCount, idleWaitMs; which term wins
    [100, 200, 0.1, 2, 300, 200, 400, 3200], // volley 1.5·200; paced 2·100
    [5, 10, 0.1, 2, 21, 15, 30, 3200], // volley ⌈11⌉+10 > 15; paced 5+10 > 10
    [10, 20, 0.1, 2, 32, 20, 40, 3200], // volley 22+10 > 30; paced 2·10 = 10+10
    [9, 40, 0.1, 1, 60, 19, 19, 6867], // paced 9+10 > 18; wait ⌈6666.7⌉ + 200
    [11, 30, 0.1, 1, 45, 22, 22, 4291], // volley 45 > 33+10; paced 22 > 21; wait ⌈4090.9⌉ + 200
    [1000, 500, 0.05, 1, 750, 2000, 2000, 950],
    [50, 100, 1, 0.5, 210, 100, 50, 3200], // tolerance 100%: 200+10 > 150
    [0.5, 1, 0.1, 2, 12, 10.5, 21, 3200], // ⌈1.1⌉ = 2, +10; paced 0.5+10
    [10, 1, 0.1, 2, 12, 20, 40, 350], // a bucket of one
    [7, 14, 0.1, 1.3, 26, 17, 23, 3200], // ⌈15.4⌉+10; count ⌈17·1.3⌉ = ⌈22.1⌉
    [20, 19, 0.01, 2, 30, 40, 80, 1625], // ⌈19.19⌉+10 = 30 > ⌈28.5⌉
    [10_000, 5_000, 0.1, 60, 7_500, 20_000, 1_200_000, 950],
  ])(
    'rate %s/s, burst %s, tolerance %s, %s s → volley %s, paced %s/s × %s, idle %s ms',
    (rateLimit, burstLimit, tolerance, probeSeconds, volleySize, pacedRatePerSec, pacedCount, idleWaitMs) => {
      const plan = planThrottle({ rateLimit, burstLimit, tolerance, probeSeconds });
      expect(plan).toEqual({ volleySize, pacedRatePerSec, pacedCount, idleWaitMs });
    },
  );

  // Over a grid, the floors hold whichever term wins: the volley overflows the largest bucket the
  // tolerance allows by at least 10, the paced phase offers at least twice and at least 10/s above
  // the rate for probeSeconds, and the idle wait gives the bucket 1.5× its fill time.
  const grid = [0.5, 3, 47, 1000].flatMap((rateLimit) =>
    [1, 9, 33, 5000].flatMap((burstLimit) => [0.01, 0.1, 1].map((tolerance) => ({ rateLimit, burstLimit, tolerance, probeSeconds: 1.5 }))),
  );
  it.each(grid)('floors hold for rate $rateLimit, burst $burstLimit, tolerance $tolerance', (throttle) => {
    const plan = planThrottle(throttle);
    const { rateLimit, burstLimit, tolerance, probeSeconds } = throttle;
    expect(Number.isInteger(plan.volleySize)).toBe(true);
    expect(plan.volleySize).toBeGreaterThanOrEqual(burstLimit * (1 + tolerance) + 10);
    expect(plan.volleySize).toBeGreaterThanOrEqual(1.5 * burstLimit);
    // No larger than needed: the bigger of the two terms, rounded up.
    expect(plan.volleySize).toBeLessThan(Math.max(1.5 * burstLimit, burstLimit * (1 + tolerance) + 10) + 1);
    expect(plan.pacedRatePerSec).toBe(Math.max(2 * rateLimit, rateLimit + 10));
    expect(plan.pacedCount).toBeGreaterThanOrEqual(plan.pacedRatePerSec * probeSeconds);
    expect(plan.pacedCount).toBeLessThan(plan.pacedRatePerSec * probeSeconds + 1);
    expect(plan.idleWaitMs).toBe(idleBucketWaitMs(throttle));
    expect(plan.idleWaitMs).toBeGreaterThanOrEqual((burstLimit / rateLimit) * 1500 + 200);
  });
});

describe('idleBucketWaitMs', () => {
  it.each([
    // rate, burst → ms: the fill time burst/rate, half again, plus 200 ms
    [100, 200, 3200],
    [10, 1, 350],
    [1000, 1, 202],
    [3, 10, 5200],
    [9, 40, 6867],
    [0.1, 1, 15_200],
  ])('rate %s/s, burst %s → %s ms', (rateLimit, burstLimit, ms) => {
    expect(idleBucketWaitMs({ rateLimit, burstLimit })).toBe(ms);
  });
});
