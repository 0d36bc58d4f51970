import type { Observation } from '../../engine/observation.js';
import { Timeline } from '../../engine/timeline.js';
import type { BucketLimits } from '../../engine/throttle-model.js';
import { simulateBucket } from './estimate.js';

/** Width of one window of the report's chart, ms. */
export const CHART_WINDOW_MS = 100;

/**
 * What the probe saw per window from its first send, beside what a bucket with the configured
 * values would have accepted for the same send times: data for the report's chart
 * (src/report/render/throttle.ts draws it).
 */
export interface ThrottleTimeline {
  windowMs: number;
  /** The configured bucket behind `theoretical`. */
  bucket: BucketLimits;
  /** Accepted (the route's normal answer) per window. */
  accepted: number[];
  /** Throttled (429) per window. */
  throttled: number[];
  /** What the configured bucket, full at the first send and refilling continuously, would have accepted. */
  theoretical: number[];
}

/** The volley's and the paced phase's answers per window; null when nothing was sent. */
export function throttleTimeline(
  answers: Observation[],
  isAccepted: (o: Observation) => boolean,
  bucket: BucketLimits,
  isRefused: (o: Observation) => boolean = (o) => o.status === 429,
): ThrottleTimeline | null {
  if (answers.length === 0) return null;
  const sorted = [...answers].sort((a, b) => a.sentAtMs - b.sentAtMs);
  const origin = sorted[0]!.sentAtMs;
  const seen = new Timeline(origin, CHART_WINDOW_MS);
  const theory = new Timeline(origin, CHART_WINDOW_MS);
  const expectedAccepts = simulateBucket(
    sorted.map((o) => o.sentAtMs),
    bucket.rateLimit,
    bucket.burstLimit,
  );
  sorted.forEach((o, i) => {
    seen.add(o.sentAtMs, isAccepted(o) ? 'accepted' : isRefused(o) ? 'throttled' : 'other');
    theory.add(o.sentAtMs, expectedAccepts[i] ? 'accepted' : 'throttled');
  });
  const windows = seen.counts();
  const theoretical = theory.counts();
  return {
    windowMs: CHART_WINDOW_MS,
    bucket: { rateLimit: bucket.rateLimit, burstLimit: bucket.burstLimit },
    accepted: windows.map((w) => w.accepted),
    throttled: windows.map((w) => w.throttled),
    theoretical: windows.map((_, i) => theoretical[i]?.accepted ?? 0),
  };
}
