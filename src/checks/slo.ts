import { HealthGuard } from '../engine/health-guard.js';
import { LatencyRecorder } from '../engine/latency.js';
import type { Observation } from '../engine/observation.js';
import { constantPacer } from '../engine/pacer.js';
import { runPaced } from '../engine/paced-run.js';
import { isOkStatus, type RoutePolicy, type SloPolicy } from '../policy/types.js';
import { evidenceOf, idleBucketWaitMs, resultFor, routeRequest, type CheckContext } from './context.js';
import type { CheckResult, CheckStatus } from './types.js';

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

/**
 * Pure verdict. Nothing answered normally → error (no latency to judge), never a pass. Latency
 * is read from the intended send time, so a late client can only make it look worse: a percentile
 * under its objective passes whatever the machine did. One over it fails only when it stays over
 * after taking off everything the client can have added (its send lag, by measuring from the
 * actual send, and its event loop's longest delay); otherwise the breach may be the client's own
 * and the verdict is inconclusive.
 */
export function evaluateSlo(m: SloMeasurement, slo: SloPolicy): { status: CheckStatus; summary: string } {
  if (m.sent === 0) return { status: 'error', summary: 'no request was sent (run cap reached)' };
  if (m.ok === 0) {
    return { status: 'error', summary: `none of ${m.sent} requests got a normal answer (${m.transportErrors} transport errors): no latency to judge` };
  }
  const breaches: string[] = [];
  const undecided: string[] = [];
  const met: string[] = [];
  const errorRate = m.failed / m.sent;
  for (const [key, label] of [['p50Ms', 'p50'], ['p95Ms', 'p95'], ['p99Ms', 'p99']] as const) {
    const limit = slo[key];
    const value = m[key];
    if (limit === undefined) continue;
    if (value !== undefined && value <= limit) {
      met.push(`${label} ${value.toFixed(1)} ms ≤ ${limit} ms`);
      continue;
    }
    const text = `${label} ${value?.toFixed(1) ?? '?'} ms > ${limit} ms`;
    const gatewayAtLeast = (m.service?.[key] ?? value ?? Infinity) - (m.clientDelayMs ?? 0);
    if (value === undefined || gatewayAtLeast > limit) breaches.push(text);
    else undecided.push(`${text}, but the client's own event loop was late by up to ${m.clientDelayMs?.toFixed(1)} ms`);
  }
  if (slo.maxErrorRate !== undefined) {
    const text = `error rate ${(errorRate * 100).toFixed(2)}% (${m.failed}/${m.sent})`;
    if (errorRate > slo.maxErrorRate) breaches.push(`${text} > ${(slo.maxErrorRate * 100).toFixed(2)}%`);
    else met.push(`${text} ≤ ${(slo.maxErrorRate * 100).toFixed(2)}%`);
  }
  if (breaches.length > 0) return { status: 'fail', summary: breaches.join('; ') };
  if (undecided.length > 0) {
    return { status: 'inconclusive', summary: `${undecided.join('; ')}: the breach may be the client's (client-bound); ${met.join('; ')}` };
  }
  return { status: 'pass', summary: met.join('; ') };
}

export async function runSloCheck(ctx: CheckContext, route: RoutePolicy): Promise<CheckResult> {
  const slo = route.slo!;
  const ratePerSec = sloRatePerSec(route, slo);
  const count = Math.max(1, Math.round(ratePerSec * slo.durationSec));
  const expected = { ...slo, ratePerSec, requests: count, latencyFrom: 'intended send time (coordinated-omission corrected)' };
  const shortfall = ctx.budget.shortfall(count, slo.durationSec * 1000);
  const started = ctx.client.now();
  const result = resultFor('slo', route, started, ctx, ctx.budget.requestsSent);
  if (shortfall) return result('skip', `not run: the measurement ${shortfall}`, { expected, observed: {}, evidence: [] });

  // The throttle probe (if any) leaves the bucket empty; let it refill so 429s here are real.
  if (route.throttle) await ctx.budget.pause(idleBucketWaitMs(route.throttle));

  const latency = new LatencyRecorder();
  const service = new LatencyRecorder();
  const guard = new HealthGuard({ window: ctx.policy.limits.stopOnErrors.window, maxShare: ctx.policy.limits.stopOnErrors.share });
  const m: SloMeasurement = { sent: 0, ok: 0, failed: 0, transportErrors: 0 };
  let worst: Observation | undefined;
  let firstFailure: Observation | undefined;
  ctx.progress(`slo ${route.id}: ${count} requests at ${ratePerSec}/s`);
  const run = await runPaced({
    guard,
    client: ctx.client,
    budget: ctx.budget,
    pacer: constantPacer(ratePerSec),
    count,
    request: () => routeRequest(ctx.policy, route, 'slo'),
    maxInFlight: 1024,
    onObservation: (o) => {
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
    },
  });
  const p = (q: number) => latency.percentileMs(q);
  Object.assign(m, withDefined({ p50Ms: p(50), p95Ms: p(95), p99Ms: p(99) }));
  const s = (q: number) => service.percentileMs(q);
  m.service = withDefined({ p50Ms: s(50), p95Ms: s(95), p99Ms: s(99) });
  m.clientDelayMs = run.offered.loopDelayMs.max;
  const verdict = guard.tripped !== undefined ? { status: 'error' as const, summary: `${guard.tripped}: no latency to judge` } : evaluateSlo(m, slo);
  const evidence = [
    ...(worst ? [evidenceOf(ctx, routeRequest(ctx.policy, route, 'slo'), worst, 'slowest normal answer', 'info')] : []),
    ...(firstFailure ? [evidenceOf(ctx, routeRequest(ctx.policy, route, 'slo'), firstFailure, 'first failed request', verdict.status === 'fail' ? 'violation' : 'unresolved')] : []),
  ];
  const round = (v: number | undefined) => (v === undefined ? null : Number(v.toFixed(2)));
  return result(verdict.status, verdict.summary, {
    expected,
    observed: {
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
      offered: run.offered,
      maxSendLagMs: round(run.maxSendLagMs),
      dropped: run.dropped,
    },
    evidence,
  });
}

function withDefined<T extends Record<string, number | undefined>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
