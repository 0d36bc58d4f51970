/**
 * The sanity check every limiter's test runs (test/limiters/*.test.ts): start a preset, send a cold volley
 * of twice its cold burst with a fresh key, and hold the answers against the preset's truth — accepted
 * count within the bounds the algorithm allows for the measured span, every refusal with the configured
 * status, the truth's rate-limit headers present, a second key not throttled by the first's volley — then
 * stop it and check that no process, port or directory is left.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  LIMITER_PRESETS,
  LIMITER_REQUIREMENTS,
  limiterAvailable,
  startLimiter,
  type LimiterKind,
  type LimiterPresetName,
  type RunningLimiter,
} from './index.js';
import { isRunning, listening } from './process.js';
import { coldAcceptBounds, volley, type AcceptBounds, type Volley } from './volley.js';

export interface SanityResult {
  preset: LimiterPresetName;
  startMs: number;
  /** First send to last answer of the volley. */
  volleyMs: number;
  stopMs: number;
  sent: number;
  accepted: number;
  bounds: AcceptBounds;
  refused: Record<number, number>;
}

export async function coldVolleySanity(
  preset: LimiterPresetName,
  more?: (limiter: RunningLimiter, volleyed: Volley) => void,
): Promise<SanityResult> {
  let t = performance.now();
  const limiter = await startLimiter(LIMITER_PRESETS[preset], preset);
  const startMs = performance.now() - t;
  const { truth } = limiter;
  const sent = 2 * truth.coldBurst;
  let volleyed: Volley | undefined;
  let bounds: AcceptBounds | undefined;
  try {
    volleyed = await volley(limiter.url, sent, `gc-${randomUUID()}`);
    bounds = coldAcceptBounds(truth, volleyed, sent);
    const seen = `${preset}: ${volleyed.accepted} of ${sent} accepted, refused ${JSON.stringify(volleyed.refused)}`;
    expect(volleyed.accepted, `${seen}; expected ${bounds.min}..${bounds.max} (${bounds.why})`).toBeGreaterThanOrEqual(bounds.min);
    expect(volleyed.accepted, `${seen}; expected ${bounds.min}..${bounds.max} (${bounds.why})`).toBeLessThanOrEqual(bounds.max);
    expect(Object.keys(volleyed.refused), `${seen}: refusals must all be ${truth.status}`).toEqual([String(truth.status)]);
    for (const header of truth.headers) {
      expect(
        volleyed.answers.some((answer) => answer.headers[header] !== undefined),
        `${preset}: header ${header}`,
      ).toBe(true);
    }
    // Keyed per x-api-key: another key is not throttled by the first one's volley.
    const other = await fetch(`${limiter.url}/api/items`, { headers: { 'x-api-key': `gc-${randomUUID()}` } });
    expect(other.status, `${preset}: a second key`).toBe(200);
    await other.text();
    more?.(limiter, volleyed);
  } catch (error) {
    if (error instanceof Error) error.message += `\n--- ${preset} log ---\n${limiter.log().trim() || '(empty)'}`;
    throw error;
  } finally {
    t = performance.now();
    await limiter.stop();
  }
  const stopMs = performance.now() - t;

  // Nothing left: no process, no listener, no directory.
  expect(limiter.pids.length, `${preset}: pids recorded`).toBeGreaterThan(0);
  expect(limiter.pids.filter(isRunning), `${preset}: processes still running after stop()`).toEqual([]);
  for (const port of limiter.ports) expect(await listening(port), `${preset}: port ${port} still listening`).toBe(false);
  expect(existsSync(limiter.dir), `${preset}: ${limiter.dir} left behind`).toBe(false);
  return { preset, startMs, volleyMs: volleyed.wallMs, stopMs, sent, accepted: volleyed.accepted, bounds, refused: volleyed.refused };
}

/** One line for the test output: what was measured, and how long each phase took. */
export function describeResult(result: SanityResult): string {
  const { preset, sent, accepted, bounds, refused } = result;
  const ms = (value: number): string => `${value.toFixed(0)} ms`;
  return (
    `${preset}: ${accepted}/${sent} accepted (bounds ${bounds.min}..${bounds.max}), refused ${JSON.stringify(refused)}; ` +
    `start ${ms(result.startMs)}, volley ${ms(result.volleyMs)}, stop ${ms(result.stopMs)}`
  );
}

/**
 * The whole sanity suite for one kind: "installed", one cold-volley test per preset, then `more` (tests of
 * the kind's other claims, registered inside the same describe). Skipped when the
 * kind is not installed, unless CI is set: then it fails (.ci/run installs every limiter).
 */
export function sanitySuite(kind: LimiterKind, presets: readonly LimiterPresetName[], more?: () => void): void {
  const run = limiterAvailable(kind) || Boolean(process.env.CI);
  if (!run) console.warn(`${kind} harness skipped: needs ${LIMITER_REQUIREMENTS[kind]}; under CI=true this fails`);
  describe.skipIf(!run)(`${kind} harness`, { timeout: 30_000 }, () => {
    it(`finds ${kind} installed`, () => {
      expect(limiterAvailable(kind), LIMITER_REQUIREMENTS[kind]).toBe(true);
    });
    for (const preset of presets) {
      it(`${preset}: a cold volley of 2x the cold burst is accepted and refused as its truth says, and stop() leaves nothing`, async () => {
        console.info(describeResult(await coldVolleySanity(preset)));
      });
    }
    more?.();
  });
}
