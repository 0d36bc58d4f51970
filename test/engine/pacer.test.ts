import { describe, expect, it } from 'vitest';
import { constantPacer, poissonPacer, volleyPacer } from '../../src/engine/pacer.js';

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
