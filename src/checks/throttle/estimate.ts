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
  /** Half the drained span's rate interval; without one, ± one standard error of the slope plus the ±1-request quantisation. */
  rateUncertaintyPerSec?: number;
  /** The least-squares slope of cumulative accepts over send times, when the drained span gave the rate. */
  slopePerSec?: number;
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
  /** The paced phase between its first and its last 429, when it had two: see DrainedSpan. */
  drained?: DrainedSpan;
}

/**
 * Between two throttled requests the bucket was empty (under one token) at both ends, so every
 * token it refilled in between was either taken by an accepted request or lost because the
 * bucket overflowed. Without overflow, accepted = rate·Δ ± 1, where Δ is the time between the two
 * decisions. The gateway decided each request between its send and its answer, so
 * Δ ∈ [spanMinMs, spanMaxMs]: the rate interval follows from the arithmetic, not from a
 * tolerance, and a loaded client or a slow gateway only widens it.
 */
export interface DrainedSpan {
  /** Accepted requests strictly between the first and the last 429. */
  accepted: number;
  /** Last 429 sent → first 429 answered: the shortest Δ can have been (0 when they overlap). */
  spanMinMs: number;
  /** First 429 sent → last 429 answered: the longest Δ can have been. */
  spanMaxMs: number;
  /**
   * The stretches between consecutive 429s: requests accepted in each and the longest it can
   * have lasted (the earlier 429's send to the later one's answer). couldHaveFilled() reads them.
   * Pareto-pruned (a stretch both shorter and with fewer accepts than another says nothing more).
   */
  segments: Array<{ accepted: number; spanMaxMs: number }>;
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
  const drained = drainedSpan(pacedSorted);
  if (drained) {
    estimate.drained = drained;
    // Between two 429s the refill was accepted: accepted / Δ, with Δ at the middle of its bounds,
    // is the rate. Unlike a slope over send times it does not move when the gateway decides late
    // (a loaded machine, a WAF in front): that only widens Δ's bounds, both ways alike.
    if (!estimate.rateIsLowerBound && drained.accepted >= 3 && drained.spanMinMs + drained.spanMaxMs > 0) {
      const { low, high } = drainedRateInterval(drained);
      estimate.slopePerSec = estimate.ratePerSec;
      estimate.ratePerSec = (drained.accepted / ((drained.spanMinMs + drained.spanMaxMs) / 2)) * 1000;
      estimate.rateUncertaintyPerSec = Number.isFinite(high) ? (high - low) / 2 : estimate.rateUncertaintyPerSec;
    }
  }
  if (volley.length > 0) {
    const refilledDuringVolley = ((estimate.ratePerSec ?? 0) * volleySpanMs) / 1000;
    estimate.burst = Math.max(0, volleyAccepted - refilledDuringVolley);
    estimate.burstUncertainty = 1 + refilledDuringVolley;
  }
  return estimate;
}

/** The paced phase from its first to its last 429 (sorted by send time), or undefined with fewer than two. */
export function drainedSpan(paced: readonly TimedAnswer[]): DrainedSpan | undefined {
  const first = paced.findIndex((a) => a.throttled);
  let last = -1;
  for (let i = paced.length - 1; i > first; i--) {
    if (paced[i]!.throttled) {
      last = i;
      break;
    }
  }
  if (first < 0 || last < 0) return undefined;
  const start = paced[first]!;
  const end = paced[last]!;
  const segments: DrainedSpan['segments'] = [];
  let accepted = 0;
  // Every 429 says the bucket held under one token when it was decided, which was no earlier
  // than its send time and no later than its answer.
  let segmentStart = start;
  let acceptedInSegment = 0;
  for (let i = first + 1; i <= last; i++) {
    const answer = paced[i]!;
    if (answer.accepted) {
      accepted++;
      acceptedInSegment++;
    } else if (answer.throttled) {
      segments.push({ accepted: acceptedInSegment, spanMaxMs: (answer.doneAtMs ?? answer.atMs) - segmentStart.atMs });
      segmentStart = answer;
      acceptedInSegment = 0;
    }
  }
  return {
    accepted,
    spanMinMs: Math.max(0, end.atMs - (start.doneAtMs ?? start.atMs)),
    spanMaxMs: (end.doneAtMs ?? end.atMs) - start.atMs,
    segments: paretoFront(segments),
  };
}

