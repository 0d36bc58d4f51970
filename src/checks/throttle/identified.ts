/**
 * The throttle check's judgement from the identification probe (observations `throttle.identify.<segment>`):
 * which limiter family fits the accept/refuse sequence (identify/identify.ts), then the policy's two numbers
 * measured in that family's own terms (docs/throttle.md):
 *
 * - long-run accepted rate: the identified rate (a window's limit / window), its plateau as the uncertainty;
 * - accepted at once from idle: the bucket B as the limiter holds it, or a window's limit. nginx and GCRA admit
 *   B+1 from idle (the request in hand is not counted against `burst=B`): the policy's burstLimit is the B the
 *   configuration says, and the +1 is never a finding (the identified `burst` is B; `coldBurst` B+1 is shown).
 *
 * Unknown algorithms and fits above the residual bound are inconclusive, never a fail.
 */
import type { Observation } from '../../engine/observation.js';
import type { OfferedLoad } from '../../engine/paced-run.js';
import { isOkStatus, type Policy, type RoutePolicy, type ThrottlePolicy } from '../../policy/types.js';
import type { FindingDraft, Verdict } from '../contract.js';
import { evidenceFrom } from '../evidence.js';
import { finding } from '../findings.js';
import type { EvidenceItem } from '../types.js';
import { identify, type FamilyFit, type Identification, type IdentifiedParams } from './identify/identify.js';
import { REFUSED, simulate } from './identify/models.js';
import type { ObservedRequest } from './identify/score.js';
import { rateBounds, type RateBounds } from './rate-bounds.js';
import { throttleTimeline, type ThrottleTimeline } from './timeline.js';

/** What the judgement needs of the check's spec. */
export interface IdentifySpec {
  route: RoutePolicy;
  limits: ThrottlePolicy;
}

export const IDENTIFY_PROBE_PREFIX = 'throttle.identify.';

/** Largest share of answers neither accepted nor refused (with a listed status) under which the fit is trusted. */
const MAX_UNRESOLVED_SHARE = 0.05;
/** An overload segment sent at less than this share of its designed rate did not overload the limiter. */
const MIN_OFFERED_SHARE = 0.8;
/** A hold shorter than this is the round trip's noise, not a delaying limiter (ms). */
const MIN_REPORTED_HOLD_MS = 20;
/** Most points the envelope chart's series keep (the report's SVG stays small; report.json too). */
export const ENVELOPE_MAX_POINTS = 400;

/** The schedule as designed and as sent: the notes of an identification run. JSON. */
export interface IdentifyNotes {
  /** Epoch ms at the run clock's 0: observation times + this = wall-clock times (UTC-aligned windows). */
  epochAtOriginMs: number;
  startEpochMs: number;
  windowMs: number;
  durationMs: number;
  idleWaitMs: number;
  /** Requests sent to check the key was idle before the cold volley (the last one is replayed with the probe). */
  idleChecks?: number;
  /** Designed requests and send rate per segment (requests/s; volleys: 0). */
  segments: Array<{ name: string; requests: number; startMs: number; endMs: number; ratePerSec: number }>;
  sent: number;
  dropped: number;
  maxSendLagMs: number;
  offered: OfferedLoad;
}

export interface IdentifiedObserved {
  algorithm: string;
  variant: string;
  params: Omit<IdentifiedParams, 'variant'>;
  residual: number;
  residualBound: number;
  ambiguous: boolean;
  runnerUp: { algorithm: string; variant: string; residual: number } | null;
  /** Why the other families lost (which probe segments each got wrong). */
  separatedBy: string[];
  /** What was judged against the policy: the long-run rate and the accepted-at-once count. */
  judged: { ratePerSec: number; rateRangePerSec: [number, number]; acceptedFromIdle: number; coldBurst: number | null } | null;
  /** What the send..answer intervals alone allow the rate to be, whatever the model (rate-bounds.ts). */
  rateBounds: { lowerPerSec: number; upperPerSec: number | null } | null;
  requests: { sent: number; accepted: number; refused: number; unresolved: number };
  refusedWith: number[];
  offered: OfferedLoad | null;
  maxHoldMs: number | null;
  clientBound: { neededRatePerSec: number; offeredRatePerSec: number } | null;
  timeline: ThrottleTimeline | null;
  /** Cumulative accepted over the probe, for the report's envelope chart (charts/<check>-envelope.svg). */
  envelope: EnvelopeSeries | null;
}

/**
 * The identification probe as cumulative accepted requests over time, in send order, thinned to at most
 * ENVELOPE_MAX_POINTS (each point's count is exact: thinning drops points, never counts). The report draws it
 * against the policy's envelope (burstLimit + rateLimit·t, from expected) and the identified model's prediction.
 */
export interface EnvelopeSeries {
  /** Requests in the probe (before thinning). */
  sent: number;
  /** Per point: ms since the probe's first send (rounded). */
  tMs: number[];
  /** Per point: requests accepted up to and including that send (measured). */
  accepted: number[];
  /** Per point: what the fitted model predicts accepted from cold over the same sends; null when none was fitted. */
  predicted: number[] | null;
  /** The model behind `predicted` (its variant), null when none. */
  model: string | null;
  /** Refusals in all. */
  refused: number;
  /** The refusals as [ms since the first send, accepted so far], thinned to at most ENVELOPE_MAX_POINTS. */
  refusals: Array<[number, number]>;
}

