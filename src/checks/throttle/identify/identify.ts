/**
 * Which limiter is this? Grid-search every family's parameters against the observed accept/refuse sequence
 * (and the holds of a delaying limiter), score = requests the model got wrong, counted as the size of the
 * correction each wrong prediction needed (score.ts: a request whose outcome flips inside its send..answer
 * interval is no evidence), and pick the best fit.
 *
 * Simpler first: each fit costs its mismatches plus paramCost(n) per parameter (BIC: ½·ln n nats per
 * parameter, expressed in mismatches of ln 49 nats each, i.e. a 2% error rate; ≈ 0.77 at n = 400). On a tie the
 * model with fewer parameters wins; a richer one must explain about one more request per parameter it adds.
 * Settings that tie within a family: the one nearest the policy's rate. Equivalent models exist and are
 * reported as the simpler one: nginx `nodelay` is a token bucket; a timer refilling to full at every fill is
 * a fixed window. When another algorithm fits within one mismatch, `ambiguous` says so.
 *
 * Grids are sized from the data (the cold volley's accepts, the accepted rate under overload, where accepts
 * resumed) and the policy, coarse then fine around the best coarse fits, with branch and bound (a setting is
 * dropped once it is ABORT_SLACK worse than the best so far), so one route takes tens of ms of CPU.
 */
import {
  burstOf,
  createModel,
  ratePerSec,
  type IntegerBucketSpec,
  type ModelFamily,
  type ModelSpec,
  type TimerRefillSpec,
} from './models.js';
import { prepare, scoreModel, type ObservedRequest, type Prepared } from './score.js';

export type Algorithm = 'token-bucket' | 'fixed-window' | 'sliding-window' | 'leaky-bucket-delay' | 'timer-refill' | 'unknown';

export interface IdentifiedParams {
  /** Long-run accepted rate, requests/s. */
  ratePerSec: number;
  /** Rates that fit as well as the reported one (the same parameters otherwise), when the family has a rate. */
  rateRangePerSec?: [number, number];
  /** What an idle (known) key admits at once: bucket capacity or window limit. */
  burst: number;
  /** What a never-seen key admits at once, when it differs (nginx new key, redis-cell max_burst+1). */
  coldBurst?: number;
  limit?: number;
  windowSec?: number;
  countsRejected?: boolean;
  alignment?: 'utc' | 'first-request' | 'free';
  /** nginx `delay=`: requests served without a hold. */
  delay?: number;
  /** vsthrottle `block`: how long the first refusal locks the key out. */
  lockoutSec?: number;
  tokensPerFill?: number;
  fillIntervalMs?: number;
  phaseMs?: number;
  /** The concrete limiter this matches, in words. */
  variant: string;
}

export interface FamilyFit {
  algorithm: Exclude<Algorithm, 'unknown'>;
  family: ModelFamily;
  spec: ModelSpec;
  params: IdentifiedParams;
  /** Requests the model got wrong. */
  residual: number;
  /** residual + paramCost(requests) · parameters. */
  cost: number;
  /** Mismatches per probe segment (segments with none left out): where this model failed. */
  wrongIn: Record<string, number>;
}

export interface Identification {
  algorithm: Algorithm;
  /** The best fit's parameters (also when `unknown`: the closest model, for the report). */
  params: IdentifiedParams;
  residual: number;
  /** Above this residual nothing fits: `unknown`. */
  residualBound: number;
  /**
   * Another algorithm fits (nearly) as well: within one mismatch of the best. The probe could not tell them apart
   * (a lockout and a long fixed window both refuse everything after the first volley); say so rather than guess.
   */
  ambiguous: boolean;
  requests: number;
  best: FamilyFit;
  runnerUp?: FamilyFit;
  /** Best fit of every family, cheapest first. */
  families: FamilyFit[];
  /** Why the others lost, one line each: which probe segments each got wrong. */
  evidence: string[];
  /** How many parameter settings were scored (a measure of the search's work). */
  modelsScored: number;
  /** Requests replayed per family (the search's work). */
  replayed: Partial<Record<ModelFamily, number>>;
}

export interface IdentifyHints {
  rateLimit: number;
  burstLimit: number;
  windowSec?: number;
}