/** Keeps the stretches no other one beats on both counts (longer, and more accepted). */
function paretoFront(segments: DrainedSpan['segments']): DrainedSpan['segments'] {
  const sorted = [...segments].sort((a, b) => b.accepted - a.accepted || b.spanMaxMs - a.spanMaxMs);
  const kept: DrainedSpan['segments'] = [];
  let longest = -Infinity;
  for (const segment of sorted) {
    if (segment.spanMaxMs <= longest) continue;
    kept.push(segment);
    longest = segment.spanMaxMs;
  }
  return kept;
}

/** The refill rates the drained span allows: [(A−1)/Δmax, (A+1)/Δmin] requests per second. */
export function drainedRateInterval(span: DrainedSpan): { low: number; high: number } {
  const low = span.spanMaxMs > 0 ? (Math.max(0, span.accepted - 1) / span.spanMaxMs) * 1000 : 0;
  const high = span.spanMinMs > 0 ? ((span.accepted + 1) / span.spanMinMs) * 1000 : Infinity;
  return { low, high };
}

/**
 * Whether a bucket refilling at `ratePerSec` with `capacity` tokens can have filled up between
 * two 429s: then refill was lost (the client paused, or offered less than the rate) and the
 * accepted count only bounds the rate from below. Filling up from under one token takes
 * (capacity − 1)/rate seconds, and draining a full bucket to the next 429 takes capacity − 1
 * accepted requests: a stretch with fewer accepts, or shorter than that, cannot have overflowed.
 * Tokens are monotone in the rate, so asking at the smallest rate the policy allows settles
 * "could a correct gateway look this slow?".
 */
