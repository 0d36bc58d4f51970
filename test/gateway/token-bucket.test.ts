import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/gateway/token-bucket.js';

/** Runs `takes` at the given fake times and returns how many were admitted. */
function admitted(bucket: TokenBucket, timesMs: number[]): number {
  return timesMs.filter((t) => bucket.tryTake(t)).length;
}

const at = (ms: number, n: number): number[] => Array.from({ length: n }, () => ms);

describe('TokenBucket', () => {
  const cases: Array<{ name: string; ratePerSec: number; capacity: number; timesMs: number[]; expected: number }> = [
    { name: 'a full bucket gives the whole burst at once', ratePerSec: 10, capacity: 5, timesMs: at(0, 5), expected: 5 },
    { name: 'nothing beyond the burst at the same instant', ratePerSec: 10, capacity: 5, timesMs: at(0, 8), expected: 5 },
    {
      name: 'refill at the rate: 10/s gives one token per 100 ms',
      ratePerSec: 10,
      capacity: 5,
      timesMs: [...at(0, 5), 50, 100, 150, 200],
      expected: 7,
    },
    {
      name: 'one second after draining gives rate tokens (capped by capacity)',
      ratePerSec: 3,
      capacity: 5,
      timesMs: [...at(0, 5), ...at(1000, 5)],
      expected: 8,
    },
    {
      name: 'fractional refill: 2.5/s gives a token after 400 ms, not before',
      ratePerSec: 2.5,
      capacity: 1,
      timesMs: [0, 399, 400, 799, 800],
      expected: 3,
    },
    {
      name: 'fractional tokens accumulate across refused attempts',
      ratePerSec: 1,
      capacity: 1,
      timesMs: [0, 300, 600, 900, 1000],
      expected: 2,
    },
    { name: 'no overfill: a long idle time refills to capacity only', ratePerSec: 100, capacity: 3, timesMs: at(60_000, 10), expected: 3 },
    {
      name: 'a request paced exactly at the rate always passes',
      ratePerSec: 50,
      capacity: 1,
      timesMs: Array.from({ length: 100 }, (_, i) => i * 20),
      expected: 100,
    },
    {
      name: 'rate 0.1/s with float steps (rounding does not lose a token)',
      ratePerSec: 0.1,
      capacity: 1,
      timesMs: [0, 10_000, 20_000, 30_000],
      expected: 4,
    },
    { name: 'a clock going backwards refills nothing', ratePerSec: 10, capacity: 1, timesMs: [1000, 500, 999], expected: 1 },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const bucket = new TokenBucket(c.ratePerSec, c.capacity, c.timesMs[0] ?? 0);
      expect(admitted(bucket, c.timesMs)).toBe(c.expected);
    });
  }

  it('starts full and reports fractional tokens', () => {
    const bucket = new TokenBucket(4, 2, 1000);
    expect(bucket.available(1000)).toBe(2);
    expect(bucket.tryTake(1000)).toBe(true);
    expect(bucket.tryTake(1000)).toBe(true);
    expect(bucket.available(1000)).toBe(0);
    expect(bucket.available(1125)).toBeCloseTo(0.5, 9);
    expect(bucket.isFull(1500)).toBe(true);
  });

  it('admits at most capacity + elapsed * rate over any window', () => {
    const bucket = new TokenBucket(20, 7, 0);
    // Hammer every millisecond for 3 s: 7 + 3 * 20 = 67.
    const passed = admitted(
      bucket,
      Array.from({ length: 3001 }, (_, i) => i),
    );
    expect(passed).toBe(67);
  });

  it('rejects impossible parameters', () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(Number.POSITIVE_INFINITY, 1, 0)).toThrow(RangeError);
  });
});
