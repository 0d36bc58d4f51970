/**
 * Helpers for the tests that check a truth's less obvious claims (lockouts, whole-second refills, nginx's
 * burst+1 after idle) with a volley and a paced stream. Each claim is asserted only when the measured
 * times make it decidable; otherwise the test says why and is skipped, never retried.
 */
import { LIMITER_PRESETS, startLimiter, type LimiterPresetName, type RunningLimiter } from './index.js';
import type { Volley } from './volley.js';

/** Starts the preset, runs `body`, stops it; a failure carries the limiter's log. */
export async function withLimiter<T>(preset: LimiterPresetName, body: (limiter: RunningLimiter) => Promise<T>): Promise<T> {
  const limiter = await startLimiter(LIMITER_PRESETS[preset], preset);
  try {
    return await body(limiter);
  } catch (error) {
    if (error instanceof Error) error.message += `\n--- ${preset} log ---\n${limiter.log().trim() || '(empty)'}`;
    throw error;
  } finally {
    await limiter.stop();
  }
}

/**
 * The longest time between two consecutive arrivals at the limiter, bounded from above with measured
 * times: arrival(i+1) - arrival(i) <= arrivedBy(i+1) - sentAt(i). Requests sorted by send time.
 */
export function maxArrivalGapMs(...runs: Volley[]): number {
  const answers = runs.flatMap((run) => run.answers).sort((a, b) => a.sentAt - b.sentAt);
  let gap = 0;
  for (let i = 1; i < answers.length; i++) gap = Math.max(gap, answers[i]!.arrivedBy - answers[i - 1]!.sentAt);
  return gap;
}