export function couldHaveFilled(span: DrainedSpan, ratePerSec: number, capacity: number): boolean {
  const need = Math.max(0, capacity - 1);
  return span.segments.some((s) => s.accepted >= need && (ratePerSec * s.spanMaxMs) / 1000 >= need);
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

/** How a measured bucket is off its policy: a slug each (stable ids, src/checks/findings.ts). */
export type ThrottleProblemKind = 'rate-too-high' | 'rate-too-low' | 'burst-too-large' | 'burst-too-small';

/** One part of the bucket measured outside its tolerance: what, and the measured interval against the policy's. */
export interface ThrottleProblem {
  kind: ThrottleProblemKind;
  /** The reason as the summary words it: the measured value or interval, and the policy's band. */
  detail: string;
}

export interface ThrottleJudgement {
  /**
   * fail only when every part was decided and one is outside its tolerance; a part outside beside
   * one the client could not decide is inconclusive with its problem listed (the gate fails it when
   * the problem gates), so a lower gate never passes what was not observed.
   */
  status: 'pass' | 'fail' | 'inconclusive';
  reasons: string[];
  /** What is outside the tolerance, whatever the status. */
  problems: ThrottleProblem[];
  /**
   * The requests did not reach the gateway densely enough to keep its bucket empty (or the
   * volley was too slow to overflow it): decided from what was measured, never from the plan.
   */
  clientBound: boolean;
}

/**
 * Pure verdict. Pass needs both values measured (not bounds) and inside tolerance. A lower
 * bound already above the allowed maximum is a fail (the gateway let more through than the
 * policy allows); a lower bound below it is inconclusive (the client could not push hard enough).
 * The rate fails only when its whole interval (DrainedSpan) lies outside the tolerance, and a
 * rate too low only when the bucket cannot have refilled unused: so a busy client, which sends
 * late and in clumps, can make the verdict inconclusive but never fail a correct gateway.
 */
export function judgeBucket(estimate: BucketEstimate, limits: ThrottleTolerance): ThrottleJudgement {
  const rate = judgeRate(estimate, limits);
  const burst = judgeBurst(estimate, limits);
  const statuses = [rate.status, burst.status];
  const status = statuses.includes('inconclusive') ? 'inconclusive' : statuses.includes('fail') ? 'fail' : 'pass';
  return {
    status,
    reasons: [...rate.reasons, ...burst.reasons],
    problems: [...rate.problems, ...burst.problems],
    clientBound: rate.clientBound || burst.clientBound,
  };
}

type PartStatus = ThrottleJudgement['status'];

function part(status: PartStatus, reason: string, clientBound = false): ThrottleJudgement {
  return { status, reasons: [reason], problems: [], clientBound };
}

function outside(kind: ThrottleProblemKind, reason: string): ThrottleJudgement {
  return { status: 'fail', reasons: [reason], problems: [{ kind, detail: reason }], clientBound: false };
}

function judgeRate(estimate: BucketEstimate, limits: ThrottleTolerance): ThrottleJudgement {
  const rateMax = limits.rateLimit * (1 + limits.tolerance);
  const rateMin = limits.rateLimit * (1 - limits.tolerance);
  const band = `${limits.rateLimit}/s ±${pct(limits.tolerance)}`;
  const offered = estimate.offeredRatePerSec.toFixed(1);
  if (estimate.ratePerSec === undefined) return part('inconclusive', 'too few accepted requests in the paced phase to fit a rate');
  const point = estimate.ratePerSec;
  const span = estimate.drained;
  if (estimate.rateIsLowerBound || !span) {
    if (point > rateMax) {
      const text =
        `no 429 through the paced phase at ${offered}/s offered` +
        `: the rate is at least ${point.toFixed(1)}/s, above ${limits.rateLimit}/s +${pct(limits.tolerance)}`;
      return outside('rate-too-high', text);
    }
    return part(
      'inconclusive',
      `no 429 through the paced phase, but only ${offered}/s was offered: cannot tell the rate (client-bound)`,
      true,
    );
  }
  const { low, high } = drainedRateInterval(span);
  const interval = `decision times allow ${low.toFixed(1)}–${Number.isFinite(high) ? high.toFixed(1) : '∞'}/s`;
  if (low > rateMax) return outside('rate-too-high', `rate ${point.toFixed(1)}/s is outside ${band} (${interval})`);
  // A correct gateway's smallest bucket: if even that can have filled up between two 429s, refill
  // was lost and the accepted count only bounds the rate from below.
  const smallestBucket = limits.burstLimit - Math.max(1, limits.burstLimit * limits.tolerance);
  const lossAtMin = couldHaveFilled(span, rateMin, smallestBucket);
  if (high < rateMin && !lossAtMin) return outside('rate-too-low', `rate ${point.toFixed(1)}/s is outside ${band} (${interval})`);
  // A pass needs the client to have offered clearly more (a fifth) than the policy allows, and
  // the 429s to have come densely enough that no refill can have been lost (for buckets above 2:
  // a bucket of 1 or 2 sits full between any two requests, and the offered rate speaks for it).
  const measuredBucket = Math.max(1, estimate.burst ?? 1);
  const lossAtMax = measuredBucket > 2 && couldHaveFilled(span, rateMax, measuredBucket);
  const offeredEnough = estimate.offeredRatePerSec >= rateMax * 1.2;
  if (point >= rateMin && point <= rateMax && !lossAtMax && offeredEnough) {
    return part('pass', `rate ${point.toFixed(1)}/s within ${band}`);
  }
  if (lossAtMin || lossAtMax || !offeredEnough) {
    const text =
      `rate ${point.toFixed(1)}/s, but only ${offered}/s was offered and the bucket may have refilled unused between 429s` +
      `: the accepted rate is a lower bound (client-bound)`;
    return part('inconclusive', text, true);
  }
  return part('inconclusive', `rate ${point.toFixed(1)}/s is outside ${band}, but the ${interval}: cannot decide`);
}

function judgeBurst(estimate: BucketEstimate, limits: ThrottleTolerance): ThrottleJudgement {
  const rateMax = limits.rateLimit * (1 + limits.tolerance);
  const burstSlack = Math.max(1, limits.burstLimit * limits.tolerance);
  const band = `${limits.burstLimit} ±${burstSlack.toFixed(1)}`;
  if (estimate.burst === undefined) return part('inconclusive', 'no volley was sent');
  if (estimate.burstIsLowerBound) {
    // Before calling an unthrottled volley too large, allow every token the configured bucket
    // could have refilled while the gateway was still deciding (first send to last answer):
    // at high rates a volley that takes a few ms legitimately gets that many more through.
    const refillAllowance = (rateMax * estimate.volley.windowMs) / 1000;
    if (estimate.volley.accepted - refillAllowance > limits.burstLimit + burstSlack) {
      const sent = estimate.volley.sent;
      return outside(
        'burst-too-large',
        `all ${sent} volley requests accepted: burst is at least ${estimate.volley.accepted}, above ${band}`,
      );
    }
    const took =
      `it took ${estimate.volley.windowMs.toFixed(1)} ms` +
      `, in which a bucket at ${limits.rateLimit}/s refills ${refillAllowance.toFixed(1)} tokens`;
    return part(
      'inconclusive',
      `the volley of ${estimate.volley.sent} was not throttled, but ${took}: cannot tell the burst (client-bound)`,
      true,
    );
  }
  const { low, high } = burstInterval(estimate, rateMax);
  const allowed = `the volley's decision window allows ${low.toFixed(1)}–${high.toFixed(1)}`;
  const measured = `burst ${estimate.burst.toFixed(1)} is outside ${band} (${allowed})`;
  if (high < limits.burstLimit - burstSlack) return outside('burst-too-small', measured);
  if (low > limits.burstLimit + burstSlack) return outside('burst-too-large', measured);
  return part('pass', `burst ${estimate.burst.toFixed(1)} within ${band}`);
}

/**
 * The point estimate subtracts the refill over the volley's send span. The gateway may have
 * decided later than the requests left (a loaded client, a WAF taking a millisecond per
 * request), up to the last answer: the refill over that whole window gives the low end of the
 * burst. A burst is out of tolerance only when the whole interval is: a loaded machine then
 * cannot fail a correct gateway, while a bucket that is really too big or too small still fails.
 * The refill for the low end is at least the policy's highest rate: a measured rate may be only a
 * lower bound (client-bound), and a gateway faster than that fails on its rate anyway.
 */
function burstInterval(estimate: BucketEstimate, rateMax: number): { low: number; high: number } {
  const high = estimate.burst!;
  const refillRate = Math.max(estimate.ratePerSec ?? 0, rateMax);
  const low = Math.max(0, estimate.volley.accepted - (refillRate * estimate.volley.windowMs) / 1000);
  return { low, high };
}

function pct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** The estimate as report.json shows it: rounded, with nulls for what could not be measured. */
export interface EstimateSummary {
  ratePerSec: number | null;
  /** The least-squares slope over send times, for comparison, when the drained span gave the rate. */
  slopePerSec: number | null;
  rateUncertaintyPerSec: number | null;
  rateIsLowerBound: boolean;
  burst: number | null;
  burstUncertainty: number | null;
  burstIsLowerBound: boolean;
  firstThrottleAtMs: number | null;
  offeredRatePerSec: number | null;
  volley: BucketEstimate['volley'];
  paced: BucketEstimate['paced'];
  drained: { accepted: number; spanMinMs: number | null; spanMaxMs: number | null } | null;
}

export function summariseEstimate(estimate: BucketEstimate): EstimateSummary {
  const r = (v: number | undefined, digits = 2) => (v === undefined ? null : Number(v.toFixed(digits)));
  return {
    ratePerSec: r(estimate.ratePerSec),
    slopePerSec: r(estimate.slopePerSec),
    rateUncertaintyPerSec: r(estimate.rateUncertaintyPerSec),
    rateIsLowerBound: estimate.rateIsLowerBound,
    burst: r(estimate.burst, 1),
    burstUncertainty: r(estimate.burstUncertainty, 1),
    burstIsLowerBound: estimate.burstIsLowerBound,
    firstThrottleAtMs: r(estimate.firstThrottleAtMs, 1),
    offeredRatePerSec: r(estimate.offeredRatePerSec),
    volley: estimate.volley,
    paced: estimate.paced,
    drained: estimate.drained
      ? { accepted: estimate.drained.accepted, spanMinMs: r(estimate.drained.spanMinMs, 1), spanMaxMs: r(estimate.drained.spanMaxMs, 1) }
      : null,
  };
}