const ABORT_SLACK = 6;
/** Window lengths a window limiter is usually configured with (ms); the policy's windowSec is added. */
const WINDOWS_MS = [250, 500, 1000, 2000, 3000, 5000, 10_000];
/** Envoy's fill_interval is ≥ 50 ms and usually round. */
const FILL_INTERVALS_MS = [50, 100, 200, 250, 500, 1000, 2000];
/** Lockouts tried first; the best is then refined within ×/÷2. */
const BLOCKS_MS = [500, 2000];

/**
 * Residual bound for `unknown`: 3 requests plus 4% of them. Arrival uncertainty is already forgiven per
 * request; what is left is what no model can know: a stall of the client (its latency looks like a hold), a
 * request overtaken by a later one, the server's cached clock.
 */
export function residualBound(requests: number): number {
  return 3 + Math.ceil(0.04 * requests);
}

export function parameterCount(spec: ModelSpec): number {
  switch (spec.family) {
    case 'token-bucket':
    case 'fixed-window':
      return 2;
    case 'integer-bucket':
      return spec.blockMs > 0 ? 3 : 2;
    case 'leaky-bucket':
    case 'sliding-window':
      return 3;
    case 'timer-refill':
      return spec.alignment === 'utc' ? 3 : 4;
  }
}

interface Scored {
  spec: ModelSpec;
  residual: number;
  cost: number;
}

/**
 * Scores parameter settings with branch and bound: a setting is dropped as soon as its mismatches exceed the best
 * cost found so far (any family) by ABORT_SLACK. A family none of whose settings got that far keeps the setting
 * that went furthest before failing, so the report can still say where that family went wrong.
 */
class Search {
  scored = 0;
  best = Infinity;
  readonly kept: Scored[] = [];
  readonly furthest = new Map<ModelFamily, { spec: ModelSpec; reached: number }>();
  /** Requests replayed per family: where the search spends its time. */
  readonly work = new Map<ModelFamily, number>();
  private readonly scratch: Float64Array;
  constructor(
    private readonly p: Prepared,
    private readonly paramCost: number,
  ) {
    this.scratch = new Float64Array(p.n);
  }
  /** Scores every spec; returns those kept, cheapest first. */
  run(specs: Iterable<ModelSpec>): Scored[] {
    const kept: Scored[] = [];
    for (const spec of specs) {
      this.scored++;
      const penalty = this.paramCost * parameterCount(spec);
      const score = scoreModel(createModel(spec), this.p, this.best + ABORT_SLACK - penalty, this.scratch);
      this.work.set(spec.family, (this.work.get(spec.family) ?? 0) + score.reached);
      if (score.aborted) {
        const far = this.furthest.get(spec.family);
        if (!far || score.reached > far.reached) this.furthest.set(spec.family, { spec, reached: score.reached });
        continue;
      }
      const cost = score.mismatches + penalty;
      this.best = Math.min(this.best, cost);
      kept.push({ spec, residual: score.mismatches, cost });
    }
    this.kept.push(...kept);
    return kept.sort((a, b) => a.cost - b.cost);
  }
}

/** Geometric grid from lo to hi, step as a ratio (0.04 = 4%). */
function geometric(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  for (let x = lo; x <= hi * (1 + 1e-9); x *= 1 + step) out.push(x);
  return out;
}

function intRange(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let x = Math.max(1, Math.round(lo)); x <= Math.round(hi); x++) out.push(x);
  return out;
}

/** The first `count` fits that differ in more than their rate. */
function distinctShapes(fits: Scored[], count: number): ModelSpec[] {
  const out: ModelSpec[] = [];
  const seen = new Set<string>();
  for (const f of fits) {
    const key = shapeKey(f.spec);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f.spec);
    if (out.length >= count) break;
  }
  return out;
}

/** A spec without its rate (what rate-only refinement keeps fixed). */
function shapeKey(spec: ModelSpec): string {
  return JSON.stringify({ ...spec, ratePerSec: 0, periodMs: 0 });
}

/** The same spec at another rate. */
function withRate(spec: ModelSpec, rate: number): ModelSpec {
  if (spec.family === 'token-bucket' || spec.family === 'leaky-bucket') return { ...spec, ratePerSec: rate };
  if (spec.family === 'integer-bucket') return { ...spec, periodMs: (spec.limit / rate) * 1000 };
  return spec;
}