type Status = Verdict<IdentifiedObserved>['status'];

export function isIdentifyObservation(o: Observation): boolean {
  return o.probe.startsWith(IDENTIFY_PROBE_PREFIX);
}

function isIdleCheck(o: Observation): boolean {
  return o.probe === `${IDENTIFY_PROBE_PREFIX}idle-check`;
}

export function evaluateIdentified(
  spec: IdentifySpec,
  observations: readonly Observation[],
  notes: { stoppedBecause?: string; identify?: IdentifyNotes },
  policy: Policy,
): Verdict<IdentifiedObserved> {
  const { route, limits } = spec;
  const statuses = limits.status;
  const sorted = observations.filter(isIdentifyObservation).sort((a, b) => a.sentAtMs - b.sentAtMs);
  // Only the last idle check starts the replay: the ones before it were refused by a key that was not idle yet.
  const idleChecks = sorted.filter(isIdleCheck);
  const lastIdleCheck = idleChecks.at(-1);
  const all = sorted.filter((o) => !isIdleCheck(o) || o === lastIdleCheck);
  const isAccepted = (o: Observation) => o.status !== undefined && isOkStatus(route, o.status);
  const isRefused = (o: Observation) => o.status !== undefined && statuses.includes(o.status);
  const unresolved = all.filter((o) => !isAccepted(o) && !isRefused(o));
  const accepted = all.filter(isAccepted).length;
  const observed: IdentifiedObserved = {
    algorithm: 'unknown',
    variant: '',
    params: { ratePerSec: 0, burst: 0 },
    residual: 0,
    residualBound: 0,
    ambiguous: false,
    runnerUp: null,
    separatedBy: [],
    judged: null,
    rateBounds: null,
    requests: { sent: all.length, accepted, refused: all.length - accepted - unresolved.length, unresolved: unresolved.length },
    refusedWith: [...statuses],
    offered: notes.identify?.offered ?? null,
    maxHoldMs: null,
    clientBound: null,
    timeline: throttleTimeline(all, isAccepted, limits, isRefused),
    envelope: envelopeSeries(all, isAccepted, isRefused),
  };
  const evidence = identifyEvidence(policy, all, isAccepted, isRefused);
  const verdict = (status: Status, summary: string, findings: FindingDraft[] = []) => ({ status, summary, observed, evidence, findings });

  const stopped = notes.stoppedBecause;
  const hint = otherRefusalStatus(all, isAccepted, isRefused, stopped !== undefined);
  if (hint !== undefined) {
    const list = `[${statuses.join(', ')}]`;
    const why = stopped !== undefined ? `${stopped}; ` : '';
    return verdict(
      'error',
      `${why}accepted, then refused with ${hint.status} (${hint.count} answers) and never with ${list}: ` +
        `if ${hint.status} is this gateway's throttle (nginx limit_req's default is 503), ` +
        `say so with \`throttle: { status: [${hint.status}] }\``,
    );
  }
  if (stopped !== undefined) return verdict('error', `${stopped}: cannot identify the limiter`);
  if (lastIdleCheck && isRefused(lastIdleCheck)) {
    const waited = notes.identify ? ` after ${idleChecks.length} waits of at least ${(notes.identify.idleWaitMs / 1000).toFixed(1)} s` : '';
    return verdict(
      'inconclusive',
      `the key was still refused${waited} (a lockout, or a window longer than the wait?): no cold start to identify from; ` +
        `say the window with \`throttle: { windowSec }\` if it is longer`,
    );
  }
  if (all.length === 0 || !notes.identify) return verdict('error', 'no request could be sent (run cap reached)');
  if (unresolved.length / all.length > MAX_UNRESOLVED_SHARE) {
    const sample = unresolved[0]!;
    const share = `${unresolved.length} of ${all.length} answers`;
    return verdict(
      'error',
      `${share} were neither accepted nor refused (e.g. ${sample.status ?? sample.error}): cannot identify the limiter`,
    );
  }
  const bound = clientBound(all, notes.identify);
  if (bound) {
    observed.clientBound = bound;
    const lag = `send lag up to ${notes.identify.maxSendLagMs.toFixed(0)} ms`;
    return verdict(
      'inconclusive',
      `client-bound: offered ${bound.offeredRatePerSec}/s where the overload needed ${bound.neededRatePerSec}/s, ${lag}`,
    );
  }
  const policyText = `policy ${limits.rateLimit}/s, burst ${limits.burstLimit}`;
  if (observed.requests.refused === 0) {
    // Nothing refused proves no limit only when some stretch of accepts is more than any limiter within the policy
    // admits (B+1 plus its slack, plus the highest rate over the stretch's longest possible span); otherwise the
    // client simply never offered more than the policy allows (a limit it cannot reach): inconclusive.
    const excess = mostBeyondPolicy(all.filter(isAccepted), limits);
    if (excess === undefined) {
      const summary =
        `no request was refused, but none of the ${all.length} sent exceeded what a limiter within the policy admits ` +
        `(${policyText}): client-bound, the limit is out of this client's reach`;
      observed.clientBound = { neededRatePerSec: round(limits.rateLimit * (1 + limits.tolerance)), offeredRatePerSec: 0 };
      return verdict('inconclusive', summary);
    }
    const title = `no throttling: none of ${all.length} requests was refused with ${statuses.join(' or ')} (${policyText})`;
    const detail = `the identification probe (cold volley, overload at 1.4× and 2.7× the rate, volleys after gaps) was accepted whole`;
    return verdict('fail', title, [
      finding(
        'no-limit',
        'high',
        title,
        detail,
        evidence.map((_, i) => i),
      ),
    ]);
  }

  const epoch = notes.identify.epochAtOriginMs;
  const requests: ObservedRequest[] = all
    .filter((o) => !unresolved.includes(o))
    .map((o) => ({
      sendMs: epoch + o.sentAtMs,
      answerMs: epoch + o.doneAtMs,
      accepted: isAccepted(o),
      segment: o.probe.slice(IDENTIFY_PROBE_PREFIX.length),
    }));
  const id = identify(requests, {
    rateLimit: limits.rateLimit,
    burstLimit: limits.burstLimit,
    ...(limits.windowSec !== undefined ? { windowSec: limits.windowSec } : {}),
  });
  describeIdentification(observed, id);
  observed.envelope = envelopeSeries(all, isAccepted, isRefused, { spec: id.best, epochMs: epoch });
  const cold = coldVolley(all, isAccepted);
  // Undecided by the models: what any limiter within the policy can never do still fails (grossly off the policy).
  const undecided = (reason: string) => {
    const gross = grossFindings(all, isAccepted, cold, limits, evidence);
    if (gross.length === 0) return verdict('inconclusive', reason);
    return verdict('fail', [reason, ...gross.map((f) => f.title)].join('; '), gross);
  };
  if (id.algorithm === 'unknown' || id.residual > id.residualBound) {
    const best = `closest: ${id.best.params.variant}, ${id.residual} of ${id.requests} requests wrong (bound ${id.residualBound})`;
    return undecided(`no limiter model fits what the gateway did (${best}): not judged by a model`);
  }
  const bounds = boundsFor(id.best, all, isAccepted, isRefused, limits);
  observed.rateBounds = {
    lowerPerSec: round(bounds.lowerPerSec),
    upperPerSec: Number.isFinite(bounds.upperPerSec) ? round(bounds.upperPerSec) : null,
  };
  const judged = judge(id.best, spec, cold, bounds);
  observed.judged = judged.numbers;
  if (judged.unproven) return undecided(judged.unproven);
  // Families that fit must judge alike. Asymmetric, so that a loaded machine never fails a correct policy: a fail
  // needs every family within the residual bound to fail (a token bucket and vsthrottle's integer bucket too:
  // they differ in the rate an over-limit client gets); a pass, every other algorithm within one request (the
  // simpler model of one algorithm is its report, identify.ts).
  // A rival whose fit is off the policy but not proven so by its own bounds does not say the policy holds.
  const judgements = new Map<FamilyFit, Judged>([[id.best, judged]]);
  const judgedBy = (fit: FamilyFit): Judged => {
    const known = judgements.get(fit);
    if (known) return known;
    const fresh = judge(fit, spec, cold, boundsFor(fit, all, isAccepted, isRefused, limits));
    judgements.set(fit, fresh);
    return fresh;
  };
  const fails = (fit: FamilyFit) => judgedBy(fit).failing || starves(fit);
  const bestFails = fails(id.best);
  const rival = id.families.find((f) =>
    bestFails
      ? f !== id.best && f.residual <= id.residualBound && !fails(f) && judgedBy(f).unprovenBecause !== 'off-policy'
      : f.algorithm !== id.best.algorithm && f.residual <= id.best.residual + 1 && fails(f),
  );
  if (rival) {
    const pair = `${id.best.params.variant} and ${rival.params.variant}`;
    return undecided(`${pair} fit equally well and judge the policy differently: not judged by a model`);
  }
  // A lost answer (timeout, 5xx) may have been an accept: with any, "stricter than the policy" cannot be told.
  const lost = unresolved.length;
  const stricter = judged.findings.filter((f) => f.id === 'rate-too-low' || f.id === 'burst-too-small');
  if (lost > 0 && stricter.length > 0 && stricter.length === judged.findings.length && !starves(id.best)) {
    const what = stricter.map((f) => f.id).join(', ');
    return verdict('inconclusive', `${what} measured, but ${lost} answers were lost (timeouts, 5xx) and may have been accepts: not judged`);
  }
  const hold = maxHoldMs(all, isAccepted, isRefused);
  if (id.best.algorithm === 'leaky-bucket-delay') observed.maxHoldMs = Math.round(hold);
  const findings = [...judged.findings, ...graded(id.best, spec, all, isAccepted, hold, evidence), algorithmFinding(id, evidence)];
  const failing = findings.some((f) => f.severity === 'high' || f.severity === 'critical');
  const summary = [`${id.best.params.variant}: ${judged.text}`, ...findings.filter((f) => f.severity !== 'info').map((f) => f.title)];
  return verdict(failing ? 'fail' : 'pass', summary.join('; '), findings);
}

