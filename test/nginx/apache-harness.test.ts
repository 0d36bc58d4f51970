/**
 * Smoke test of the Apache + ModSecurity v2 + CRS harness (test/support/apache.ts): `correct`
 * blocks a classic attack before the backend sees it, DetectionOnly matches it (in the error log)
 * but lets it through, `off` does not look; paranoia level 2 blocks what level 1 lets through; stop
 * leaves nothing behind. Skipped only without the packages and without CI set (.ci/run installs them).
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apacheAvailable, startApache, type ApacheVariant } from '../support/apache.js';

const RUN = apacheAvailable() || Boolean(process.env.CI);
const SQLI = `/api/items?q=${encodeURIComponent("' OR '1'='1")}`;
// The sentence with SQL words from the benign corpus: let through at PL1, blocked at PL2.
const SQL_WORDS = `/api/items?q=${encodeURIComponent('Please select a size, update your order and drop us a line from the union office.')}`;

async function status(url: string): Promise<number> {
  return (await fetch(url)).status;
}

describe.skipIf(!RUN)('the Apache + ModSecurity v2 + CRS harness', () => {
  it.each([
    ['correct', 403, 0],
    ['waf-detection-only', 200, 1],
    ['waf-off', 200, 1],
  ] as Array<[ApacheVariant, number, number]>)(
    '%s: a SQL injection in the query gets %s, the backend sees %s of it',
    async (variant, expected, hits) => {
      const apache = await startApache({ variant });
      try {
        expect(await status(`${apache.url}/api/items?q=hello`)).toBe(200);
        expect(await status(`${apache.url}${SQLI}`)).toBe(expected);
        expect(apache.backendHits()).toBe(1 + hits);
        // Any path and method reaches the backend: the path and body placements are inspected.
        expect(await status(`${apache.url}/api/items/anything`)).toBe(200);
        if (variant === 'waf-detection-only') expect(apache.errorLog()).toMatch(/ModSecurity: Warning\..*942100/);
      } finally {
        await apache.stop();
      }
    },
    30_000,
  );

  it('raises the paranoia level on request, and leaves nothing behind on stop', async () => {
    const pl1 = await startApache({ variant: 'correct' });
    const pl2 = await startApache({ variant: 'correct', paranoia: 2 });
    const pid = /\[pid (\d+)/.exec(pl1.errorLog())?.[1];
    try {
      expect([pl1.paranoia, pl2.paranoia]).toEqual([1, 2]);
      expect(await status(`${pl1.url}${SQL_WORDS}`)).toBe(200);
      expect(await status(`${pl2.url}${SQL_WORDS}`)).toBe(403);
    } finally {
      await Promise.all([pl1.stop(), pl2.stop()]);
    }
    expect(pid).toBeDefined();
    expect(existsSync(`/proc/${pid!}`)).toBe(false);
    expect(pl1.errorLog()).toBe(''); // the temp directory is gone
    await expect(fetch(`${pl1.url}/health`)).rejects.toThrow();
  }, 30_000);

  it('refuses an unknown variant', async () => {
    await expect(startApache({ variant: 'nope' as ApacheVariant })).rejects.toThrow(/unknown apache variant "nope"/);
  });
});