/** Rate refinement: each of the best shapes at rates within ±1.5% of its own, 0.15% apart. */
function* refineRates(fits: Scored[]): Generator<ModelSpec> {
  for (const spec of distinctShapes(fits, 3)) {
    const centre = ratePerSec(spec);
    for (const rate of geometric(centre / 1.015, centre * 1.015, 0.0015)) yield withRate(spec, rate);
  }
}

interface DataSummary {
  /** Accepted in the cold volley. */
  coldAccepted: number;
  /** Cold-volley accepts served before the first one held (a delaying limiter's `delay`, +1 for a new key). */
  coldUnheld: number;
  /** Accepted per second over the overload segments (0 when none accepted). */
  overloadRate: number;
  /** Send times of accepts that follow a refusal under overload: where a timer's fills can be. */
  refillMarks: number[];
}

function summarise(observations: readonly ObservedRequest[], p: Prepared): DataSummary {
  const cold = observations.filter((o) => o.segment === 'cold-volley');
  const coldAccepted = cold.filter((o) => o.accepted);
  const latencies = coldAccepted.map((o) => o.answerMs - o.sendMs).sort((a, b) => a - b);
  const quickest = latencies[0] ?? 0;
  const coldUnheld = latencies.filter((l) => l - quickest <= 10 + p.jitterMs).length;
  const overload = observations.filter((o) => o.segment.startsWith('overload-')).sort((a, b) => a.sendMs - b.sendMs);
  const spanMs = overload.length > 1 ? overload[overload.length - 1]!.sendMs - overload[0]!.sendMs : 0;
  const overloadRate = spanMs > 0 ? (overload.filter((o) => o.accepted).length / spanMs) * 1000 : 0;
  // Midway between send and answer: near the arrival (a send can precede the fill it was accepted by).
  const refillMarks = overload.filter((o, i) => o.accepted && i > 0 && !overload[i - 1]!.accepted).map((o) => (o.sendMs + o.answerMs) / 2);
  return { coldAccepted: coldAccepted.length, coldUnheld, overloadRate, refillMarks };
}

/**
 * Candidate phases of a timer with this interval. A fill lies between a refusal and the accept after it, so the
 * accepts that follow refusals (modulo the interval) bunch just after the fills: the commonest bunches (in
 * 1/20ths of the interval), each at its median and a little before. A phase a little late costs a mismatch or
 * two, one too early a fill's worth (the model hands out tokens the limiter had not yet): err late, and let the
 * refinement walk back.
 */
function timerPhases(marks: readonly number[], intervalMs: number): number[] {
  const bins = new Map<number, number[]>();
  const width = intervalMs / 20;
  for (const m of marks) {
    const phase = ((m % intervalMs) + intervalMs) % intervalMs;
    const bin = Math.floor(phase / width);
    bins.set(bin, [...(bins.get(bin) ?? []), phase]);
  }
  const top = [...bins.values()].sort((a, b) => b.length - a.length).slice(0, 3);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const phases = top.flatMap((bin) => [median(bin), median(bin) - width / 4]);
  return phases.length ? phases : [0, intervalMs / 2];
}

/** Parameter cost: ½·ln n nats per parameter (BIC), in mismatches of ln(49) nats each (2% error rate). */
export function paramCost(requests: number): number {
  return (0.5 * Math.log(Math.max(2, requests))) / Math.log(49);
}