function describeIdentification(observed: IdentifiedObserved, id: Identification): void {
  const { variant, ...params } = id.params;
  observed.algorithm = id.algorithm;
  observed.variant = variant;
  observed.params = roundParams(params);
  observed.residual = id.residual;
  observed.residualBound = id.residualBound;
  observed.ambiguous = id.ambiguous;
  observed.runnerUp = id.runnerUp
    ? { algorithm: id.runnerUp.algorithm, variant: id.runnerUp.params.variant, residual: id.runnerUp.residual }
    : null;
  observed.separatedBy = id.evidence;
}

/** Evenly spread indices into a list of n, at most `max`, first and last included. */
function thinned(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: max }, (_, k) => Math.round((k * (n - 1)) / (max - 1)));
}

/** Cumulative accepted per send (thinned), the refusals on it, and the fitted model's prediction over the same sends. */
function envelopeSeries(
  all: readonly Observation[],
  isAccepted: (o: Observation) => boolean,
  isRefused: (o: Observation) => boolean,
  model?: { spec: FamilyFit; epochMs: number },
): EnvelopeSeries | null {
  if (all.length === 0) return null;
  const first = all[0]!.sentAtMs;
  const at = (o: Observation) => Math.round(o.sentAtMs - first);
  const cumulative: number[] = [];
  const refusals: Array<[number, number]> = [];
  let accepted = 0;
  for (const o of all) {
    if (isAccepted(o)) accepted++;
    cumulative.push(accepted);
    if (isRefused(o)) refusals.push([at(o), accepted]);
  }
  const points = thinned(all.length, ENVELOPE_MAX_POINTS);
  let predicted: number[] | null = null;
  if (model) {
    const verdicts = simulate(
      model.spec.spec,
      all.map((o) => model.epochMs + o.sentAtMs),
    );
    let sum = 0;
    const predictedAll = verdicts.map((v) => (sum += v === REFUSED ? 0 : 1));
    predicted = points.map((i) => predictedAll[i]!);
  }
  return {
    sent: all.length,
    tMs: points.map((i) => at(all[i]!)),
    accepted: points.map((i) => cumulative[i]!),
    predicted,
    model: model ? model.spec.params.variant : null,
    refused: refusals.length,
    refusals: thinned(refusals.length, ENVELOPE_MAX_POINTS).map((i) => refusals[i]!),
  };
}

