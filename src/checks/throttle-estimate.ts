/**
 * Fitting a token bucket to what the client saw. Pure arithmetic over (send time, accepted?)
 * pairs, so it is tested with synthetic timelines and reused by every engine (paced, k6).
 *
 * Model (AWS, nginx limit_req nodelay): a bucket of `burst` tokens refilled at `rate` per second.
 * From an idle (full) bucket, a volley of V > burst simultaneous requests is accepted
 * burst + rate·span times (span = how long the volley took to leave). A paced run above the
 * rate then finds the bucket empty, and accepted(t) grows with slope `rate`:
 *     accepted(t) ≈ c + rate·t       (c absorbs tokens refilled between the phases)
 * so the rate is the least-squares slope of cumulative accepts over the paced phase, and the
 * burst is the volley's accepts less what the bucket refilled during the volley.
 */

export interface TimedAnswer {
  /** Send time, ms on the run clock. */
  atMs: number;
  /** When the answer arrived (bounds when the gateway decided), ms on the run clock. */
  doneAtMs?: number;
  accepted: boolean;
  throttled: boolean;
}

export interface BucketEstimate {
  /** Refill rate, requests/s; `rateIsLowerBound` when the paced phase's second half saw no 429. */
  ratePerSec?: number;
  /** ± one standard error of the slope, plus the ±1-request quantisation over the phase. */
  rateUncertaintyPerSec?: number;
  rateIsLowerBound: boolean;
  /** Bucket capacity in requests; `burstIsLowerBound` when the volley saw no 429. */
  burst?: number;
  burstIsLowerBound: boolean;
  burstUncertainty?: number;
  /** Rate the paced phase actually offered (sent/duration). */
  offeredRatePerSec: number;
  /** ms from the first volley send to the first 429, if any. */
  firstThrottleAtMs?: number;
  /** spanMs: first to last send; windowMs: first send to last answer, the longest the gateway can have spent deciding. */
  volley: { sent: number; accepted: number; throttled: number; spanMs: number; windowMs: number };
  paced: { sent: number; accepted: number; throttled: number; durationMs: number };
}

export function estimateBucket(volley: TimedAnswer[], paced: TimedAnswer[]): BucketEstimate {
  const t0 = volley[0]?.atMs ?? paced[0]?.atMs ?? 0;
  const volleySpanMs = volley.length ? Math.max(...volley.map((a) => a.atMs)) - Math.min(...volley.map((a) => a.atMs)) : 0;
  const volleyWindowMs = volley.length ? Math.max(...volley.map((a) => a.doneAtMs ?? a.atMs)) - Math.min(...volley.map((a) => a.atMs)) : 0;
  const volleyAccepted = volley.filter((a) => a.accepted).length;
  const volleyThrottled = volley.filter((a) => a.throttled).length;

  const pacedSorted = [...paced].sort((a, b) => a.atMs - b.atMs);
  const pacedDurationMs = pacedSorted.length > 1 ? pacedSorted[pacedSorted.length - 1]!.atMs - pacedSorted[0]!.atMs : 0;
  const pacedAccepted = pacedSorted.filter((a) => a.accepted);
  const pacedThrottled = pacedSorted.filter((a) => a.throttled).length;
  const offeredRatePerSec = pacedDurationMs > 0 ? ((pacedSorted.length - 1) / pacedDurationMs) * 1000 : 0;

  const all = [...volley, ...pacedSorted];
  const firstThrottle = all.find((a) => a.throttled);
  // The slope measures the refill rate only while the bucket stays empty, i.e. while requests
  // keep being throttled. If the second half of the phase saw no 429, the client offered less
  // than the bucket refills (early 429s were just the volley's leftovers): the slope is then
  // the offered rate, a lower bound on the limit, not the limit.
  const halfMs = (pacedSorted[0]?.atMs ?? 0) + pacedDurationMs / 2;
  const throttledLate = pacedSorted.some((a) => a.throttled && a.atMs >= halfMs);
  const estimate: BucketEstimate = {
    rateIsLowerBound: !throttledLate,
    burstIsLowerBound: volleyThrottled === 0,
    offeredRatePerSec,
    volley: { sent: volley.length, accepted: volleyAccepted, throttled: volleyThrottled, spanMs: volleySpanMs, windowMs: volleyWindowMs },
    paced: { sent: pacedSorted.length, accepted: pacedAccepted.length, throttled: pacedThrottled, durationMs: pacedDurationMs },
    ...(firstThrottle ? { firstThrottleAtMs: firstThrottle.atMs - t0 } : {}),
  };

  // Fit only from the paced phase's first 429 on: before it the bucket may still hold tokens
  // (refilled while the volley was in flight), which would bias the slope upwards.
  const firstPacedThrottleMs = pacedSorted.find((a) => a.throttled)?.atMs ?? -Infinity;
  const fitted = pacedAccepted.filter((a) => a.atMs >= firstPacedThrottleMs);
  if (fitted.length >= 3 && pacedDurationMs > 0) {
    const fit = fitLine(fitted.map((a, i) => [a.atMs / 1000, i + 1] as const));
    // Without throttling the slope is just what was offered: the true rate is at least that.
    estimate.ratePerSec = fit.slope;
    const fittedSpanMs = fitted[fitted.length - 1]!.atMs - fitted[0]!.atMs;
    const quantisation = fittedSpanMs > 0 ? 1000 / fittedSpanMs : Infinity;
    estimate.rateUncertaintyPerSec = fit.slopeStdErr + quantisation;
  }
  if (volley.length > 0) {
    const refilledDuringVolley = ((estimate.ratePerSec ?? 0) * volleySpanMs) / 1000;
    estimate.burst = Math.max(0, volleyAccepted - refilledDuringVolley);
    estimate.burstUncertainty = 1 + refilledDuringVolley;
  }
  return estimate;
}

