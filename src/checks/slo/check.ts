import { HealthGuard } from '../../engine/health-guard.js';
import { LatencyRecorder } from '../../engine/latency.js';
import type { Observation } from '../../engine/observation.js';
import type { OfferedLoad } from '../../engine/paced-run.js';
import { constantPacer } from '../../engine/pacer.js';
import { runPaced } from '../../engine/paced-run.js';
import { idleBucketWaitMs } from '../../engine/throttle-model.js';
import { isOkStatus, type RoutePolicy, type SloPolicy } from '../../policy/types.js';
import { routeRequest } from '../context.js';
import type { CheckDefinition, FindingDraft } from '../contract.js';
import { finding } from '../findings.js';
import { evidenceFrom } from '../evidence.js';
import type { CheckStatus } from '../types.js';

export interface SloMeasurement {
  sent: number;
  ok: number;
  /** 5xx, 429, other non-normal answers and transport errors. */
  failed: number;
  transportErrors: number;
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
  /** The same percentiles from the actual send time: what the gateway took, plus the client's own read delay. */
  service?: { p50Ms?: number; p95Ms?: number; p99Ms?: number };
  /**
   * The most the client itself can have added to one answer's time: its event loop's longest
   * delay while the measurement ran. A busy machine shows here, not in the gateway's verdict.
   */
  clientDelayMs?: number;
}

/** Default load: gentle enough to stay inside the bucket (half the rate limit), at most 20/s. */
export function sloRatePerSec(route: RoutePolicy, slo: SloPolicy): number {
  return slo.ratePerSec ?? Math.min(20, route.throttle ? route.throttle.rateLimit / 2 : 20);
}

/** One objective of the policy's slo breached: which (the finding's slug part), and the measured value against it. */
export interface SloBreach {
  objective: 'p50' | 'p95' | 'p99' | 'error-rate';
  text: string;
}

export interface SloVerdict {
  status: CheckStatus;
  summary: string;
  /** The objectives breached beyond what the client can have added (a fail rests on these). */
  breaches: SloBreach[];
}

/**
 * Pure verdict. Nothing answered normally → error (no latency to judge), never a pass. Latency
 * is read from the intended send time, so a late client can only make it look worse: a percentile
 * under its objective passes whatever the machine did. One over it fails only when it stays over
 * after taking off everything the client can have added (its send lag, by measuring from the
 * actual send, and its event loop's longest delay); otherwise the breach may be the client's own
 * and the verdict is inconclusive.
 */
export function evaluateSlo(m: SloMeasurement, slo: SloPolicy): SloVerdict {
  if (m.sent === 0) return { status: 'error', summary: 'no request was sent (run cap reached)', breaches: [] };
  if (m.ok === 0) {
    return {
      status: 'error',
      summary: `none of ${m.sent} requests got a normal answer (${m.transportErrors} transport errors): no latency to judge`,
      breaches: [],
    };
  }
  const breaches: SloBreach[] = [];
  const undecided: string[] = [];
  const met: string[] = [];
  const errorRate = m.failed / m.sent;
  for (const [key, label] of [
    ['p50Ms', 'p50'],
    ['p95Ms', 'p95'],
    ['p99Ms', 'p99'],
  ] as const) {
    const limit = slo[key];
    const value = m[key];
    if (limit === undefined) continue;
    if (value !== undefined && value <= limit) {
      met.push(`${label} ${value.toFixed(1)} ms ≤ ${limit} ms`);
      continue;
    }
    const text = `${label} ${value?.toFixed(1) ?? '?'} ms > ${limit} ms`;
    const gatewayAtLeast = (m.service?.[key] ?? value ?? Infinity) - (m.clientDelayMs ?? 0);
    if (value === undefined || gatewayAtLeast > limit) breaches.push({ objective: label, text });
    else undecided.push(`${text}, but the client's own event loop was late by up to ${m.clientDelayMs?.toFixed(1)} ms`);
  }
  if (slo.maxErrorRate !== undefined) {
    const text = `error rate ${(errorRate * 100).toFixed(2)}% (${m.failed}/${m.sent})`;
    if (errorRate > slo.maxErrorRate) breaches.push({ objective: 'error-rate', text: `${text} > ${(slo.maxErrorRate * 100).toFixed(2)}%` });
    else met.push(`${text} ≤ ${(slo.maxErrorRate * 100).toFixed(2)}%`);
  }
  if (breaches.length > 0) return { status: 'fail', summary: breaches.map((b) => b.text).join('; '), breaches };
  if (undecided.length > 0) {
    const summary = `${undecided.join('; ')}: the breach may be the client's (client-bound); ${met.join('; ')}`;
    return { status: 'inconclusive', summary, breaches };
  }
  return { status: 'pass', summary: met.join('; '), breaches };
}

export interface SloSpec {
  route: RoutePolicy;
  slo: SloPolicy;
  ratePerSec: number;
  /** Requests the measurement sends. */
  count: number;
}

/** What the paced engine measured of the client itself: the verdict's "client-bound" comes from here. */
export interface SloNotes {
  offered: OfferedLoad;
  maxSendLagMs: number;
  dropped: number;
  /** Set when the health guard stopped the load: the gateway was failing. */
  stoppedBecause?: string;
}

export interface SloObserved {
  sent: number;
  ok: number;
  failed: number;
  transportErrors: number;
  errorRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** p99 from the actual send time: the client's send lag taken off. */
  fromActualSendP99Ms: number | null;
  offered: OfferedLoad | null;
  maxSendLagMs: number | null;
  dropped: number | null;
}

const PROBE = 'slo';