function roundParams(params: Omit<IdentifiedParams, 'variant'>): Omit<IdentifiedParams, 'variant'> {
  const r = (v: number) => Math.round(v * 100) / 100;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    out[key] = typeof value === 'number' ? r(value) : Array.isArray(value) ? value.map((v: number) => r(v)) : value;
  }
  return out as Omit<IdentifiedParams, 'variant'>;
}

interface Judged {
  numbers: NonNullable<IdentifiedObserved['judged']>;
  findings: FindingDraft[];
  failing: boolean;
  text: string;
  /**
   * Not judged, and why: the fit puts the rate off the policy but the intervals alone do not rule the policy's
   * rate out (`off-policy`), or the rate is too loosely pinned to pass (`loose`).
   */
  unproven?: string;
  unprovenBecause?: 'off-policy' | 'loose';
}

/** The cold volley read directly: how many were accepted, and how long it took from first send to last answer. */
interface ColdVolley {
  accepted: number;
  spanMs: number;
}

function coldVolley(all: readonly Observation[], isAccepted: (o: Observation) => boolean): ColdVolley {
  // Not the idle check: it went out up to a second before (the schedule starts on a wall-clock mark), and a span
  // that long would excuse any burst as refill. Its token has refilled by the volley (check.ts waits for that);
  // a window it opened holds one less, which the slack covers and the models replay.
  const volley = all.filter((o) => o.probe === `${IDENTIFY_PROBE_PREFIX}cold-volley`);
  if (volley.length === 0) return { accepted: 0, spanMs: 0 };
  const spanMs = Math.max(...volley.map((o) => o.doneAtMs)) - Math.min(...volley.map((o) => o.sentAtMs));
  return { accepted: volley.filter(isAccepted).length, spanMs };
}

/**
 * The policy's numbers in the family's terms. The rate fails only when its whole plateau (every rate that fits
 * as well) lies outside the tolerance; the burst when the identified B (or a window's limit) is off by more than
 * max(1, tolerance·burstLimit) AND the cold volley's own count agrees: a busy machine stretches a volley's
 * answers until its requests are no evidence to the fit (score.ts), and the count read directly (less what can
 * have refilled while the volley was out, for "too large") then keeps a pass a pass.
 */
