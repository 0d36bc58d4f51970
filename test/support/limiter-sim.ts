/**
 * Synthetic observations of a limiter model: the probe schedule sent through a jittery network. Send times are
 * the schedule's; each request reaches the server 0.1–5 ms later (1% of them stall 50 ms more), the server
 * decides in arrival order (models.ts simulate) and answers after its hold plus a 0.1–2 ms trip back.
 * Seeded, so a failing case is reproducible from its seed.
 */
import type { FamilyFit, Identification } from '../../src/checks/throttle/identify/identify.js';
import { burstOf, ratePerSec, REFUSED, simulate, type ModelSpec } from '../../src/checks/throttle/identify/models.js';
import { designProbe, type ProbeSchedule } from '../../src/checks/throttle/identify/probe.js';
import type { ObservedRequest } from '../../src/checks/throttle/identify/score.js';

/** mulberry32: a small, well-known 32-bit PRNG; enough for jitter. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface NetworkJitter {
  minMs: number;
  maxMs: number;
  stallProbability: number;
  stallMs: number;
}

export const REALISTIC: NetworkJitter = { minMs: 0.1, maxMs: 5, stallProbability: 0.01, stallMs: 50 };

export function observeSynthetic(
  spec: ModelSpec,
  schedule: ProbeSchedule,
  seed: number,
  jitter: NetworkJitter = REALISTIC,
): ObservedRequest[] {
  const random = prng(seed);
  const between = (lo: number, hi: number) => lo + (hi - lo) * random();
  const sent = schedule.requests.map((r, i) => {
    // A volley leaves the client one request after another: a few µs each.
    const sendMs = schedule.startEpochMs + r.atMs + i * 0.005;
    const stall = random() < jitter.stallProbability ? jitter.stallMs : 0;
    return { sendMs, arrivalMs: sendMs + between(jitter.minMs, jitter.maxMs) + stall, segment: r.segment };
  });
  const byArrival = [...sent].sort((a, b) => a.arrivalMs - b.arrivalMs);
  const verdicts = simulate(
    spec,
    byArrival.map((r) => r.arrivalMs),
  );
  return byArrival.map((r, i) => {
    const verdict = verdicts[i]!;
    const held = verdict === REFUSED ? 0 : verdict;
    return {
      sendMs: r.sendMs,
      answerMs: r.arrivalMs + held + between(jitter.minMs, 2),
      accepted: verdict !== REFUSED,
      segment: r.segment,
    };
  });
}

/** A limiter whose truth is known: its model, the policy a user would write for it, and what to expect. */
export interface KnownLimiter {
  name: string;
  spec: ModelSpec;
  hints: { rateLimit: number; burstLimit: number; windowSec?: number };
  algorithm: 'token-bucket' | 'fixed-window' | 'sliding-window' | 'leaky-bucket-delay' | 'timer-refill';
  /** The rate cannot be measured (a lockout hides the refill): only its plausible range must contain it. */
  rateHidden?: boolean;
}

