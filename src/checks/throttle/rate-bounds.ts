/**
 * Bounds on a limiter's long-run rate that hold whatever the client's timing was: they read only the order of
 * sends and each request's send..answer interval, never an estimated arrival. A model fit (identify/) pins the
 * rate far tighter, but its one-step replay forgives each request its interval: on a busy client, where every
 * interval is 100 ms wide, a fit can drift to a rate the data as a whole rules out. These bounds say what the
 * data as a whole allows; a throttle verdict off the policy must agree with them (identified.ts).
 *
 * Lower bound. After a refusal the limiter holds less than one request's worth (a bucket below one token; a
 * window at its limit). Every request accepted after that refusal reached the server needs capacity that came in
 * after it, so `accepted − carry ≤ rate · (last answer − refusal's send)`, where `carry` is what may be left at
 * once (1 for a bucket; a window's limit or a timer's fill, which can reopen whole). Only accepts sent after
 * the refusal was answered are counted: those surely arrived after it.
 *
 * Upper bound. Between two consecutive refusals a bucket went from below one token to below one token, so the
 * accepts between them equal the refill less what overflowed. Overflow needs the bucket full, and then at least
 * B − 1 accepts to drain it before the next refusal: with fewer accepts between every two refusals of a run,
 * nothing overflowed and `rate · (span) < accepts + 1` over the run. The span is the least the arrivals can be
 * apart (last refusal's send − first refusal's answer); the accepts, every one that may have arrived within it.
 * Only for buckets: a window refuses for the rest of its window with no accept at all, which says nothing about
 * its rate. An integer bucket (vsthrottle) loses under one token at every accept: `lossPerAccept` 1.
 */

/** One answered request, ms on any one clock. */
export interface TimedOutcome {
  sentAtMs: number;
  doneAtMs: number;
  accepted: boolean;
}

export interface RateBounds {
  /** The rate is at least this (requests/s); 0 when nothing bounds it. */
  lowerPerSec: number;
  /** The rate is below this (requests/s); Infinity when no run of refusals bounds it. */
  upperPerSec: number;
  /** Requests and span behind each bound, for the evidence. */
  lowerFrom: { accepted: number; spanMs: number } | null;
  upperFrom: { accepted: number; spanMs: number; refusals: number } | null;
}

export interface RateBoundOptions {
  /** What a limiter may admit at once right after a refusal (1 for a bucket). */
  carry: number;
  /**
   * Buckets only (undefined: no upper bound): the smallest bucket the limiter can have (a lower bound on B), runs
   * with B − 1 accepts between refusals are cut; and what it may lose per accept (an integer bucket's fraction).
   */
  bucket?: { minBurst: number; lossPerAccept: number };
}

/** A span shorter than this says nothing about a rate (timer granularity). */
const MIN_SPAN_MS = 200;

export function rateBounds(requests: readonly TimedOutcome[], options: RateBoundOptions): RateBounds {
  const sorted = [...requests].sort((a, b) => a.sentAtMs - b.sentAtMs);
  const upper = options.bucket ? upperBound(sorted, options.bucket) : { upperPerSec: Infinity, upperFrom: null };
  return { ...lowerBound(sorted, options.carry), ...upper };
}

function lowerBound(sorted: readonly TimedOutcome[], carry: number): Pick<RateBounds, 'lowerPerSec' | 'lowerFrom'> {
  let best: Pick<RateBounds, 'lowerPerSec' | 'lowerFrom'> = { lowerPerSec: 0, lowerFrom: null };
  for (const refusal of sorted) {
    if (refusal.accepted) continue;
    let accepted = 0;
    let lastDone = -Infinity;
    for (const later of sorted) {
      if (!later.accepted || later.sentAtMs <= refusal.doneAtMs) continue;
      accepted++;
      lastDone = Math.max(lastDone, later.doneAtMs);
      const spanMs = lastDone - refusal.sentAtMs;
      if (spanMs < MIN_SPAN_MS) continue;
      const rate = ((accepted - carry) / spanMs) * 1000;
      if (rate > best.lowerPerSec) best = { lowerPerSec: rate, lowerFrom: { accepted, spanMs } };
    }
  }
  return best;
}

function upperBound(
  sorted: readonly TimedOutcome[],
  { minBurst, lossPerAccept }: { minBurst: number; lossPerAccept: number },
): Pick<RateBounds, 'upperPerSec' | 'upperFrom'> {
  const refusals = sorted.filter((r) => !r.accepted);
  const accepts = sorted.filter((r) => r.accepted);
  // Accepts that may have arrived between two refusals' possible arrivals [a.sent, b.done].
  const between = (a: TimedOutcome, b: TimedOutcome) => accepts.filter((k) => k.doneAtMs >= a.sentAtMs && k.sentAtMs <= b.doneAtMs).length;
  let best: Pick<RateBounds, 'upperPerSec' | 'upperFrom'> = { upperPerSec: Infinity, upperFrom: null };
  let start = 0;
  while (start < refusals.length) {
    // Extend the run while no overflow is possible between consecutive refusals.
    let end = start;
    while (end + 1 < refusals.length && between(refusals[end]!, refusals[end + 1]!) < minBurst - 1) end++;
    if (end > start) {
      const first = refusals[start]!;
      const last = refusals[end]!;
      const spanMs = last.sentAtMs - first.doneAtMs;
      if (spanMs >= MIN_SPAN_MS) {
        const accepted = between(first, last);
        const rate = ((accepted * (1 + lossPerAccept) + 1) / spanMs) * 1000;
        if (rate < best.upperPerSec) best = { upperPerSec: rate, upperFrom: { accepted, spanMs, refusals: end - start + 1 } };
      }
    }
    start = end + 1;
  }
  return best;
}