function judge(fit: FamilyFit, { limits }: IdentifySpec, cold: ColdVolley, bounds: RateBounds): Judged {
  const p = fit.params;
  const windowed = fit.algorithm === 'fixed-window' || fit.algorithm === 'sliding-window';
  const rate = windowed && p.limit !== undefined && p.windowSec ? p.limit / p.windowSec : p.ratePerSec;
  const fitted: [number, number] = p.rateRangePerSec && !windowed ? p.rateRangePerSec : [rate, rate];
  const bucket = fit.family === 'token-bucket' || fit.family === 'leaky-bucket' || fit.family === 'integer-bucket';
  const range = bucket ? withinBounds(fitted, bounds) : fitted;
  const atOnce = windowed && p.limit !== undefined ? p.limit : p.burst;
  const lo = limits.rateLimit * (1 - limits.tolerance);
  const hi = limits.rateLimit * (1 + limits.tolerance);
  const slack = Math.max(1, limits.burstLimit * limits.tolerance);
  const tol = `${Math.round(limits.tolerance * 100)}%`;
  const rateText = range[0] === range[1] ? `${round(range[0])}/s` : `${round(range[0])}–${round(range[1])}/s`;
  const findings: FindingDraft[] = [];
  const measured = `measured ${rateText} (${fit.params.variant}), policy ${limits.rateLimit}/s ±${tol}`;
  const upperText = Number.isFinite(bounds.upperPerSec) ? String(round(bounds.upperPerSec)) : '∞';
  const boundsText = `the timings alone allow ${round(bounds.lowerPerSec)}–${upperText}/s`;
  let unproven: string | undefined;
  // A bucket's rate is off the policy only when the intervals alone rule its rate out too: a bucket's fit can
  // drift on a busy client (tokens a late volley seemed to leave unused). A window's rate is its limit (a count)
  // over its length (from the gap volleys), which no drift moves; windows have no model-free upper bound anyway.
  if (bucket && range[0] > hi && bounds.lowerPerSec <= hi) {
    unproven = `the fit puts the rate at ${rateText}, above the policy's ${limits.rateLimit}/s +${tol}, but ${boundsText}: not judged`;
  } else if (bucket && range[1] < lo && bounds.upperPerSec >= lo) {
    unproven = `the fit puts the rate at ${rateText}, below the policy's ${limits.rateLimit}/s −${tol}, but ${boundsText}: not judged`;
  } else if (range[0] > hi) {
    findings.push(
      finding(
        'rate-too-high',
        'high',
        `rate above the policy's ${limits.rateLimit}/s +${tol}: more gets through than it allows`,
        `${measured}; ${boundsText}`,
        [],
      ),
    );
  } else if (range[1] < lo) {
    findings.push(
      finding(
        'rate-too-low',
        'high',
        `rate below the policy's ${limits.rateLimit}/s −${tol}: clients are refused what it promises`,
        `${measured}; ${boundsText}`,
        [],
      ),
    );
  }
  const loose =
    unproven === undefined && findings.length === 0 && (range[0] < lo * (1 - limits.tolerance) || range[1] > hi * (1 + limits.tolerance));
  if (loose) {
    // Within the policy's band, but so loosely pinned that a rate well off it would fit too: no pass on that.
    unproven = `the rate is pinned only to ${rateText} (${boundsText}; policy ${limits.rateLimit}/s ±${tol}): not judged`;
  }
  const burstText = `accepted at once from idle: ${atOnce}${p.coldBurst !== undefined ? ` (a new key ${p.coldBurst})` : ''}, policy ${
    limits.burstLimit
  } (or ${limits.burstLimit + 1}: nginx and GCRA admit B+1) ±${slack.toFixed(1)}`;
  // nginx `burst=B` and GCRA admit B+1 from idle (the request in hand is not counted): B+1 is the policy's B.
  const refilled = (limits.rateLimit * (1 + limits.tolerance) * cold.spanMs) / 1000;
  if (atOnce > limits.burstLimit + 1 + slack && cold.accepted - refilled > limits.burstLimit + 1 + slack) {
    findings.push(
      finding(
        'burst-too-large',
        'high',
        `burst above the policy's ${limits.burstLimit} (+1) +${slack.toFixed(1)}: more gets through at once than it allows`,
        burstText,
        [],
      ),
    );
  } else if (atOnce < limits.burstLimit - slack && cold.accepted < limits.burstLimit - slack) {
    findings.push(
      finding(
        'burst-too-small',
        'high',
        `burst below the policy's ${limits.burstLimit} −${slack.toFixed(1)}: clients are refused what it promises`,
        burstText,
        [],
      ),
    );
  }
  return {
    numbers: {
      ratePerSec: round(Math.min(range[1], Math.max(range[0], rate))),
      rateRangePerSec: [round(range[0]), round(range[1])],
      acceptedFromIdle: atOnce,
      coldBurst: p.coldBurst ?? null,
    },
    findings,
    failing: findings.length > 0,
    text: `rate ${rateText}, ${atOnce} at once from idle (${`policy ${limits.rateLimit}/s, burst ${limits.burstLimit}`})`,
    ...(unproven !== undefined ? { unproven, unprovenBecause: loose ? ('loose' as const) : ('off-policy' as const) } : {}),
  };
}

/** The fitted range within what the intervals allow; the intervals' range when the fit lies outside it. */
function withinBounds(fitted: [number, number], bounds: RateBounds): [number, number] {
  const lower = Math.max(fitted[0], bounds.lowerPerSec);
  const upper = Math.min(fitted[1], bounds.upperPerSec);
  if (lower <= upper) return [lower, upper];
  return [bounds.lowerPerSec, Math.max(bounds.lowerPerSec, bounds.upperPerSec)];
}