/** Two settings of every family, as the real limiters are configured (the integration tests start those). */
export const KNOWN_LIMITERS: KnownLimiter[] = [
  {
    name: 'GCRA 50/s burst 20',
    spec: { family: 'token-bucket', ratePerSec: 50, burst: 20, coldExtra: 0 },
    hints: { rateLimit: 50, burstLimit: 20 },
    algorithm: 'token-bucket',
  },
  {
    name: 'redis-cell 200/s max_burst 50',
    spec: { family: 'token-bucket', ratePerSec: 200, burst: 50, coldExtra: 1 },
    hints: { rateLimit: 200, burstLimit: 50 },
    algorithm: 'token-bucket',
  },
  {
    name: 'nginx nodelay 50r/s burst=10 (new key)',
    spec: { family: 'token-bucket', ratePerSec: 50, burst: 10, coldExtra: 1 },
    hints: { rateLimit: 50, burstLimit: 10 },
    algorithm: 'token-bucket',
  },
  {
    name: 'nginx 20r/s burst=10 (delaying, new key)',
    spec: { family: 'leaky-bucket', ratePerSec: 20, burst: 10, delay: 0, freshKey: true },
    hints: { rateLimit: 20, burstLimit: 10 },
    algorithm: 'leaky-bucket-delay',
  },
  {
    name: 'nginx 50r/s burst=20 delay=5',
    spec: { family: 'leaky-bucket', ratePerSec: 50, burst: 20, delay: 5, freshKey: false },
    hints: { rateLimit: 50, burstLimit: 20 },
    algorithm: 'leaky-bucket-delay',
  },
  {
    name: 'vsthrottle 20 per 1s',
    spec: { family: 'integer-bucket', limit: 20, periodMs: 1000, blockMs: 0 },
    hints: { rateLimit: 20, burstLimit: 20 },
    algorithm: 'token-bucket',
  },
  {
    name: 'vsthrottle 100 per 2s',
    spec: { family: 'integer-bucket', limit: 100, periodMs: 2000, blockMs: 0 },
    hints: { rateLimit: 50, burstLimit: 100 },
    algorithm: 'token-bucket',
  },
  {
    name: 'vsthrottle 50 per 1s block 2s',
    spec: { family: 'integer-bucket', limit: 50, periodMs: 1000, blockMs: 2000 },
    hints: { rateLimit: 50, burstLimit: 50 },
    algorithm: 'token-bucket',
    rateHidden: true,
  },
  {
    name: 'Envoy 5 per 100ms max 20',
    spec: { family: 'timer-refill', tokensPerFill: 5, fillIntervalMs: 100, maxTokens: 20, phaseMs: 37, alignment: 'free' },
    hints: { rateLimit: 50, burstLimit: 20 },
    algorithm: 'timer-refill',
  },
  {
    name: 'Envoy 25 per 250ms max 60',
    spec: { family: 'timer-refill', tokensPerFill: 25, fillIntervalMs: 250, maxTokens: 60, phaseMs: 180, alignment: 'free' },
    hints: { rateLimit: 100, burstLimit: 60 },
    algorithm: 'timer-refill',
  },
  {
    name: 'Spring Cloud Gateway 20/s capacity 40',
    spec: { family: 'timer-refill', tokensPerFill: 20, fillIntervalMs: 1000, maxTokens: 40, phaseMs: 0, alignment: 'utc' },
    hints: { rateLimit: 20, burstLimit: 40 },
    algorithm: 'timer-refill',
  },
  {
    name: 'Spring Cloud Gateway 50/s capacity 100',
    spec: { family: 'timer-refill', tokensPerFill: 50, fillIntervalMs: 1000, maxTokens: 100, phaseMs: 0, alignment: 'utc' },
    hints: { rateLimit: 50, burstLimit: 100 },
    algorithm: 'timer-refill',
  },
  {
    name: 'express-rate-limit 50 per 1s',
    spec: { family: 'fixed-window', limit: 50, windowMs: 1000, alignment: 'first-request' },
    hints: { rateLimit: 50, burstLimit: 50, windowSec: 1 },
    algorithm: 'fixed-window',
  },
  {
    name: '@fastify/rate-limit 30 per 500ms',
    spec: { family: 'fixed-window', limit: 30, windowMs: 500, alignment: 'first-request' },
    hints: { rateLimit: 60, burstLimit: 30, windowSec: 0.5 },
    algorithm: 'fixed-window',
  },
  {
    name: '@fastify/rate-limit 15 per 1s, continueExceeding',
    spec: { family: 'fixed-window', limit: 15, windowMs: 1000, alignment: 'first-request', restartOnRefusal: true },
    hints: { rateLimit: 15, burstLimit: 15, windowSec: 1 },
    algorithm: 'fixed-window',
  },
  {
    name: 'Kong 100 per second (UTC)',
    spec: { family: 'fixed-window', limit: 100, windowMs: 1000, alignment: 'utc' },
    hints: { rateLimit: 100, burstLimit: 100, windowSec: 1 },
    algorithm: 'fixed-window',
  },
  {
    name: 'HAProxy http_req_rate 50 per 1s',
    spec: { family: 'sliding-window', limit: 50, windowMs: 1000, countsRejected: true, alignment: 'first-request' },
    hints: { rateLimit: 50, burstLimit: 50, windowSec: 1 },
    algorithm: 'sliding-window',
  },
  {
    name: 'HAProxy gpc0 over 1s, 50 (accepted only)',
    spec: { family: 'sliding-window', limit: 51, windowMs: 1000, countsRejected: false, alignment: 'first-request' },
    hints: { rateLimit: 50, burstLimit: 50, windowSec: 1 },
    algorithm: 'sliding-window',
  },
  {
    name: 'HAProxy http_req_rate 20 per 500ms',
    spec: { family: 'sliding-window', limit: 20, windowMs: 500, countsRejected: true, alignment: 'first-request' },
    hints: { rateLimit: 40, burstLimit: 20, windowSec: 0.5 },
    algorithm: 'sliding-window',
  },
];

/** The fit that names the truth's algorithm: the best, or the runner-up when the result is flagged ambiguous. */
export function fitFor(id: Identification, algorithm: string): FamilyFit | undefined {
  if (id.algorithm === algorithm) return id.best;
  if (id.ambiguous && id.runnerUp?.algorithm === algorithm) return id.runnerUp;
  return undefined;
}

/** Rate within ±5% (or, when hidden, inside the range that fits), burst within ±2 requests or 5%. */
export function withinTolerance(fit: FamilyFit, truth: KnownLimiter): { rateError: number; burstError: number; ok: boolean } {
  const trueRate = ratePerSec(truth.spec);
  const trueBurst = burstOf(truth.spec);
  const rateError = fit.params.ratePerSec / trueRate - 1;
  const burstError = fit.params.burst - trueBurst;
  const range = fit.params.rateRangePerSec;
  const rateOk = truth.rateHidden
    ? range !== undefined && range[0] <= trueRate * 1.05 && range[1] >= trueRate * 0.95
    : Math.abs(rateError) <= 0.05;
  const burstOk = Math.abs(burstError) <= Math.max(2, 0.05 * trueBurst);
  return { rateError, burstError, ok: rateOk && burstOk };
}

/** The schedule and synthetic observations of one known limiter for one seed (epoch shifted per seed). */
export function syntheticRun(truth: KnownLimiter, seed: number): { schedule: ProbeSchedule; observations: ObservedRequest[] } {
  const schedule = designProbe({ ...truth.hints, epochMs: 1_780_000_000_123 + seed * 7919 });
  return { schedule, observations: observeSynthetic(truth.spec, schedule, seed) };
}
