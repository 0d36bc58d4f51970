import { describe, expect, it } from 'vitest';
import { constantPacer, poissonPacer, rampPacer, schedulePacer, volleyPacer, type Pacer } from '../../src/engine/pacer.js';

/** Intended times of requests 0, 1, ... that fall before `untilMs`. */
function timesUntil(pacer: Pacer, untilMs: number): number[] {
  const times: number[] = [];
  for (let i = 0; pacer.intendedAtMs(i) < untilMs; i++) times.push(pacer.intendedAtMs(i));
  return times;
}

/** How many intended times fall in each whole second [k, k+1) before `seconds`. */
function perSecond(pacer: Pacer, seconds: number): number[] {
  const bins = new Array<number>(seconds).fill(0);
  for (const t of timesUntil(pacer, seconds * 1000)) bins[Math.floor(t / 1000)]!++;
  return bins;
}

/** True when every time is ≥ the one before (a pacer never sends request i+1 before request i). */
const isMonotone = (times: number[]) => times.every((t, i) => i === 0 || t >= times[i - 1]!);

describe('pacers', () => {
  it.each([
    [1, 0, 0],
    [1, 3, 3000],
    [1000, 1, 1],
    [1000, 1000, 1000],
    [50, 5, 100],
  ])('constant %i/s schedules request %i at %i ms', (rate, i, ms) => {
    expect(constantPacer(rate).intendedAtMs(i)).toBeCloseTo(ms, 9);
  });

  it('sends a volley all at once', () => {
    expect([0, 1, 99].map((i) => volleyPacer().intendedAtMs(i))).toEqual([0, 0, 0]);
  });

  it('poisson: reproducible, increasing, and the mean rate converges', () => {
    const a = poissonPacer(1000, 7);
    const b = poissonPacer(1000, 7);
    expect(a.intendedAtMs(500)).toBe(b.intendedAtMs(500));
    expect(a.intendedAtMs(10)).toBeGreaterThan(a.intendedAtMs(9));
    // 100k exponential gaps of mean 1 ms: the sum's standard deviation is sqrt(n) ms ≈ 316 ms, so ±1% (1000 ms) is > 3 sigma.
    const total = a.intendedAtMs(100_000);
    expect(Math.abs(total - 100_000) / 100_000).toBeLessThan(0.01);
  });

  it('rejects a rate of 0', () => {
    expect(() => constantPacer(0)).toThrow(RangeError);
  });
});

describe('constant pacer: counts per second', () => {
  // An integer rate puts exactly `rate` requests in each second, give or take the one request whose
  // i/rate lands on a second boundary and rounds either side (333/s: 999.999… ms or 1000.000… ms).
  it.each([1, 3, 7, 60, 333, 1000, 2500])('%i/s over 5 s: rate ±1 per second, 5·rate in all', (rate) => {
    const bins = perSecond(constantPacer(rate), 5);
    for (const n of bins) expect(Math.abs(n - rate)).toBeLessThanOrEqual(1);
    expect(Math.abs(bins.reduce((a, b) => a + b, 0) - 5 * rate)).toBeLessThanOrEqual(1);
  });

  it.each([
    [0.5, [1, 0, 1, 0]],
    [2.5, [3, 2, 3, 2]],
  ])('a fractional rate %s/s alternates whole counts per second', (rate, expected) => {
    expect(perSecond(constantPacer(rate), 4)).toEqual(expected);
  });

  it.each([1, 37, 1000])('%i/s is strictly increasing with a constant gap of 1000/rate ms', (rate) => {
    const times = timesUntil(constantPacer(rate), 3000);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeCloseTo(1000 / rate, 9);
  });

  it.each([0, -1, Number.NaN, -Infinity])('rejects a rate of %s', (rate) => {
    expect(() => constantPacer(rate)).toThrow(RangeError);
  });
});

describe('volley pacer', () => {
  it.each([0, 1, 511, 1_000_000])('request %i is due at 0 ms', (i) => {
    expect(volleyPacer().intendedAtMs(i)).toBe(0);
  });
});