export const sloCheck: CheckDefinition<'slo', SloSpec, SloObserved, SloNotes> = {
  kind: 'slo',
  phase: 'route',
  select: (policy) =>
    policy.routes.flatMap((route) => {
      if (!route.slo) return [];
      const ratePerSec = sloRatePerSec(route, route.slo);
      const count = Math.max(1, Math.round(ratePerSec * route.slo.durationSec));
      return [{ route: route.id, idSuffix: '', spec: { route, slo: route.slo, ratePerSec, count } }];
    }),
  expected: ({ slo, ratePerSec, count }) => ({
    ...slo,
    ratePerSec,
    requests: count,
    latencyFrom: 'intended send time (coordinated-omission corrected)',
  }),
  // The throttle probe (if any) leaves the bucket empty: the measurement waits for the refill.
  plan: ({ route, slo, count }) => ({
    requests: count,
    durationMs: slo.durationSec * 1000 + (route.throttle ? idleBucketWaitMs(route.throttle) : 0),
    needsIdleBucket: route.throttle !== undefined,
  }),
  collect: async (ctx, { route, ratePerSec, count }) => {
    if (route.throttle) await ctx.budget.pause(idleBucketWaitMs(route.throttle));
    const guard = new HealthGuard({ window: ctx.policy.limits.stopOnErrors.window, maxShare: ctx.policy.limits.stopOnErrors.share });
    ctx.progress(`slo ${route.id}: ${count} requests at ${ratePerSec}/s`);
    const run = await runPaced({
      guard,
      client: ctx.client,
      budget: ctx.budget,
      pacer: constantPacer(ratePerSec),
      count,
      request: () => routeRequest(ctx.policy, route, PROBE),
      maxInFlight: 1024,
      onObservation: () => {},
    });
    const notes: SloNotes = { offered: run.offered, maxSendLagMs: run.maxSendLagMs, dropped: run.dropped };
    if (run.stoppedBecause !== undefined) notes.stoppedBecause = run.stoppedBecause;
    return notes;
  },
  evaluate: ({ route, slo }, { observations, notes }, policy) => {
    const latency = new LatencyRecorder();
    const service = new LatencyRecorder();
    const m: SloMeasurement = { sent: 0, ok: 0, failed: 0, transportErrors: 0 };
    let worst: Observation | undefined;
    let firstFailure: Observation | undefined;
    for (const o of observations.filter((x) => x.probe === PROBE)) {
      m.sent++;
      if (o.status !== undefined && isOkStatus(route, o.status)) {
        m.ok++;
        latency.add(o);
        service.recordMs(o.doneAtMs - o.sentAtMs);
        if (!worst || o.doneAtMs - o.intendedAtMs > worst.doneAtMs - worst.intendedAtMs) worst = o;
      } else {
        m.failed++;
        if (o.status === undefined) m.transportErrors++;
        firstFailure ??= o;
      }
    }
    const p = (q: number) => latency.percentileMs(q);
    Object.assign(m, withDefined({ p50Ms: p(50), p95Ms: p(95), p99Ms: p(99) }));
    const s = (q: number) => service.percentileMs(q);
    m.service = withDefined({ p50Ms: s(50), p95Ms: s(95), p99Ms: s(99) });
    m.clientDelayMs = notes.offered.loopDelayMs.max;
    const verdict: SloVerdict =
      notes.stoppedBecause !== undefined
        ? { status: 'error', summary: `${notes.stoppedBecause}: no latency to judge`, breaches: [] }
        : evaluateSlo(m, slo);
    const failedOutcome = verdict.status === 'fail' ? 'violation' : 'unresolved';
    const evidence = [
      ...(worst ? [evidenceFrom(policy, worst, 'slowest normal answer', 'info')] : []),
      ...(firstFailure ? [evidenceFrom(policy, firstFailure, 'first failed request', failedOutcome)] : []),
    ];
    const round = (v: number | undefined) => (v === undefined ? null : Number(v.toFixed(2)));
    const observed: SloObserved = {
      sent: m.sent,
      ok: m.ok,
      failed: m.failed,
      transportErrors: m.transportErrors,
      errorRate: m.sent ? Number((m.failed / m.sent).toFixed(4)) : null,
      p50Ms: round(m.p50Ms),
      p95Ms: round(m.p95Ms),
      p99Ms: round(m.p99Ms),
      maxMs: round(latency.maxMs()),
      fromActualSendP99Ms: round(m.service.p99Ms),
      offered: notes.offered,
      maxSendLagMs: round(notes.maxSendLagMs),
      dropped: notes.dropped,
    };
    const slowest = worst ? 0 : -1;
    const failedAt = firstFailure ? (worst ? 1 : 0) : -1;
    const findings = verdict.breaches.map((b) => sloFinding(b, slo, m, b.objective === 'error-rate' ? failedAt : slowest));
    return { status: verdict.status, summary: verdict.summary, observed, evidence, findings };
  },
};

/**
 * A breached objective as a graded finding (docs/findings.md): `medium`, and `explicit` because the
 * user wrote the objective into the policy, so it fails the check at any `--fail-on`. Its evidence
 * is the slowest normal answer (latency) or the first failed request (error rate).
 */
export function sloFinding(breach: SloBreach, slo: SloPolicy, m: SloMeasurement, evidenceIndex: number): FindingDraft {
  const objective =
    breach.objective === 'error-rate'
      ? `error rate above the policy's slo of ${((slo.maxErrorRate ?? 0) * 100).toFixed(2)}%`
      : `${breach.objective} latency above the policy's slo of ${slo[`${breach.objective}Ms`]} ms`;
  const detail = `${breach.text}, over ${m.sent} requests (latency from the intended send time)`;
  return finding(`breach:${breach.objective}`, 'medium', objective, detail, evidenceIndex >= 0 ? [evidenceIndex] : [], true);
}

function withDefined<T extends Record<string, number | undefined>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