export function identify(observations: readonly ObservedRequest[], hints: IdentifyHints): Identification {
  const p = prepare(observations);
  const data = summarise(observations, p);
  const cost = paramCost(p.n);
  const search = new Search(p, cost);
  const a0 = data.coldAccepted > 0 ? data.coldAccepted : Math.max(1, hints.burstLimit);
  // The data pin a bucket's rate to a fraction of a percent (one request in the overload segments' span), so
  // the coarse grid is 1.5% apart around what the overload admitted (and the policy's rate, should it be 0).
  const centre = data.overloadRate > 0 ? data.overloadRate : hints.rateLimit;
  // Nearest the centre first: good fits early make the bound tight for the rest.
  const outward = (xs: number[]) => xs.sort((a, b) => Math.abs(Math.log(a / centre)) - Math.abs(Math.log(b / centre)));
  const coarseRates = outward(geometric(centre / 1.6, centre * 1.6, 0.015));
  const sparseRates = outward(geometric(centre / 1.6, centre * 1.6, 0.03));
  const windows = [...new Set([...WINDOWS_MS, ...(hints.windowSec ? [Math.round(hints.windowSec * 1000)] : [])])];
  /** (capacity, one extra for a new key) pairs that admit a0−2 … a0+1 from cold. */
  const capacities = intRange(a0 - 2, a0 + 1).flatMap((total) => [
    { capacity: total, extra: 0 as const },
    ...(total > 1 ? [{ capacity: total - 1, extra: 1 as const }] : []),
  ]);

  // A pilot: each family's likeliest setting, so the bound is tight from the start.
  const pilotWindowMs = hints.windowSec ? hints.windowSec * 1000 : 1000;
  search.run([
    { family: 'token-bucket', ratePerSec: centre, burst: a0, coldExtra: 0 },
    { family: 'fixed-window', limit: a0, windowMs: pilotWindowMs, alignment: 'first-request' },
    { family: 'fixed-window', limit: a0, windowMs: pilotWindowMs, alignment: 'utc' },
    { family: 'sliding-window', limit: a0, windowMs: pilotWindowMs, countsRejected: true, alignment: 'first-request' },
    { family: 'sliding-window', limit: a0, windowMs: pilotWindowMs, countsRejected: false, alignment: 'first-request' },
  ]);

  // Token bucket / GCRA.
  const tb = search.run(
    (function* () {
      for (const ratePerSec of coarseRates)
        for (const { capacity, extra } of capacities)
          yield { family: 'token-bucket', ratePerSec, burst: capacity, coldExtra: extra } as const;
    })(),
  );
  search.run(refineRates(tb));

  // Windows.
  const limits = intRange(a0 - 2, a0 + 1);
  search.run(
    (function* () {
      for (const windowMs of windows)
        for (const limit of limits)
          for (const alignment of ['first-request', 'utc'] as const) {
            yield { family: 'fixed-window', limit, windowMs, alignment } as const;
            // @fastify/rate-limit continueExceeding. A discrete variant like the alignment, not counted as a
            // parameter: on a tie the setting nearest the policy's rate wins within the family.
            if (alignment === 'first-request')
              yield { family: 'fixed-window', limit, windowMs, alignment, restartOnRefusal: true } as const;
          }
    })(),
  );
  search.run(
    (function* () {
      for (const windowMs of windows)
        for (const limit of limits)
          for (const alignment of ['first-request', 'utc'] as const)
            for (const countsRejected of [true, false])
              yield { family: 'sliding-window', limit, windowMs, countsRejected, alignment } as const;
    })(),
  );

  // Timer refill: Spring Cloud Gateway (whole UTC seconds), Envoy (a free phase, from where accepts resumed).
  const centreRate = data.overloadRate > 0 ? data.overloadRate : hints.rateLimit;
  const timerShapes: Array<{ fillIntervalMs: number; tokensPerFill: number; maxTokens: number }> = [];
  for (const fillIntervalMs of FILL_INTERVALS_MS) {
    const perFill = (rate: number) => (rate * fillIntervalMs) / 1000;
    const ks = intRange(
      Math.floor(perFill(Math.min(centreRate, hints.rateLimit)) * 0.9),
      Math.ceil(perFill(Math.max(centreRate, hints.rateLimit)) * 1.12),
    );
    const step = Math.max(1, Math.ceil(ks.length / 12));
    for (const tokensPerFill of ks.filter((_, i) => i % step === 0))
      // tokensPerFill ≥ maxTokens refills to full at every fill: that is a fixed window (fewer parameters).
      for (const maxTokens of intRange(a0 - 2, a0 + 1))
        if (maxTokens > tokensPerFill) timerShapes.push({ fillIntervalMs, tokensPerFill, maxTokens });
  }
  search.run(
    timerShapes
      .filter((s) => s.fillIntervalMs % 1000 === 0)
      .map((s) => ({ ...s, family: 'timer-refill', phaseMs: 0, alignment: 'utc' }) as const),
  );
  const timer = search.run(
    (function* () {
      for (const s of timerShapes)
        for (const phaseMs of timerPhases(data.refillMarks, s.fillIntervalMs))
          yield { ...s, family: 'timer-refill', phaseMs, alignment: 'free' } as const;
    })(),
  );
  search.run(
    (function* () {
      for (const best of timer.slice(0, 3)) {
        const spec = best.spec as TimerRefillSpec;
        for (let j = -8; j <= 8; j++) yield { ...spec, phaseMs: spec.phaseMs + (j * spec.fillIntervalMs) / 100 };
      }
    })(),
  );

  // vsthrottle: integer tokens, with or without a lockout.
  const ib = search.run(
    (function* () {
      for (const rate of sparseRates)
        for (const limit of intRange(a0 - 1, a0 + 1))
          for (const blockMs of [0, ...BLOCKS_MS])
            yield { family: 'integer-bucket', limit, periodMs: (limit / rate) * 1000, blockMs } as const;
    })(),
  );
  const ibFine = search.run(refineRates(ib));
  search.run(
    (function* () {
      for (const best of [...ibFine, ...ib].filter((s) => (s.spec as IntegerBucketSpec).blockMs > 0).slice(0, 2)) {
        const spec = best.spec as IntegerBucketSpec;
        for (const blockMs of geometric(spec.blockMs / 2, spec.blockMs * 2, 0.05)) yield { ...spec, blockMs };
      }
    })(),
  );

  // nginx without nodelay: its refusals are a token bucket's, so its rates are the bucket's best ones. It must
  // hold at least two of a cold volley (burst − delay ≥ 2): a hold of one request is a stall's look-alike.
  // Without two holds in the cold volley no setting of it can fit: only its likeliest one is scored (evidence).
  const delays = [...new Set([0, ...intRange(data.coldUnheld - 2, data.coldUnheld)])];
  const heldInCold = data.coldAccepted - data.coldUnheld;
  const leaky = search.run(
    (function* () {
      for (const ratePerSec of heldInCold >= 2 ? sparseRates : sparseRates.slice(0, 1))
        for (const { capacity, extra } of capacities)
          for (const delay of delays)
            if (capacity - delay >= 2) yield { family: 'leaky-bucket', ratePerSec, burst: capacity, delay, freshKey: extra === 1 } as const;
    })(),
  );
  if (heldInCold >= 2) search.run(refineRates(leaky));

  const families = collectFamilies(search, p, cost, hints.rateLimit);
  const best = families[0]!;
  const bound = residualBound(p.n);
  const runnerUp = families[1];
  return {
    algorithm: best.residual <= bound ? best.algorithm : 'unknown',
    params: best.params,
    residual: best.residual,
    residualBound: bound,
    ambiguous: runnerUp !== undefined && runnerUp.algorithm !== best.algorithm && runnerUp.residual <= best.residual + 1,
    requests: p.n,
    best,
    ...(runnerUp ? { runnerUp } : {}),
    families,
    evidence: families.slice(1).map((f) => {
      const where = Object.entries(f.wrongIn)
        .sort((a, b) => b[1] - a[1])
        .map(([segment, count]) => `${segment} ×${count}`)
        .join(', ');
      return `${f.family} (${f.params.variant}): ${f.residual} wrong${where ? ` — ${where}` : ''}`;
    }),
    modelsScored: search.scored,
    replayed: Object.fromEntries(search.work),
  };
}

