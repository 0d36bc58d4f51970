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
  /** The round trip's spread where each request was sent (its segment's refused answers, p75 − p25). */
  readonly jitter: Float64Array;
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
  /**
   * How long after a later-sent refusal's answer this request's answer came (ms, ≥ 0): a limiter holding it
   * answered requests sent after it first. A busy client's backlog delays answers in the order they came, so this
   * is the hold as the client can tell it apart from its own slowness (latency alone cannot).
   */
  readonly overtakenMs: Float64Array;
  readonly segment: Int32Array;
  readonly segments: readonly string[];
  /** Round trip of an answer nobody held (ms): median latency of paced refused requests, else the 10th percentile. */
  readonly baselineMs: number;
  /** Median latency of accepted requests: what an accepted request costs when the limiter holds none. */
  readonly acceptedMedianMs: number;
  /**
   * 10th percentile of accepted requests' latency: what even the quickest accepts take (a slow backend), where a
   * delaying limiter holds most accepts but never its first few.
   */
  readonly acceptedFloorMs: number;
  /** Spread of the round trip (p75 − p25 of paced refused answers' latency; 0 with fewer than 5). */
  readonly jitterMs: number;
}

/**
 * How far an answer's latency may be off a model's predicted hold: 10 ms (timer granularity, scheduling), the
 * round trip's own spread (p25..p75 of refused answers), and 15% of the hold (the limiter's timers are coarse).
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
  const all = observations.map(latency).sort((a, b) => a - b);
  const trip = roundTrips(observations);
  // A refused request is never held, so its latency bounds the trip to the server; without enough of them the
  // answer itself is the only bound (exact for limiters that do not delay).
  const refusedLatencies = observations.filter((o) => !o.accepted).map(latency);
  const tripCapMs = refusedLatencies.length >= 5 ? Math.max(...refusedLatencies) : Infinity;
  const baselineMs = trip.paced?.baselineMs ?? quantile(all, 0.1);
  const jitterMs = trip.paced?.jitterMs ?? 0;
  const local = (o: ObservedRequest) => trip.bySegment.get(o.segment) ?? trip.paced ?? { baselineMs, jitterMs };
  const stalled = stalledRequests(observations, (o) => local(o).baselineMs + 10 + 3 * local(o).jitterMs);
  const rows = observations.map((o) => {
    const lat = latency(o);
    const own = local(o);
    const hi = o.sendMs + Math.min(lat, tripCapMs);
    const stall = stalled.has(o);
    // The state advances at the arrival of a request nothing queued (half the paced round trip after its send): a
    // volley's answers come back slowly on a busy client, but its requests went out together.
    const at = stall ? Math.max(o.sendMs, hi - own.baselineMs / 2) : o.sendMs + Math.min(lat, baselineMs) / 2;
    return { o, lo: stall ? at : o.sendMs, hi, at, lat, stall, jitter: own.jitterMs };
  });
  replayOrder(rows, Math.max(1, baselineMs));
  const segments = [...new Set(rows.map((r) => r.o.segment))];
  const n = rows.length;
  const acceptedLatencies = observations
    .filter((o) => o.accepted)
    .map(latency)
    .sort((a, b) => a - b);
  const prepared = {
    n,
    lo: new Float64Array(n),
    hi: new Float64Array(n),
    at: new Float64Array(n),
    jitter: new Float64Array(n),
    accepted: new Uint8Array(n),
    stalled: new Uint8Array(n),
    latencyMs: new Float64Array(n),
    overtakenMs: new Float64Array(n),
    segment: new Int32Array(n),
    segments,
    baselineMs,
    jitterMs,
    acceptedMedianMs: quantile(acceptedLatencies, 0.5),
    acceptedFloorMs: quantile(acceptedLatencies, 0.1),
  };
  const overtaken = overtakenMs(observations);
  rows.forEach((r, i) => {
    // The model's own clock (when a window opened, a fill fell, a token was taken) rests on estimated arrivals
    // too: a decision is only sure beyond the round trip's spread on either side.
    prepared.lo[i] = r.lo - r.jitter;
    prepared.hi[i] = r.hi + r.jitter;
    prepared.at[i] = r.at;
    prepared.jitter[i] = r.jitter;
    prepared.accepted[i] = r.o.accepted ? 1 : 0;
    prepared.stalled[i] = r.stall ? 1 : 0;
    prepared.latencyMs[i] = r.lat;
    prepared.overtakenMs[i] = overtaken.get(r.o) ?? 0;
    prepared.segment[i] = segments.indexOf(r.o.segment);
  });
  return prepared;
}

/** Per request: its answer less the earliest answer of a refusal sent after it (0 when none came sooner). */
function overtakenMs(observations: readonly ObservedRequest[]): Map<ObservedRequest, number> {
  const bySend = [...observations].sort((a, b) => b.sendMs - a.sendMs);
  const out = new Map<ObservedRequest, number>();
  let earliestLaterRefusal = Infinity;
  let i = 0;
  while (i < bySend.length) {
    // Requests sent at the same instant (a volley) do not overtake each other: compare with strictly later sends.
    let j = i;
    while (j < bySend.length && bySend[j]!.sendMs === bySend[i]!.sendMs) j++;
    for (let k = i; k < j; k++) out.set(bySend[k]!, Math.max(0, bySend[k]!.answerMs - earliestLaterRefusal));
    for (let k = i; k < j; k++) if (!bySend[k]!.accepted) earliestLaterRefusal = Math.min(earliestLaterRefusal, bySend[k]!.answerMs);
    i = j;
  }
  return out;
}

