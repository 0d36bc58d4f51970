/**
 * Scoring a limiter model against what the client saw. The server decided each request at some instant between
 * its send and its answer; the client knows only that interval. So a model is wrong about a request only when
 * it predicts the other outcome over the whole interval: a request whose predicted outcome flips inside it is
 * no evidence either way. Every model here is monotone in arrival time (a later arrival never finds less
 * capacity), so one end of the interval tells: the latest for an accept, the earliest for a refusal.
 */
import { REFUSED, type LimiterModel } from './models.js';

/** One request as the client saw it: epoch ms. */
export interface ObservedRequest {
  sendMs: number;
  answerMs: number;
  accepted: boolean;
  /** The probe segment it belonged to (see probe.ts), for the evidence. */
  segment: string;
}

/** Observations prepared once per identification (sorted by estimated arrival, typed arrays for speed). */
export interface Prepared {
  readonly n: number;
  /** Earliest and latest instant the server can have decided; the point estimate the state is advanced at. */
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  readonly at: Float64Array;
  readonly accepted: Uint8Array;
  /**
   * A request that took far longer than the ones sent around it: it stalled on the way there or back, so it may
   * have reached the server after requests sent well after it. It is no evidence: a stalled refusal is not
   * replayed (a refusal changes no limiter's state except a counter's), a stalled accept is replayed as late as
   * it can have arrived (it may have opened a window or taken a token after those requests).
   */
  readonly stalled: Uint8Array;
  /** Answer latency (ms). */
  readonly latencyMs: Float64Array;
  readonly segment: Int32Array;
  readonly segments: readonly string[];
  /** Round trip of an answer nobody held (ms): median latency of refused requests, else the 10th percentile. */
  readonly baselineMs: number;
  /** Median latency of accepted requests: what an accepted request costs when the limiter holds none. */
  readonly acceptedMedianMs: number;
  /** Spread of the round trip (p90 − p10 of refused answers' latency; 0 with fewer than 5). */
  readonly jitterMs: number;
}

/**
 * How far an answer's latency may be off a model's predicted hold: 10 ms (timer granularity, scheduling), the
 * round trip's own spread (p10..p90 of refused answers), and 15% of the hold (the limiter's timers are coarse).
 */
export function delayToleranceMs(predictedMs: number, jitterMs: number): number {
  return 10 + jitterMs + 0.15 * predictedMs;
}

function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function prepare(observations: readonly ObservedRequest[]): Prepared {
  const latency = (o: ObservedRequest) => Math.max(0, o.answerMs - o.sendMs);
  const refused = observations
    .filter((o) => !o.accepted)
    .map(latency)
    .sort((a, b) => a - b);
  const all = observations.map(latency).sort((a, b) => a - b);
  const baselineMs = refused.length >= 5 ? quantile(refused, 0.5) : quantile(all, 0.1);
  // A refused request is never held, so its latency bounds the trip to the server; without enough of them the
  // answer itself is the only bound (exact for limiters that do not delay).
  const tripCapMs = refused.length >= 5 ? refused[refused.length - 1]! : Infinity;
  const jitterMs = refused.length >= 5 ? quantile(refused, 0.9) - quantile(refused, 0.1) : 0;
  const stallMs = baselineMs + 10 + 3 * jitterMs;
  const stalled = stalledRequests(observations, stallMs);
  const rows = observations.map((o) => {
    const lat = latency(o);
    const hi = o.sendMs + Math.min(lat, tripCapMs);
    const stall = stalled.has(o);
    const at = stall ? Math.max(o.sendMs, hi - baselineMs / 2) : o.sendMs + Math.min(lat, baselineMs) / 2;
    return { o, lo: stall ? at : o.sendMs, hi, at, lat, stall };
  });
  replayOrder(rows, Math.max(1, baselineMs));
  const segments = [...new Set(rows.map((r) => r.o.segment))];
  const n = rows.length;
  const prepared = {
    n,
    lo: new Float64Array(n),
    hi: new Float64Array(n),
    at: new Float64Array(n),
    accepted: new Uint8Array(n),
    stalled: new Uint8Array(n),
    latencyMs: new Float64Array(n),
    segment: new Int32Array(n),
    segments,
    baselineMs,
    jitterMs,
    acceptedMedianMs: quantile(
      observations
        .filter((o) => o.accepted)
        .map(latency)
        .sort((a, b) => a - b),
      0.5,
    ),
  };
  rows.forEach((r, i) => {
    // The model's own clock (when a window opened, a fill fell, a token was taken) rests on estimated arrivals
    // too: a decision is only sure beyond the round trip's spread on either side.
    prepared.lo[i] = r.lo - jitterMs;
    prepared.hi[i] = r.hi + jitterMs;
    prepared.at[i] = r.at;
    prepared.accepted[i] = r.o.accepted ? 1 : 0;
    prepared.stalled[i] = r.stall ? 1 : 0;
    prepared.latencyMs[i] = r.lat;
    prepared.segment[i] = segments.indexOf(r.o.segment);
  });
  return prepared;
}