const ALGORITHM: Record<ModelFamily, Exclude<Algorithm, 'unknown'>> = {
  'token-bucket': 'token-bucket',
  'integer-bucket': 'token-bucket',
  'leaky-bucket': 'leaky-bucket-delay',
  'timer-refill': 'timer-refill',
  'fixed-window': 'fixed-window',
  'sliding-window': 'sliding-window',
};

/** Each family's best fit (rescored in full for its per-segment mismatches), cheapest first. */
function collectFamilies(search: Search, p: Prepared, paramCost: number, policyRate: number): FamilyFit[] {
  const byFamily = new Map<ModelFamily, Scored[]>();
  for (const s of search.kept) byFamily.set(s.spec.family, [...(byFamily.get(s.spec.family) ?? []), s]);
  for (const [family, far] of search.furthest)
    if (!byFamily.has(family)) byFamily.set(family, [{ spec: far.spec, residual: Infinity, cost: Infinity }]);
  const out: FamilyFit[] = [];
  for (const [family, scored] of byFamily) {
    // On a tie the data cannot tell the settings apart: take the one nearest the policy's rate.
    const offPolicy = (s: Scored) => Math.abs(Math.log(ratePerSec(s.spec) / policyRate));
    scored.sort((a, b) => a.cost - b.cost || offPolicy(a) - offPolicy(b));
    const best = scored[0]!;
    const score = scoreModel(createModel(best.spec), p);
    const wrongIn: Record<string, number> = {};
    score.perSegment.forEach((count, i) => {
      if (count > 0) wrongIn[p.segments[i]!] = count;
    });
    out.push({
      algorithm: ALGORITHM[family],
      family,
      spec: best.spec,
      params: describe(best.spec, rateRange(best, scored), policyRate),
      residual: score.mismatches,
      cost: score.mismatches + paramCost * parameterCount(best.spec),
      wrongIn,
    });
  }
  return out.sort((a, b) => a.cost - b.cost);
}