/** Refusals a segment needs for its own round trip and spread; fewer, and the paced requests' apply. */
const MIN_SEGMENT_REFUSALS = 15;

interface RoundTrip {
  /** Median latency of refused answers: a round trip nobody held. */
  baselineMs: number;
  /** p75 − p25 of refused answers' latency (a stalled answer or two do not move it). */
  jitterMs: number;
}

/**
 * The round trip and its spread, per probe segment and over the paced requests, from refused answers (never held).
 * Per segment, not over the whole probe: on a busy machine the client writes a volley of 50 requests over 100 ms or
 * more, so a volley's answers queue behind each other while paced requests travel at once. One spread over both
 * would blur every paced request's arrival by the volleys' queueing (and let a wrong rate fit the overload as well
 * as the right one); one spread per segment keeps each request's uncertainty its own. Paced: refused requests
 * sent more than 0.5 ms from any other of their segment.
 */
function roundTrips(observations: readonly ObservedRequest[]): {
  bySegment: Map<string, RoundTrip>;
  paced: RoundTrip | undefined;
} {
  const of = (latencies: number[]): RoundTrip | undefined => {
    if (latencies.length < 5) return undefined;
    const sorted = latencies.sort((a, b) => a - b);
    return { baselineMs: quantile(sorted, 0.5), jitterMs: quantile(sorted, 0.75) - quantile(sorted, 0.25) };
  };
  const bySegment = new Map<string, RoundTrip>();
  const paced: number[] = [];
  const groups = new Map<string, ObservedRequest[]>();
  for (const o of observations) {
    const list = groups.get(o.segment);
    if (list) list.push(o);
    else groups.set(o.segment, [o]);
  }
  for (const [segment, list] of groups) {
    const sorted = [...list].sort((a, b) => a.sendMs - b.sendMs);
    const alone = (i: number) =>
      (i === 0 || sorted[i]!.sendMs - sorted[i - 1]!.sendMs > 0.5) &&
      (i === sorted.length - 1 || sorted[i + 1]!.sendMs - sorted[i]!.sendMs > 0.5);
    sorted.forEach((o, i) => {
      if (!o.accepted && alone(i)) paced.push(Math.max(0, o.answerMs - o.sendMs));
    });
    const refused = list.filter((o) => !o.accepted);
    // A segment's own spread needs enough refusals that a few stalled answers do not make it.
    const trip = refused.length >= MIN_SEGMENT_REFUSALS ? of(refused.map((o) => Math.max(0, o.answerMs - o.sendMs))) : undefined;
    if (trip) bySegment.set(segment, trip);
  }
  return { bySegment, paced: of(paced) };
}