/** The model-free rate bounds in the terms of the fitted family (rate-bounds.ts says which apply to which). */
function boundsFor(
  fit: FamilyFit,
  all: readonly Observation[],
  isAccepted: (o: Observation) => boolean,
  isRefused: (o: Observation) => boolean,
  limits: ThrottlePolicy,
): RateBounds {
  const p = fit.params;
  // An accepted request reached the server within a refused one's round trip of its send (refusals are never
  // held): a delaying limiter's answer comes late, its arrival did not.
  const refusedTrips = all.filter(isRefused).map((o) => o.doneAtMs - o.sentAtMs);
  const tripCapMs = refusedTrips.length >= 5 ? Math.max(...refusedTrips) : Infinity;
  const answered = all
    .filter((o) => isAccepted(o) || isRefused(o))
    .map((o) => ({ sentAtMs: o.sentAtMs, doneAtMs: Math.min(o.doneAtMs, o.sentAtMs + tripCapMs), accepted: isAccepted(o) }));
  const minBurst = Math.max(2, Math.min(p.burst, limits.burstLimit));
  switch (fit.family) {
    case 'token-bucket':
    case 'leaky-bucket':
      return rateBounds(answered, { carry: 1, bucket: { minBurst, lossPerAccept: 0 } });
    case 'integer-bucket':
      return rateBounds(answered, { carry: 1, bucket: { minBurst, lossPerAccept: 1 } });
    case 'timer-refill':
      return rateBounds(answered, { carry: p.tokensPerFill ?? p.burst });
    case 'fixed-window':
    case 'sliding-window':
      return rateBounds(answered, { carry: p.limit ?? p.burst });
  }
}

/**
 * What no limiter within the policy can do, read directly from the answers (no model): used when the models
 * cannot decide. From idle, at once, at most B+1+slack (less nothing: refill during the volley is subtracted at
 * the policy's highest rate); at least B−slack (a lost answer counted as an accept). From the cold volley to the
 * end of the overload, at most two bursts plus the policy's highest rate times the span: a fixed window's worst
 * boundary (2 limits) and a timer's clump stay inside it, so only a limiter off the policy crosses it.
 */
function grossFindings(
  all: readonly Observation[],
  isAccepted: (o: Observation) => boolean,
  cold: ColdVolley,
  limits: ThrottlePolicy,
  evidence: readonly EvidenceItem[],
): FindingDraft[] {
  const slack = Math.max(1, limits.burstLimit * limits.tolerance);
  const most = limits.burstLimit + 1 + slack;
  const hiRate = limits.rateLimit * (1 + limits.tolerance);
  const everything = evidence.map((_, i) => i);
  const volley = all.filter((o) => o.probe === `${IDENTIFY_PROBE_PREFIX}cold-volley`);
  const lostInVolley = volley.filter((o) => !isAccepted(o) && !isThrottledAnswer(o, limits)).length;
  if (cold.accepted - (hiRate * cold.spanMs) / 1000 > most) {
    const detail = `the cold volley had ${cold.accepted} accepted within ${Math.round(cold.spanMs)} ms (policy burst ${limits.burstLimit})`;
    return [
      finding(
        'burst-too-large',
        'high',
        `burst above the policy's ${limits.burstLimit} (+1) +${slack.toFixed(1)}: more gets through at once than it allows`,
        detail,
        everything,
      ),
    ];
  }
  if (volley.length > 0 && cold.accepted + lostInVolley < limits.burstLimit - slack) {
    const detail = `the cold volley had ${cold.accepted} accepted of ${volley.length} after an idle wait (burst ${limits.burstLimit})`;
    return [
      finding(
        'burst-too-small',
        'high',
        `burst below the policy's ${limits.burstLimit} −${slack.toFixed(1)}: clients are refused what it promises`,
        detail,
        everything,
      ),
    ];
  }
  const early = all.filter((o) => /(cold-volley|trickle|overload)/.test(o.probe));
  if (early.length > 0) {
    const spanMs = Math.max(...early.map((o) => o.doneAtMs)) - Math.min(...early.map((o) => o.sentAtMs));
    const accepted = early.filter(isAccepted).length;
    const bound = 2 * most + (hiRate * spanMs) / 1000;
    if (accepted > bound) {
      const detail = `${accepted} accepted within ${Math.round(spanMs)} ms from idle; within the policy at most ${Math.floor(bound)}`;
      return [
        finding(
          'rate-too-high',
          'high',
          `rate above the policy's ${limits.rateLimit}/s +${Math.round(limits.tolerance * 100)}%: more gets through than it allows`,
          detail,
          everything,
        ),
      ];
    }
  }
  return [];
}

function isThrottledAnswer(o: Observation, limits: ThrottlePolicy): boolean {
  return o.status !== undefined && limits.status.includes(o.status);
}

/** A limiter under which a client above the limit gets less than the rate: refusals counted, or a lockout. */
function starves(fit: FamilyFit): boolean {
  return fit.params.countsRejected === true || (fit.params.lockoutSec ?? 0) > 0;
}