describe('ramp pacer: arrivals follow N(t) = r0·t + (r1 − r0)·t²/(2T)', () => {
  /** Cumulative arrivals by t seconds for the ramp. */
  const arrivals = (r0: number, r1: number, T: number, t: number) => r0 * t + ((r1 - r0) * t * t) / (2 * T);

  const ramps: Array<[number, number, number]> = [
    [10, 30, 2],
    [30, 10, 2],
    [1, 1000, 1],
    [1000, 1, 1],
    [50, 500, 4],
    [200, 100, 3],
  ];

  it.each(ramps)('%s→%s/s over %s s: request i leaves when N(t) reaches i', (r0, r1, T) => {
    const pacer = rampPacer(r0, r1, T);
    // -0 for a falling ramp (the negative slope's sign): the same instant as 0.
    expect(pacer.intendedAtMs(0) === 0).toBe(true);
    const total = Math.floor(arrivals(r0, r1, T, T));
    for (let i = 1; i <= total; i++) expect(arrivals(r0, r1, T, pacer.intendedAtMs(i) / 1000)).toBeCloseTo(i, 6);
  });

  it.each(ramps)('%s→%s/s over %s s: strictly increasing over the ramp', (r0, r1, T) => {
    const times = timesUntil(rampPacer(r0, r1, T), T * 1000);
    expect(times.length).toBeGreaterThan(1);
    expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
  });

  it.each(ramps)('%s→%s/s over %s s: each second holds N(k+1) − N(k) requests, ±1 at the boundaries', (r0, r1, T) => {
    const bins = perSecond(rampPacer(r0, r1, T), T);
    bins.forEach((n, k) => expect(Math.abs(n - (arrivals(r0, r1, T, k + 1) - arrivals(r0, r1, T, k)))).toBeLessThanOrEqual(1));
    // The whole ramp schedules its mean rate times its duration.
    expect(Math.abs(bins.reduce((a, b) => a + b, 0) - ((r0 + r1) / 2) * T)).toBeLessThanOrEqual(1);
  });

  it.each(ramps)('%s→%s/s over %s s: each gap is one request at a rate between the rates at its two ends', (r0, r1, T) => {
    const rateAt = (ms: number) => r0 + ((r1 - r0) * ms) / 1000 / T;
    const times = timesUntil(rampPacer(r0, r1, T), T * 1000);
    for (let i = 1; i < times.length; i++) {
      // One arrival over the gap is its mean rate; the rate is linear, so that mean lies between its ends.
      const mean = 1000 / (times[i]! - times[i - 1]!);
      const [lo, hi] = [rateAt(times[i - 1]!), rateAt(times[i]!)].sort((a, b) => a - b) as [number, number];
      expect(mean).toBeGreaterThanOrEqual(lo * (1 - 1e-9));
      expect(mean).toBeLessThanOrEqual(hi * (1 + 1e-9));
    }
  });

  it('equal rates are the constant pacer', () => {
    const ramp = rampPacer(40, 40, 3);
    expect(ramp.description).toBe('constant 40/s');
    expect([0, 1, 79].map((i) => ramp.intendedAtMs(i))).toEqual([0, 1, 79].map((i) => constantPacer(40).intendedAtMs(i)));
  });

  it('a ramp whose rates differ by 1e-7/s stays within 1 µs of the constant pacer (no cancellation blow-up)', () => {
    const ramp = rampPacer(100, 100.0000001, 1);
    for (const i of [1, 2, 10, 99]) expect(Math.abs(ramp.intendedAtMs(i) - i * 10)).toBeLessThan(0.001);
  });

  it.each([
    [0, 10, 1],
    [10, 0, 1],
    [10, 20, 0],
    [-5, 20, 1],
    [Number.NaN, 20, 1],
  ])('rejects %s→%s/s over %s s', (r0, r1, T) => {
    expect(() => rampPacer(r0, r1, T)).toThrow(RangeError);
  });
});

describe('poisson pacer: seeded and reproducible', () => {
  it.each([1, 7, 42, 0xdeadbeef])('seed %i replays the same schedule, in whatever order it is asked', (seed) => {
    const forward = poissonPacer(500, seed);
    const backward = poissonPacer(500, seed);
    const n = 200;
    const a = Array.from({ length: n }, (_, i) => forward.intendedAtMs(i));
    // Asking for the last index first fills the cache in one go; the values must not depend on it.
    const b = Array.from({ length: n }, (_, i) => backward.intendedAtMs(n - 1 - i)).reverse();
    expect(b).toEqual(a);
    expect(a[0]).toBe(0);
    expect(isMonotone(a)).toBe(true);
  });

  it.each([
    [1, 2],
    [7, 8],
    [1, 42],
  ])('seeds %i and %i give different schedules', (s1, s2) => {
    expect(poissonPacer(100, s1).intendedAtMs(10)).not.toBe(poissonPacer(100, s2).intendedAtMs(10));
  });

  it('the default seed is 1', () => {
    expect(poissonPacer(100).intendedAtMs(50)).toBe(poissonPacer(100, 1).intendedAtMs(50));
  });

  // With the seed fixed these are exact replays, so the bounds are the Poisson statistics of one draw:
  // a second holds Poisson(rate) arrivals (sd √rate), and 10 s hold Poisson(10·rate) (sd √(10·rate)).
  it.each([
    [50, 3],
    [200, 11],
    [1000, 5],
  ])('%i/s (seed %i): every second within 5 sd of the rate, 10 s within 4 sd of 10·rate', (rate, seed) => {
    const bins = perSecond(poissonPacer(rate, seed), 10);
    for (const n of bins) expect(Math.abs(n - rate)).toBeLessThan(5 * Math.sqrt(rate));
    expect(Math.abs(bins.reduce((a, b) => a + b, 0) - 10 * rate)).toBeLessThan(4 * Math.sqrt(10 * rate));
  });

  it('the gaps are exponential, not even: their coefficient of variation is near 1 (a constant pacer has 0)', () => {
    const pacer = poissonPacer(1000, 5);
    const gaps = Array.from({ length: 20_000 }, (_, i) => pacer.intendedAtMs(i + 1) - pacer.intendedAtMs(i));
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
    expect(mean).toBeCloseTo(1, 1);
    expect(sd / mean).toBeGreaterThan(0.95);
    expect(sd / mean).toBeLessThan(1.05);
  });

  it.each([0, -3, Number.NaN])('rejects a rate of %s', (rate) => {
    expect(() => poissonPacer(rate)).toThrow(RangeError);
  });
});

describe('schedulePacer', () => {
  it('sends at the given times, in order', () => {
    const pacer = schedulePacer([0, 0, 20, 35.5]);
    expect([0, 1, 2, 3].map((i) => pacer.intendedAtMs(i))).toEqual([0, 0, 20, 35.5]);
  });
  it('refuses times that go back', () => {
    expect(() => schedulePacer([0, 10, 5])).toThrow(/index 2/);
  });
});
