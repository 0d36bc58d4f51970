import { describe, expect, it } from 'vitest';
import {
  couldHaveFilled,
  drainedRateInterval,
  estimateBucket,
  fitLine,
  judgeBucket,
  simulateBucket,
  type TimedAnswer,
} from '../../src/checks/throttle/estimate.js';

/**
 * Synthetic runs through an exact token bucket: a volley at t=0 of `volley` requests spread
 * over `volleySpanMs`, then a paced phase at `pacedRate` for `seconds`.
 */
function synthetic(bucket: { rate: number; burst: number } | null, volley: number, pacedRate: number, seconds: number, volleySpanMs = 2) {
  const volleyTimes = Array.from({ length: volley }, (_, i) => (i * volleySpanMs) / Math.max(1, volley - 1));
  const start = volleySpanMs + 5;
  const pacedTimes = Array.from({ length: Math.round(pacedRate * seconds) }, (_, i) => start + (i * 1000) / pacedRate);
  const accepted = bucket
    ? simulateBucket([...volleyTimes, ...pacedTimes], bucket.rate, bucket.burst)
    : [...volleyTimes, ...pacedTimes].map(() => true);
  const answer = (atMs: number, i: number): TimedAnswer => ({ atMs, accepted: accepted[i]!, throttled: !accepted[i] });
  return {
    volley: volleyTimes.map((t, i) => answer(t, i)),
    paced: pacedTimes.map((t, i) => answer(t, volley + i)),
  };
}

const limits = { rateLimit: 50, burstLimit: 20, tolerance: 0.1 };

describe('token bucket estimation', () => {
  it('recovers rate and burst of an exact bucket', () => {
    const run = synthetic({ rate: 50, burst: 20 }, 40, 100, 2);
    const estimate = estimateBucket(run.volley, run.paced);
    expect(estimate.ratePerSec!).toBeGreaterThan(49);
    expect(estimate.ratePerSec!).toBeLessThan(51);
    expect(Math.abs(estimate.burst! - 20)).toBeLessThanOrEqual(1);
    expect(estimate.rateIsLowerBound).toBe(false);
    expect(estimate.burstIsLowerBound).toBe(false);
    expect(judgeBucket(estimate, limits).status).toBe('pass');
  });

  it.each([
    ['rate twice the limit', { rate: 100, burst: 20 }, /rate .* (outside|above)/],
    ['rate 30% low', { rate: 35, burst: 20 }, /rate 3[45]\.\d\/s is outside/],
    ['burst three times the limit', { rate: 50, burst: 60 }, /burst is at least 40/],
    ['burst 50% larger', { rate: 50, burst: 30 }, /burst (29|30)\.\d is outside/],
  ])('fails a bucket with %s', (_name, bucket, reason) => {
    const run = synthetic(bucket, 40, 100, 2);
    const judgement = judgeBucket(estimateBucket(run.volley, run.paced), limits);
    expect(judgement.status).toBe('fail');
    expect(judgement.reasons.join('; ')).toMatch(reason);
  });

  it('fails a gateway with no limit at all', () => {
    const run = synthetic(null, 40, 100, 2);
    const judgement = judgeBucket(estimateBucket(run.volley, run.paced), limits);
    expect(judgement.status).toBe('fail');
    expect(judgement.reasons.join(';')).toMatch(/no 429/);
  });

  it('is inconclusive, never pass, when the client could not offer more than the limit', () => {
    // Only 45/s offered against a 50/s limit: nothing is throttled in the paced phase.
    const run = synthetic({ rate: 50, burst: 20 }, 40, 45, 2);
    const judgement = judgeBucket(estimateBucket(run.volley, run.paced), limits);
    expect(judgement.status).toBe('inconclusive');
    expect(judgement.reasons.join(';')).toMatch(/client-bound/);
  });

  it('accounts for tokens refilled while a slow volley leaves', () => {
    // 40 requests spread over 200 ms: the bucket refills 10 tokens meanwhile.
    const run = synthetic({ rate: 50, burst: 20 }, 40, 100, 2, 200);
    const estimate = estimateBucket(run.volley, run.paced);
    expect(estimate.volley.accepted).toBeGreaterThanOrEqual(29);
    expect(Math.abs(estimate.burst! - 20)).toBeLessThanOrEqual(estimate.burstUncertainty!);
  });

  it('does not call an unthrottled volley too large when the bucket could have refilled it meanwhile', () => {
    // 150 requests accepted by a 30k/s bucket of 100: the gateway needed 50 ms to answer them all.
    const volley = Array.from({ length: 150 }, (_, i) => ({ atMs: i * 0.01, doneAtMs: 50, accepted: true, throttled: false }));
    const paced = Array.from({ length: 100 }, (_, i) => ({ atMs: 60 + i, accepted: true, throttled: false }));
    const judgement = judgeBucket(estimateBucket(volley, paced), { rateLimit: 30000, burstLimit: 100, tolerance: 0.1 });
    expect(judgement.status).toBe('inconclusive');
    expect(judgement.reasons.join(';')).toMatch(/cannot tell the burst/);
  });

  it('reports the first 429', () => {
    const run = synthetic({ rate: 50, burst: 20 }, 40, 100, 1, 0);
    expect(estimateBucket(run.volley, run.paced).firstThrottleAtMs).toBe(0);
  });

  it('fits a line with its standard error', () => {
    const fit = fitLine([
      [0, 1],
      [1, 3],
      [2, 5],
      [3, 7],
    ]);
    expect(fit.slope).toBeCloseTo(2, 10);
    expect(fit.intercept).toBeCloseTo(1, 10);
    expect(fit.slopeStdErr).toBeCloseTo(0, 10);
  });

  it('simulates a bucket: burst at once, then one token per 1/rate', () => {
    expect(simulateBucket([0, 0, 0, 0], 10, 3)).toEqual([true, true, true, false]);
    expect(simulateBucket([0, 0, 0, 0, 50, 100], 10, 3)).toEqual([true, true, true, false, false, true]);
  });
});