/**
 * The order to replay requests in. Requests sent close together may have reached the server in any order the
 * intervals allow, and every limiter here admits the first arrivals of a burst and refuses the rest. So an accept
 * is placed at the earliest it can have arrived (its send) and a refusal one paced round trip after its estimated
 * arrival (or at its answer, if sooner): an accept that could have overtaken a refusal is replayed first,
 * otherwise the estimated order would count as the model's mistake a refusal that merely overtook an accept on
 * the wire. Not at the refusal's answer: on a busy client a volley's answers come back hundreds of ms after it
 * went out, and the accepts sent meanwhile (refilling the model's bucket) would be replayed before refusals that
 * reached the server long before them. Accepts sent together are replayed in the order of their answers: a
 * delaying limiter serves a burst in arrival order.
 */
/**
 * Refusals slower than stallMs; paced accepts slower than stallMs and than twice (plus stallMs) the accepts sent
 * just before and after (a delaying limiter holds runs of accepts, a stall hits one). Not accepts of a volley: a
 * delaying limiter holds those in arrival order, which the send order shuffles, and all of a volley arrive
 * together anyway.
 */
function stalledRequests(observations: readonly ObservedRequest[], stallMs: (o: ObservedRequest) => number): Set<ObservedRequest> {
  const accepts = observations.filter((o) => o.accepted).sort((a, b) => a.sendMs - b.sendMs);
  const lat = accepts.map((o) => o.answerMs - o.sendMs);
  const out = new Set<ObservedRequest>(observations.filter((o) => !o.accepted && o.answerMs - o.sendMs > stallMs(o)));
  for (let i = 0; i < accepts.length; i++) {
    if (lat[i]! <= stallMs(accepts[i]!)) continue;
    const gapBefore = i > 0 ? accepts[i]!.sendMs - accepts[i - 1]!.sendMs : Infinity;
    const gapAfter = i + 1 < accepts.length ? accepts[i + 1]!.sendMs - accepts[i]!.sendMs : Infinity;
    if (Math.min(gapBefore, gapAfter) < 1) continue;
    const around = [...lat.slice(Math.max(0, i - 3), i), ...lat.slice(i + 1, i + 4)].sort((a, b) => a - b);
    const typical = around[Math.floor(around.length / 2)] ?? 0;
    if (lat[i]! > 2 * typical + stallMs(accepts[i]!)) out.add(accepts[i]!);
  }
  return out;
}

function replayOrder(rows: Array<{ lo: number; hi: number; at: number; o: ObservedRequest }>, togetherMs: number): void {
  const key = (r: { lo: number; hi: number; at: number; o: ObservedRequest }) => (r.o.accepted ? r.lo : Math.min(r.hi, r.at + togetherMs));
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
  // What every accepted answer takes beyond a refusal's round trip (a slow backend: refusals never reach it) is
  // not a hold: only overtaking beyond it is.
  const commonExtraMs = Math.max(0, p.acceptedFloorMs - p.baselineMs);
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
    else if (sure && !holds && p.overtakenMs[i]! - commonExtraMs > delayToleranceMs(0, p.jitterMs)) {
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
    if (Math.abs(p.latencyMs[i]! - commonMs - predicted) > delayToleranceMs(predicted, p.jitter[i]!)) {
      mismatches++;
      perSegment[p.segment[i]!]!++;
    }
  }
  return { mismatches, perSegment, aborted: mismatches > abortAbove, reached: p.n };
}