/** Ordinary least squares y = a + b·x, with the slope's standard error. */
export function fitLine(points: ReadonlyArray<readonly [number, number]>): { slope: number; intercept: number; slopeStdErr: number } {
  const n = points.length;
  const meanX = points.reduce((s, [x]) => s + x, 0) / n;
  const meanY = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - meanX) ** 2;
    sxy += (x - meanX) * (y - meanY);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const intercept = meanY - slope * meanX;
  let sse = 0;
  for (const [x, y] of points) sse += (y - intercept - slope * x) ** 2;
  const slopeStdErr = n > 2 && sxx > 0 ? Math.sqrt(sse / (n - 2) / sxx) : 0;
  return { slope, intercept, slopeStdErr };
}

/**
 * What a bucket with the configured values would have accepted for the same send times:
 * the report's theoretical curve. Starts full, refills continuously.
 */
export function simulateBucket(sendTimesMs: number[], ratePerSec: number, burst: number): boolean[] {
  let tokens = burst;
  let lastMs = sendTimesMs[0] ?? 0;
  return sendTimesMs.map((atMs) => {
    tokens = Math.min(burst, tokens + ((atMs - lastMs) / 1000) * ratePerSec);
    lastMs = atMs;
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  });
}

export interface ThrottleTolerance {
  rateLimit: number;
  burstLimit: number;
  tolerance: number;
}

export type ThrottleJudgement =
  | { status: 'pass' | 'fail' | 'inconclusive'; reasons: string[] };

/**
 * Pure verdict. Pass needs both values measured (not bounds) and inside tolerance. A lower
 * bound already above the allowed maximum is a fail (the gateway let more through than the
 * policy allows); a lower bound below it is inconclusive (the client could not push hard enough).
 */
