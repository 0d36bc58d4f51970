/**
 * mapBounded: the bounded-concurrency loop the WAF and auth checks send probes through.
 */
import { describe, expect, it } from 'vitest';
import { mapBounded } from '../../src/checks/waf/pool.js';

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('mapBounded', () => {
  it('keeps input order and never has more than the limit in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapBounded([5, 1, 4, 2, 3, 0, 6, 7, 8, 9], 3, async (n) => {
      most = Math.max(most, ++inFlight);
      await tick(n);
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0, 60, 70, 80, 90]);
    expect(most).toBe(3);
  });

  it('starts nothing more once told to stop, leaving those results undefined', async () => {
    let seen = 0;
    const out = await mapBounded(
      Array.from({ length: 20 }, (_, i) => i),
      2,
      async (n) => {
        seen++;
        await tick(1);
        return n;
      },
      () => seen >= 5,
    );
    expect(seen).toBeLessThanOrEqual(6);
    expect(out.filter((r) => r === undefined).length).toBe(20 - seen);
  });

  it('copes with an empty list and a limit above the list length', async () => {
    expect(await mapBounded([], 8, () => Promise.resolve(1))).toEqual([]);
    expect(await mapBounded([1, 2], 8, (n) => Promise.resolve(n))).toEqual([1, 2]);
  });
});