/**
 * The rates that fit exactly as well as the best, all else equal: the data pins the rate only to this plateau,
 * so its middle is reported and its ends are the rate's uncertainty.
 */
function rateRange(best: Scored, scored: Scored[]): [number, number] | undefined {
  if (best.spec.family !== 'token-bucket' && best.spec.family !== 'leaky-bucket' && best.spec.family !== 'integer-bucket') return undefined;
  const key = shapeKey(best.spec);
  const rates = scored.filter((s) => s.cost === best.cost && shapeKey(s.spec) === key).map((s) => ratePerSec(s.spec));
  return [Math.min(...rates), Math.max(...rates)];
}

function describe(spec: ModelSpec, range: [number, number] | undefined, policyRate: number): IdentifiedParams {
  // Every rate of the plateau explains the data equally: report the one nearest the policy's (its own, when
  // the data cannot refute it), with the plateau as the rate's range.
  const rate = range ? Math.min(range[1], Math.max(range[0], policyRate)) : ratePerSec(spec);
  const base = { ratePerSec: rate, burst: burstOf(spec), ...(range ? { rateRangePerSec: range } : {}) };
  switch (spec.family) {
    case 'token-bucket':
      return {
        ...base,
        ...(spec.coldExtra ? { coldBurst: spec.burst + 1 } : {}),
        variant: spec.coldExtra ? 'token bucket / GCRA, a new key admits burst+1 (nginx nodelay, redis-cell)' : 'token bucket / GCRA',
      };
    case 'integer-bucket':
      return {
        ...base,
        limit: spec.limit,
        windowSec: spec.limit / rate,
        ...(spec.blockMs > 0 ? { lockoutSec: spec.blockMs / 1000 } : {}),
        variant: spec.blockMs > 0 ? 'integer token bucket with lockout (vsthrottle block)' : 'integer token bucket (vsthrottle)',
      };
    case 'leaky-bucket':
      return {
        ...base,
        ...(spec.freshKey ? { coldBurst: spec.burst + 1 } : {}),
        delay: spec.delay,
        variant: `leaky bucket holding requests above ${spec.delay} (nginx limit_req${spec.delay ? ` delay=${spec.delay}` : ''})`,
      };
    case 'timer-refill':
      return {
        ...base,
        tokensPerFill: spec.tokensPerFill,
        fillIntervalMs: spec.fillIntervalMs,
        phaseMs: spec.phaseMs,
        alignment: spec.alignment,
        variant: spec.alignment === 'utc' ? 'refill on whole UTC seconds (Spring Cloud Gateway)' : 'timer refill (Envoy ≤1.30)',
      };
    case 'fixed-window':
      return {
        ...base,
        limit: spec.limit,
        windowSec: spec.windowMs / 1000,
        alignment: spec.alignment,
        ...(spec.restartOnRefusal ? { countsRejected: true } : {}),
        variant:
          spec.alignment === 'utc'
            ? 'fixed window aligned to UTC (Kong)'
            : spec.restartOnRefusal
              ? 'fixed window restarted by every refusal: a client above the limit is locked out (@fastify/rate-limit continueExceeding)'
              : 'fixed window opened by the first request (express-rate-limit, @fastify/rate-limit)',
      };
    case 'sliding-window':
      return {
        ...base,
        limit: spec.limit,
        windowSec: spec.windowMs / 1000,
        countsRejected: spec.countsRejected,
        alignment: spec.alignment,
        variant: spec.countsRejected
          ? 'sliding-window counter counting every request (HAProxy http_req_rate)'
          : 'sliding-window counter counting accepted requests (HAProxy gpc0)',
      };
  }
}