/** The graded findings beyond the two numbers: window boundaries, starvation, delays, rate-limit headers. */
function graded(
  fit: FamilyFit,
  { limits }: IdentifySpec,
  all: readonly Observation[],
  isAccepted: (o: Observation) => boolean,
  holdMs: number,
  evidence: readonly EvidenceItem[],
): FindingDraft[] {
  const p = fit.params;
  const findings: FindingDraft[] = [];
  const everything = evidence.map((_, i) => i);
  if (fit.algorithm === 'fixed-window' && p.limit !== undefined && p.windowSec) {
    const most = mostAcceptedWithin(all.filter(isAccepted), p.windowSec * 1000);
    if (most.count > p.limit + Math.max(1, limits.tolerance * p.limit)) {
      findings.push(
        finding(
          'window-boundary',
          'low',
          `fixed window: ${most.count} accepted within ${Math.round(most.spanMs)} ms across a window boundary ` +
            `(limit ${p.limit} per ${p.windowSec} s)`,
          'a fixed window admits its limit at the end of one window and again at the start of the next: up to 2× the limit in a short span',
          everything,
        ),
      );
    }
  }
  if (starves(fit)) {
    const how = p.countsRejected
      ? 'refused requests are counted: a client that keeps sending above the limit is starved, not served the rate'
      : `the first refusal locks the key out for ${p.lockoutSec} s: a client above the limit is starved, not served the rate`;
    findings.push(
      finding(
        'starves-over-limit',
        'high',
        how,
        `${p.variant}: under overload the accepted rate falls below ${round(p.ratePerSec)}/s (the policy promises ${limits.rateLimit}/s)`,
        everything,
      ),
    );
  }
  const allowed = limits.allowDelayMs ?? 0;
  if (fit.algorithm === 'leaky-bucket-delay' && holdMs > Math.max(allowed, MIN_REPORTED_HOLD_MS)) {
    findings.push(
      finding(
        'adds-delay',
        'medium',
        `delaying limiter: requests above ${p.delay ?? 0} are held up to ${Math.round(holdMs)} ms instead of refused`,
        `allowed by the policy: ${allowed} ms (throttle.allowDelayMs)`,
        everything,
      ),
    );
  }
  const headers = headerDisagreement(all, fit, limits.tolerance, isAccepted);
  if (headers)
    findings.push(
      finding('headers-disagree', 'medium', headers, 'rate-limit headers should tell clients what the limiter does', everything),
    );
  return findings;
}

function algorithmFinding(id: Identification, evidence: readonly EvidenceItem[]): FindingDraft {
  const p = id.params;
  const numbers = [
    `rate ${round(p.ratePerSec)}/s`,
    `burst ${p.burst}`,
    ...(p.coldBurst !== undefined ? [`new key ${p.coldBurst}`] : []),
    ...(p.limit !== undefined ? [`limit ${p.limit}`] : []),
    ...(p.windowSec !== undefined ? [`window ${round(p.windowSec)} s`] : []),
    ...(p.countsRejected !== undefined ? [`counts refusals: ${p.countsRejected}`] : []),
    ...(p.lockoutSec !== undefined ? [`lockout ${p.lockoutSec} s`] : []),
    ...(p.delay !== undefined ? [`delay=${p.delay}`] : []),
  ].join(', ');
  const detail = [`${id.residual} of ${id.requests} requests off the model (bound ${id.residualBound})`, ...id.evidence].join('; ');
  return finding(
    `algorithm:${id.algorithm}`,
    'info',
    `identified ${p.variant}: ${numbers}`,
    detail,
    evidence.map((_, i) => i),
  );
}

/**
 * A refusal status the policy does not list, in a limiter's pattern: the gateway accepted, then answered a run of
 * the same non-listed status (4xx/5xx) while none of the listed statuses came. nginx limit_req's default is 503.
 */
function otherRefusalStatus(
  all: readonly Observation[],
  isAccepted: (o: Observation) => boolean,
  isRefused: (o: Observation) => boolean,
  stopped: boolean,
): { status: number; count: number } | undefined {
  if (all.some(isRefused)) return undefined;
  const firstAccept = all.findIndex(isAccepted);
  if (firstAccept < 0) return undefined;
  const counts = new Map<number, number>();
  for (const o of all.slice(firstAccept)) {
    if (o.status !== undefined && o.status >= 400 && !isAccepted(o)) counts.set(o.status, (counts.get(o.status) ?? 0) + 1);
  }
  const [status, count] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
  if (status === undefined || count === undefined || count < 3) return undefined;
  // Accepts come back after the refusals: a limiter refilling, not a gateway falling over. When the health guard
  // stopped the probe at the first run of them there is no "after": the hint then says "if".
  const firstRefusal = all.findIndex((o) => o.status === status);
  return stopped || all.slice(firstRefusal).some(isAccepted) ? { status, count } : undefined;
}

/**
 * The largest run of accepts a limiter within the policy could not have admitted: count − (B+1+slack) − the
 * highest rate × the run's longest possible span (first send to last answer). Undefined when every run fits.
 */
function mostBeyondPolicy(accepted: readonly Observation[], limits: ThrottlePolicy): number | undefined {
  const sorted = [...accepted].sort((a, b) => a.sentAtMs - b.sentAtMs);
  const allowedAtOnce = limits.burstLimit + 1 + Math.max(1, limits.burstLimit * limits.tolerance);
  const ratePerMs = (limits.rateLimit * (1 + limits.tolerance)) / 1000;
  let most: number | undefined;
  for (let i = 0; i < sorted.length; i++) {
    let lastDone = 0;
    for (let j = i; j < sorted.length; j++) {
      lastDone = Math.max(lastDone, sorted[j]!.doneAtMs);
      const beyond = j - i + 1 - allowedAtOnce - ratePerMs * (lastDone - sorted[i]!.sentAtMs);
      if (beyond > 0 && (most === undefined || beyond > most)) most = beyond;
    }
  }
  return most;
}