/** A small seeded generator, so every randomised run below is reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A loaded client in front of an exact token bucket: paced at `offered`/s, but the client
 * stalls (`stallMs`, with probability `stallChance` per request) and then sends everything due
 * at once, and the gateway decides each request up to `decisionLagMs` after it was sent (in
 * arrival order). What a busy 2-core machine does to the probe.
 */
function loaded(
  bucket: { rate: number; burst: number },
  o: { volley: number; offered: number; seconds: number; stallChance: number; stallMs: number; decisionLagMs: number; seed: number },
) {
  const random = mulberry32(o.seed);
  const sends: number[] = [];
  let clock = 0;
  for (let i = 0; i < o.volley; i++) sends.push(i * 0.01);
  const start = 5;
  const count = Math.round(o.offered * o.seconds);
  for (let i = 0; i < count; i++) {
    const intended = start + (i * 1000) / o.offered;
    if (random() < o.stallChance) clock = Math.max(clock, intended) + o.stallMs * random();
    sends.push(Math.max(intended, clock));
  }
  let lastDecision = 0;
  const decisions = sends.map((at) => (lastDecision = Math.max(lastDecision, at + o.decisionLagMs * random())));
  const accepted = simulateBucket(decisions, bucket.rate, bucket.burst);
  const answer = (i: number): TimedAnswer => ({
    atMs: sends[i]!,
    doneAtMs: decisions[i]! + 0.2,
    accepted: accepted[i]!,
    throttled: !accepted[i],
  });
  return {
    volley: sends.slice(0, o.volley).map((_, i) => answer(i)),
    paced: sends.slice(o.volley).map((_, i) => answer(o.volley + i)),
  };
}