/**
 * The order to replay requests in. Requests sent close together may have reached the server in any order the
 * intervals allow, and every limiter here admits the first arrivals of a burst and refuses the rest. So an accept
 * is placed at the earliest it can have arrived (its send) and a refusal at the latest (its answer): an accept
 * that could have overtaken a refusal is replayed first, otherwise the estimated order would count as the
 * model's mistake a refusal that merely overtook an accept on the wire. Accepts sent together are replayed in
 * the order of their answers: a delaying limiter serves a burst in arrival order.
 */
/**
 * Refusals slower than stallMs; paced accepts slower than stallMs and than twice (plus stallMs) the accepts sent
 * just before and after (a delaying limiter holds runs of accepts, a stall hits one). Not accepts of a volley: a
 * delaying limiter holds those in arrival order, which the send order shuffles, and all of a volley arrive
 * together anyway.
 */
function stalledRequests(observations: readonly ObservedRequest[], stallMs: number): Set<ObservedRequest> {
  const accepts = observations.filter((o) => o.accepted).sort((a, b) => a.sendMs - b.sendMs);
  const lat = accepts.map((o) => o.answerMs - o.sendMs);
  const out = new Set<ObservedRequest>(observations.filter((o) => !o.accepted && o.answerMs - o.sendMs > stallMs));
  for (let i = 0; i < accepts.length; i++) {
    if (lat[i]! <= stallMs) continue;
    const gapBefore = i > 0 ? accepts[i]!.sendMs - accepts[i - 1]!.sendMs : Infinity;
    const gapAfter = i + 1 < accepts.length ? accepts[i + 1]!.sendMs - accepts[i]!.sendMs : Infinity;
    if (Math.min(gapBefore, gapAfter) < 1) continue;
    const around = [...lat.slice(Math.max(0, i - 3), i), ...lat.slice(i + 1, i + 4)].sort((a, b) => a - b);
    const typical = around[Math.floor(around.length / 2)] ?? 0;
    if (lat[i]! > 2 * typical + stallMs) out.add(accepts[i]!);
  }
  return out;
}

function replayOrder(rows: Array<{ lo: number; hi: number; o: ObservedRequest }>, togetherMs: number): void {
  const key = (r: { lo: number; hi: number; o: ObservedRequest }) => (r.o.accepted ? r.lo : r.hi);
  rows.sort((a, b) => key(a) - key(b) || Number(b.o.accepted) - Number(a.o.accepted));
  let start = 0;
  while (start < rows.length) {
    let end = start + 1;
    if (rows[start]!.o.accepted) {
      while (end < rows.length && rows[end]!.o.accepted && rows[end]!.lo - rows[start]!.lo <= togetherMs) end++;
      if (end - start > 1) {
        const run = rows.slice(start, end).sort((a, b) => a.o.answerMs - b.o.answerMs);
        rows.splice(start, end - start, ...run);
      }
    }
    start = end;
  }
}