/** The overload segments' send rate, measured from the sends, against what they were designed for. */
function clientBound(all: readonly Observation[], notes: IdentifyNotes): IdentifiedObserved['clientBound'] {
  for (const segment of notes.segments.filter((s) => s.name.startsWith('overload') && s.ratePerSec > 0)) {
    const sends = all.filter((o) => o.probe === IDENTIFY_PROBE_PREFIX + segment.name).map((o) => o.sentAtMs);
    if (sends.length < 2) continue;
    const spanMs = Math.max(...sends) - Math.min(...sends);
    const offered = spanMs > 0 ? ((sends.length - 1) / spanMs) * 1000 : Infinity;
    if (sends.length < MIN_OFFERED_SHARE * segment.requests || offered < MIN_OFFERED_SHARE * segment.ratePerSec) {
      return { neededRatePerSec: round(segment.ratePerSec), offeredRatePerSec: round(Math.min(offered, segment.ratePerSec)) };
    }
  }
  return null;
}

/** Longest an accepted request took beyond the round trip of a refusal (the limiter's hold), ms. */
function maxHoldMs(all: readonly Observation[], isAccepted: (o: Observation) => boolean, isRefused: (o: Observation) => boolean): number {
  const latency = (o: Observation) => o.doneAtMs - o.sentAtMs;
  const refused = all
    .filter(isRefused)
    .map(latency)
    .sort((a, b) => a - b);
  const base = refused[Math.floor(refused.length / 2)] ?? 0;
  return Math.max(0, ...all.filter(isAccepted).map((o) => latency(o) - base));
}

/** The most accepted requests whose sends fall within `spanMs` of each other, and the span they took. */
function mostAcceptedWithin(accepted: readonly Observation[], spanMs: number): { count: number; spanMs: number } {
  const times = accepted.map((o) => o.sentAtMs).sort((a, b) => a - b);
  let best = { count: 0, spanMs: 0 };
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j]! - times[i]! >= spanMs) i++;
    if (j - i + 1 > best.count) best = { count: j - i + 1, spanMs: times[j]! - times[i]! };
  }
  return best;
}

/**
 * The limit a rate-limit header announces (`RateLimit-Limit`, `X-RateLimit-Limit`, draft-7's `RateLimit: limit=N`)
 * against what was measured at once from idle: the fit's limit (or B) and the cold volley's accepted count, read
 * directly. Only a header that agrees with neither (beyond the tolerance, and 1) is a disagreement: a fit thrown
 * off by a slow volley must not accuse the headers. A Retry-After that overstates the wait is one too.
 */
function headerDisagreement(
  all: readonly Observation[],
  fit: FamilyFit,
  tolerance: number,
  isAccepted: (o: Observation) => boolean,
): string | undefined {
  const fitted = fit.params.limit ?? fit.params.burst;
  const cold = all.filter((o) => o.probe === `${IDENTIFY_PROBE_PREFIX}cold-volley` && isAccepted(o)).length;
  const off = (announced: number, measured: number) => Math.abs(announced - measured) > Math.max(1, tolerance * measured);
  const retry = retryAfterOverstated(all, isAccepted);
  if (retry) return retry;
  for (const o of all) {
    const h = o.headers;
    const raw = h['ratelimit-limit'] ?? h['x-ratelimit-limit'] ?? /limit=(\d+)/.exec(h.ratelimit ?? '')?.[1];
    const announced = raw === undefined ? NaN : Number.parseInt(raw, 10);
    if (!Number.isFinite(announced)) continue;
    if (off(announced, fitted) && off(announced, cold)) {
      return `rate-limit headers announce a limit of ${announced} where ${fitted} were measured at once`;
    }
    return undefined;
  }
  return undefined;
}

/**
 * A refusal's Retry-After (delay-seconds) against when the key accepted again: a client that obeys the header
 * waits for nothing when a request sent more than a second (the header's rounding) before it ran out was accepted.
 * Only the direction the client can observe for sure: a refusal after the delay may be another client's doing.
 */
function retryAfterOverstated(all: readonly Observation[], isAccepted: (o: Observation) => boolean): string | undefined {
  for (let i = 0; i < all.length; i++) {
    const refusal = all[i]!;
    const seconds = Number(refusal.headers['retry-after']);
    if (isAccepted(refusal) || !Number.isFinite(seconds) || seconds <= 0) continue;
    const next = all.slice(i + 1).find((o) => o.sentAtMs > refusal.doneAtMs && isAccepted(o));
    if (next && next.sentAtMs - refusal.sentAtMs + 1000 < seconds * 1000) {
      const after = ((next.sentAtMs - refusal.sentAtMs) / 1000).toFixed(2);
      return `Retry-After asked for ${seconds} s, but a request ${after} s after the refusal was accepted`;
    }
  }
  return undefined;
}

/** A few exchanges a reviewer can read: the first accepted, the first refused, the first oddity. */
function identifyEvidence(
  policy: Policy,
  all: readonly Observation[],
  isAccepted: (o: Observation) => boolean,
  isRefused: (o: Observation) => boolean,
): EvidenceItem[] {
  const items: EvidenceItem[] = [];
  const pick = (test: (o: Observation) => boolean, label: string, outcome: EvidenceItem['outcome']) => {
    const found = all.find(test);
    if (found) items.push(evidenceFrom(policy, found, `${found.probe.slice(IDENTIFY_PROBE_PREFIX.length)}: ${label}`, outcome));
  };
  pick(isAccepted, 'first accepted', 'info');
  pick(isRefused, 'first refused', 'info');
  pick((o) => !isAccepted(o) && !isRefused(o), 'neither accepted nor refused', 'unresolved');
  return items;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