describe('verdicts that do not depend on how busy the client is', () => {
  it.each([
    ['rare long stalls', 0.0005, 40],
    ['frequent short stalls', 0.01, 5],
    ['frequent long stalls', 0.01, 40],
  ])('a limit above what the client offers is inconclusive, never fail (20,000/s, 13,700/s offered, %s)', (_name, stallChance, stallMs) => {
    for (let seed = 1; seed <= 20; seed++) {
      const run = loaded(
        { rate: 20_000, burst: 100 },
        { volley: 160, offered: 13_700, seconds: 1, stallChance, stallMs, decisionLagMs: 3, seed },
      );
      const judgement = judgeBucket(estimateBucket(run.volley, run.paced), { rateLimit: 20_000, burstLimit: 100, tolerance: 0.1 });
      expect(judgement.status, `seed ${seed}: ${judgement.reasons.join('; ')}`).toBe('inconclusive');
      expect(judgement.clientBound, judgement.reasons.join('; ')).toBe(true);
    }
  });

  it('a correct gateway is never failed by a client that stalls and a gateway that decides late', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const run = loaded(
        { rate: 50, burst: 20 },
        { volley: 40, offered: 100, seconds: 2, stallChance: 0.05, stallMs: 600, decisionLagMs: 30, seed },
      );
      const judgement = judgeBucket(estimateBucket(run.volley, run.paced), limits);
      expect(judgement.status, `seed ${seed}: ${judgement.reasons.join('; ')}`).not.toBe('fail');
    }
  });

  it('a correct gateway still passes under moderate client jitter', () => {
    let passed = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const run = loaded(
        { rate: 50, burst: 20 },
        { volley: 40, offered: 100, seconds: 2, stallChance: 0.02, stallMs: 50, decisionLagMs: 2, seed },
      );
      if (judgeBucket(estimateBucket(run.volley, run.paced), limits).status === 'pass') passed++;
    }
    expect(passed).toBe(20);
  });

  it('a gateway that decides up to 170 ms late (a WAF on a loaded machine) still passes a correct bucket in a 1 s probe', () => {
    const statuses: string[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const run = loaded(
        { rate: 50, burst: 20 },
        { volley: 32, offered: 100, seconds: 1, stallChance: 0.02, stallMs: 20, decisionLagMs: 170, seed },
      );
      statuses.push(judgeBucket(estimateBucket(run.volley, run.paced), limits).status);
    }
    expect(statuses).not.toContain('fail');
    expect(statuses.filter((s) => s === 'pass').length, statuses.join(' ')).toBe(20);
  });

  it.each([
    ['30% slow', { rate: 35, burst: 20 }],
    ['twice as fast', { rate: 100, burst: 20 }],
  ])('a wrong rate (%s) never passes when the gateway decides up to 170 ms late', (_name, bucket) => {
    for (let seed = 1; seed <= 20; seed++) {
      const run = loaded(bucket, {
        volley: 32,
        offered: 2 * bucket.rate + 10,
        seconds: 1,
        stallChance: 0.02,
        stallMs: 20,
        decisionLagMs: 170,
        seed,
      });
      const judgement = judgeBucket(estimateBucket(run.volley, run.paced), limits);
      expect(judgement.status, `seed ${seed}: ${judgement.reasons.join('; ')}`).not.toBe('pass');
    }
  });

  it.each([
    ['30% slow', { rate: 35, burst: 20 }],
    ['twice as fast', { rate: 100, burst: 20 }],
  ])('a wrong rate (%s) still fails when the client jitters', (_name, bucket) => {
    for (let seed = 1; seed <= 20; seed++) {
      const run = loaded(bucket, {
        volley: 40,
        offered: 2 * bucket.rate + 10,
        seconds: 2,
        stallChance: 0.02,
        stallMs: 50,
        decisionLagMs: 2,
        seed,
      });
      const judgement = judgeBucket(estimateBucket(run.volley, run.paced), limits);
      expect(judgement.status, `seed ${seed}: ${judgement.reasons.join('; ')}`).toBe('fail');
    }
  });

  it('keeps the drained span: accepted between the first and the last 429, and its time bounds', () => {
    const run = synthetic({ rate: 50, burst: 20 }, 40, 100, 2);
    const span = estimateBucket(run.volley, run.paced).drained!;
    const { low, high } = drainedRateInterval(span);
    expect(low).toBeLessThanOrEqual(50);
    expect(high).toBeGreaterThanOrEqual(50);
    expect(couldHaveFilled(span, 55, 20)).toBe(false);
  });
});