export function judgeBucket(estimate: BucketEstimate, limits: ThrottleTolerance): ThrottleJudgement {
  const reasons: string[] = [];
  let failed = false;
  let undecided = false;
  const rateMax = limits.rateLimit * (1 + limits.tolerance);
  const rateMin = limits.rateLimit * (1 - limits.tolerance);
  const burstSlack = Math.max(1, limits.burstLimit * limits.tolerance);

  if (estimate.ratePerSec === undefined) {
    undecided = true;
    reasons.push('too few accepted requests in the paced phase to fit a rate');
  } else if (estimate.rateIsLowerBound) {
    if (estimate.ratePerSec > rateMax) {
      failed = true;
      reasons.push(`no 429 through the paced phase at ${estimate.offeredRatePerSec.toFixed(1)}/s offered: the rate is at least ${estimate.ratePerSec.toFixed(1)}/s, above ${limits.rateLimit}/s +${pct(limits.tolerance)}`);
    } else {
      undecided = true;
      reasons.push(`no 429 through the paced phase, but only ${estimate.offeredRatePerSec.toFixed(1)}/s was offered: cannot tell the rate (client-bound)`);
    }
  } else if (estimate.ratePerSec > rateMax || estimate.ratePerSec < rateMin) {
    failed = true;
    reasons.push(`rate ${estimate.ratePerSec.toFixed(1)}/s is outside ${limits.rateLimit}/s ±${pct(limits.tolerance)}`);
  } else {
    reasons.push(`rate ${estimate.ratePerSec.toFixed(1)}/s within ${limits.rateLimit}/s ±${pct(limits.tolerance)}`);
  }

  if (estimate.burst === undefined) {
    undecided = true;
    reasons.push('no volley was sent');
  } else if (estimate.burstIsLowerBound) {
    // Before calling an unthrottled volley too large, allow every token the configured bucket
    // could have refilled while the gateway was still deciding (first send to last answer):
    // at high rates a volley that takes a few ms legitimately gets that many more through.
    const refillAllowance = (rateMax * estimate.volley.windowMs) / 1000;
    if (estimate.volley.accepted - refillAllowance > limits.burstLimit + burstSlack) {
      failed = true;
      reasons.push(`all ${estimate.volley.sent} volley requests accepted: burst is at least ${estimate.volley.accepted}, above ${limits.burstLimit}`);
    } else {
      undecided = true;
      reasons.push(`the volley of ${estimate.volley.sent} was not throttled, but it took ${estimate.volley.windowMs.toFixed(1)} ms, in which a bucket at ${limits.rateLimit}/s refills ${refillAllowance.toFixed(1)} tokens: cannot tell the burst (client-bound)`);
    }
  } else if (burstOutside(estimate, limits.burstLimit, burstSlack)) {
    failed = true;
    reasons.push(`burst ${estimate.burst.toFixed(1)} is outside ${limits.burstLimit} ±${burstSlack.toFixed(1)}`);
  } else {
    reasons.push(`burst ${estimate.burst.toFixed(1)} within ${limits.burstLimit} ±${burstSlack.toFixed(1)}`);
  }
  return { status: failed ? 'fail' : undecided ? 'inconclusive' : 'pass', reasons };
}

/**
 * The point estimate subtracts the refill over the volley's send span. The gateway may have
 * decided later than the requests left (a loaded client, a WAF taking a millisecond per
 * request), up to the last answer: the refill over that whole window gives the low end of the
 * burst. A burst is out of tolerance only when the whole interval is: a loaded machine then
 * cannot fail a correct gateway, while a bucket that is really too big or too small still fails.
 */
function burstOutside(estimate: BucketEstimate, burstLimit: number, slack: number): boolean {
  const high = estimate.burst!;
  const low = Math.max(0, estimate.volley.accepted - ((estimate.ratePerSec ?? 0) * estimate.volley.windowMs) / 1000);
  return high < burstLimit - slack || low > burstLimit + slack;
}

function pct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** The estimate as report.json shows it: rounded, with nulls for what could not be measured. */
export function summariseEstimate(estimate: BucketEstimate): Record<string, unknown> {
  const r = (v: number | undefined, digits = 2) => (v === undefined ? null : Number(v.toFixed(digits)));
  return {
    ratePerSec: r(estimate.ratePerSec),
    rateUncertaintyPerSec: r(estimate.rateUncertaintyPerSec),
    rateIsLowerBound: estimate.rateIsLowerBound,
    burst: r(estimate.burst, 1),
    burstUncertainty: r(estimate.burstUncertainty, 1),
    burstIsLowerBound: estimate.burstIsLowerBound,
    firstThrottleAtMs: r(estimate.firstThrottleAtMs, 1),
    offeredRatePerSec: r(estimate.offeredRatePerSec),
    volley: estimate.volley,
    paced: estimate.paced,
  };
}