export interface Score {
  /** Requests the model got wrong (outcome over the whole arrival interval, or the delay). */
  mismatches: number;
  /** Mismatches per probe segment (same order as Prepared.segments). */
  perSegment: number[];
  /** Scoring stopped early because mismatches passed the bound given (the count is then a lower bound). */
  aborted: boolean;
  /** Requests replayed before it stopped (all of them when it did not). */
  reached: number;
}

/**
 * Replays the observations through a model (reset first), committing the observed outcomes. Stops once the
 * outcome mismatches exceed `abortAbove` (branch and bound in the grid search).
 *
 * Delays: an accepted request's latency is the limiter's hold plus a round trip (and the backend's work) that
 * does not depend on the limiter. That common part is the median of (latency − predicted hold) over the
 * accepted requests, so a backend slower than the limiter's refusals is not mistaken for a delay; a request
 * whose latency is off the prediction by more than delayToleranceMs() is a mismatch (a model that holds
 * nothing is wrong about every request a delaying limiter held).
 */
export function scoreModel(model: LimiterModel, p: Prepared, abortAbove = Infinity, scratch?: Float64Array): Score {
  model.reset();
  const perSegment = new Array<number>(p.segments.length).fill(0);
  const held = scratch && scratch.length >= p.n ? scratch : new Float64Array(p.n);
  let mismatches = 0;
  let anyHeld = false;
  const holds = model.spec.family === 'leaky-bucket';
  for (let i = 0; i < p.n; i++) {
    const accepted = p.accepted[i] === 1;
    held[i] = NaN;
    if (p.stalled[i] === 1) {
      if (accepted) model.commit(p.at[i]!, true);
      continue;
    }
    // Monotone in time: an accept is wrong only if even the latest arrival is refused, a refusal only if even
    // the earliest arrival is accepted.
    const wrong = accepted ? model.decide(p.hi[i]!) === REFUSED : model.decide(p.lo[i]!) !== REFUSED;
    // Accepted over the whole interval: the hold is predictable (one accepted only late in its interval may have
    // arrived at the edge: its hold is not checked). Read before the commit changes the state.
    const sure = !wrong && accepted && model.decide(p.lo[i]!) !== REFUSED;
    if (sure && holds) {
      const predicted = Math.max(0, model.decide(p.at[i]!));
      held[i] = predicted;
      if (predicted > 0) anyHeld = true;
    }
    const correction = model.commit(p.at[i]!, accepted);
    let cost = 0;
    if (wrong)
      cost = Math.max(1, correction); // wrong by as many requests as the state was corrected by
    else if (sure && !holds && Math.abs(p.latencyMs[i]! - p.acceptedMedianMs) > delayToleranceMs(0, p.jitterMs)) {
      cost = 1; // held although the model holds nothing (its common latency is known up front: counted inline)
    }
    if (cost > 0) {
      mismatches += cost;
      perSegment[p.segment[i]!]! += cost;
      if (mismatches > abortAbove) return { mismatches, perSegment, aborted: true, reached: i };
    }
  }
  if (!holds) return { mismatches, perSegment, aborted: false, reached: p.n };
  let commonMs = p.acceptedMedianMs;
  if (anyHeld) {
    const residuals: number[] = [];
    for (let i = 0; i < p.n; i++) if (!Number.isNaN(held[i]!)) residuals.push(p.latencyMs[i]! - held[i]!);
    commonMs = quantile(Float64Array.from(residuals).sort(), 0.5);
  }
  for (let i = 0; i < p.n; i++) {
    const predicted = held[i]!;
    if (Number.isNaN(predicted)) continue;
    if (Math.abs(p.latencyMs[i]! - commonMs - predicted) > delayToleranceMs(predicted, p.jitterMs)) {
      mismatches++;
      perSegment[p.segment[i]!]!++;
    }
  }
  return { mismatches, perSegment, aborted: mismatches > abortAbove, reached: p.n };
}
