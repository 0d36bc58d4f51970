import type { Observation } from '../engine/observation.js';
import { constantPacer, volleyPacer } from '../engine/pacer.js';
import { runPaced, type PacedRunSummary } from '../engine/paced-run.js';
import { HealthGuard } from '../engine/health-guard.js';
import { Timeline } from '../engine/timeline.js';
import { isOkStatus, type Credential, type RoutePolicy, type ThrottlePolicy } from '../policy/types.js';
import { k6ExportHint } from '../k6/hint.js';
import { mermaidXyChart } from '../report/charts.js';
import { loadScenario, resolveScenario, type ResolvedPhase } from '../scenarios/scenario.js';
import { credentialHeaders, evidenceOf, idleBucketWaitMs, resultFor, type CheckContext } from './context.js';
import { estimateBucket, judgeBucket, simulateBucket, summariseEstimate, type BucketEstimate, type TimedAnswer } from './throttle-estimate.js';
import type { CheckResult, EvidenceItem } from './types.js';

/** The probe plan for one route: sizes derived from the limits being verified. */
export interface ThrottlePlan {
  /** Wait before the volley so the bucket is full (burst/rate, with margin). */
  idleWaitMs: number;
  volleySize: number;
  pacedRatePerSec: number;
  pacedCount: number;
}

/** The probe's shape, from scenarios/throttle-probe.yaml (shared with `export k6`). */
const PROBE_SCENARIO = loadScenario('throttle-probe');

export function planThrottle(throttle: ThrottlePolicy): ThrottlePlan {
  const [volley, paced] = resolveScenario(PROBE_SCENARIO, throttle) as [Extract<ResolvedPhase, { kind: 'volley' }>, Extract<ResolvedPhase, { kind: 'rate' }>];
  // The volley must overflow a bucket larger than allowed (so a too-large burst shows), with a
  // margin of at least 10 requests; it is kept no larger than that, because every extra
  // request lengthens the volley, and the bucket refills while it leaves.
  const volleySize = Math.max(volley.requests, Math.ceil(throttle.burstLimit * (1 + throttle.tolerance)) + 10);
  // Offer well above the rate (at least +10/s) so the bucket stays empty and accepted(t) follows the refill rate.
  const pacedRatePerSec = Math.max(paced.fromRatePerSec, throttle.rateLimit + 10);
  return {
    idleWaitMs: idleBucketWaitMs(throttle),
    volleySize,
    pacedRatePerSec,
    pacedCount: Math.ceil(pacedRatePerSec * throttle.probeSeconds),
  };
}

/** Sockets for one volley; past this a volley is no longer simultaneous anyway (and the burst shows as a lower bound). */
const MAX_VOLLEY_SOCKETS = 512;

/** Open-model cap on outstanding paced requests before the client counts drops. */
const MAX_PACED_IN_FLIGHT = 1024;

/** Largest share of 5xx/transport errors under which the fit is still trusted. */
const MAX_UNRESOLVED_SHARE = 0.05;

export function runThrottleCheck(ctx: CheckContext, route: RoutePolicy): Promise<CheckResult> {
  return measureThrottle(ctx, route, route.throttle!);
}

/**
 * Usage plans: each key's own bucket, measured with that key, one after another (each probe
 * starts by waiting for its own bucket to be idle). A key that gets another plan's limits, or
 * the route's, fails its own check.
 */
export async function runUsagePlanChecks(ctx: CheckContext, route: RoutePolicy): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const plan of route.usagePlans ?? []) results.push(await measureThrottle(ctx, route, plan, ` [plan ${plan.name}]`));
  return results;
}

async function measureThrottle(ctx: CheckContext, route: RoutePolicy, throttle: ThrottlePolicy, idSuffix = ''): Promise<CheckResult> {
  const plan = planThrottle(throttle);
  const credentialName = throttle.credential ?? (route.auth?.required ? route.auth.credential : undefined);
  const credential: Credential | undefined = credentialName ? ctx.policy.credentials[credentialName] : undefined;
  const expected = { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit, tolerance: throttle.tolerance, credential: credentialName ?? null, plan };

  const shortfall = ctx.budget.shortfall(2 * plan.volleySize + plan.pacedCount, plan.idleWaitMs + throttle.probeSeconds * 1000);
  const started = ctx.client.now();
  const result = resultFor('throttle', route, started, ctx, ctx.budget.requestsSent, idSuffix);
  if (shortfall) return result('skip', `not run: the probe ${shortfall}`, { expected, observed: {}, evidence: [] });

  const request = { probe: 'throttle.volley', method: route.method, path: route.path, headers: credentialHeaders(credential) };
  const volleyObs: Observation[] = [];
  const pacedObs: Observation[] = [];
  // The volley needs one open socket per request so that the requests really arrive together:
  // opening N fresh TCP connections would spread the volley over tens of ms while the bucket
  // refills. So the sockets are opened first (a warm-up volley whose answers are ignored), and
  // the idle wait that follows lets the bucket fill up again before the measured volley.
  const volleyClient = ctx.client.sibling(Math.min(plan.volleySize, MAX_VOLLEY_SOCKETS), ctx.policy.limits.requestTimeoutMs);
  let pacedRun: PacedRunSummary;
  // One guard for both phases: a gateway answering 5xx stops the paced phase at once.
  const guard = new HealthGuard({ window: ctx.policy.limits.stopOnErrors.window, maxShare: ctx.policy.limits.stopOnErrors.share });
  try {
    const warmUp = { ...request, probe: 'throttle.warm-up' };
    await runPaced({
      client: volleyClient,
      budget: ctx.budget,
      pacer: volleyPacer(),
      count: Math.min(plan.volleySize, MAX_VOLLEY_SOCKETS),
      request: () => warmUp,
      onObservation: () => {},
      maxInFlight: plan.volleySize,
      guard,
    });
    // A gateway that fails the warm-up gets no volley and no paced load.
    if (guard.tripped !== undefined) return result('error', `${guard.tripped}: cannot fit a bucket`, { expected, observed: {}, evidence: [] });
    ctx.progress(`throttle ${route.id}: waiting ${plan.idleWaitMs} ms for an idle bucket`);
    await ctx.budget.pause(plan.idleWaitMs);
    // The paced phase starts as soon as the volley has left, not when it has been answered:
    // a slow backend would otherwise hold the volley's answers while the bucket refills.
    const volleyDone = runPaced({
      client: volleyClient,
      budget: ctx.budget,
      pacer: volleyPacer(),
      count: plan.volleySize,
      request: () => request,
      onObservation: (o) => volleyObs.push(o),
      maxInFlight: plan.volleySize,
      guard,
    });
    pacedRun = await runPaced({
      client: ctx.client,
      budget: ctx.budget,
      pacer: constantPacer(plan.pacedRatePerSec),
      count: plan.pacedCount,
      request: () => ({ ...request, probe: 'throttle.paced' }),
      onObservation: (o) => pacedObs.push(o),
      maxInFlight: MAX_PACED_IN_FLIGHT,
      guard,
    });
    await volleyDone;
  } finally {
    await volleyClient.close();
  }
  const accepted = (list: Observation[]) => list.filter((o) => o.status !== undefined && isOkStatus(route, o.status)).length;
  ctx.progress(`throttle ${route.id}: volley of ${plan.volleySize} → ${accepted(volleyObs)} accepted; paced ${pacedRun.sent} at ${plan.pacedRatePerSec}/s → ${accepted(pacedObs)} accepted`);

  const toAnswer = (o: Observation): TimedAnswer => ({ atMs: o.sentAtMs, doneAtMs: o.doneAtMs, accepted: o.status !== undefined && isOkStatus(route, o.status), throttled: o.status === 429 });
  const estimate = estimateBucket(volleyObs.map(toAnswer), pacedObs.map(toAnswer));
  const all = [...volleyObs, ...pacedObs];
  const unresolved = all.filter((o) => o.status === undefined || o.status >= 500 || (o.status !== 429 && !isOkStatus(route, o.status)));
  const observed = summarise(estimate, unresolved, pacedRun);
  const evidence = throttleEvidence(ctx, volleyObs, pacedObs, route);
  const details = throttleChart(all, route, throttle);

  if (all.length === 0) return result('error', 'no request could be sent (run cap reached)', { expected, observed, evidence });
  if (guard.tripped !== undefined) return result('error', `${guard.tripped}: cannot fit a bucket`, { expected, observed, evidence, details });
  if (unresolved.length / all.length > MAX_UNRESOLVED_SHARE) {
    const sample = unresolved[0]!;
    return result('error', `${unresolved.length} of ${all.length} answers were neither accepted nor 429 (e.g. ${sample.status ?? sample.error}): cannot fit a bucket`, { expected, observed, evidence, details });
  }
  const judgement = judgeBucket(estimate, throttle);
  // Client-bound is decided by the estimator from what reached the gateway (never from the plan);
  // here it gets the client's side of the story, and how to get past one machine.
  if (judgement.status === 'inconclusive' && judgement.clientBound) {
    const lag = `send lag up to ${pacedRun.maxSendLagMs.toFixed(0)} ms`;
    const dropped = pacedRun.dropped ? `, ${pacedRun.dropped} scheduled requests dropped` : '';
    judgement.reasons.push(`client-bound: offered ${estimate.offeredRatePerSec.toFixed(0)}/s of the planned ${plan.pacedRatePerSec}/s, ${lag}${dropped}`);
    judgement.reasons.push(k6ExportHint(ctx.policyFile ?? 'POLICY.yaml', route, { neededRatePerSec: plan.pacedRatePerSec, offeredRatePerSec: estimate.offeredRatePerSec }).text);
  }
  return result(judgement.status, judgement.reasons.join('; '), { expected, observed, evidence, details });
}

function summarise(estimate: BucketEstimate, unresolved: Observation[], pacedRun: PacedRunSummary): Record<string, unknown> {
  return {
    ...summariseEstimate(estimate),
    paced: { ...estimate.paced, dropped: pacedRun.dropped, maxSendLagMs: Number(pacedRun.maxSendLagMs.toFixed(1)) },
    // What the client really offered (the verdict's "client-bound" comes from measurements like these).
    offered: pacedRun.offered,
    unresolved: unresolved.length,
  };
}

/** A few exchanges a reviewer can read: the first accepted, the first 429, the first oddity. */
function throttleEvidence(ctx: CheckContext, volley: Observation[], paced: Observation[], route: RoutePolicy): EvidenceItem[] {
  const items: EvidenceItem[] = [];
  const pick = (list: Observation[], test: (o: Observation) => boolean, label: string, outcome: EvidenceItem['outcome']) => {
    const found = list.find(test);
    if (found) items.push(evidenceOf(ctx, { probe: found.probe, method: found.method, path: found.path, headers: {} }, found, label, outcome));
  };
  pick(volley, (o) => isOkStatus(route, o.status ?? 0), 'volley: first accepted', 'info');
  pick(volley, (o) => o.status === 429, 'volley: first throttled (429)', 'info');
  pick(paced, (o) => o.status === 429, 'paced: first throttled (429)', 'info');
  pick([...volley, ...paced], (o) => o.status === undefined || (o.status !== 429 && !isOkStatus(route, o.status)), 'neither accepted nor throttled', 'unresolved');
  return items;
}

/** Accepted and throttled per 100 ms against what the configured bucket would have accepted. */
function throttleChart(all: Observation[], route: RoutePolicy, throttle: ThrottlePolicy): string | undefined {
  if (all.length === 0) return undefined;
  const sorted = [...all].sort((a, b) => a.sentAtMs - b.sentAtMs);
  const origin = sorted[0]!.sentAtMs;
  const windowMs = 100;
  const seen = new Timeline(origin, windowMs);
  const theory = new Timeline(origin, windowMs);
  const expectedAccepts = simulateBucket(sorted.map((o) => o.sentAtMs), throttle.rateLimit, throttle.burstLimit);
  sorted.forEach((o, i) => {
    seen.add(o.sentAtMs, o.status !== undefined && isOkStatus(route, o.status) ? 'accepted' : o.status === 429 ? 'throttled' : 'other');
    theory.add(o.sentAtMs, expectedAccepts[i] ? 'accepted' : 'throttled');
  });
  const windows = seen.counts();
  const theoretical = theory.counts();
  return mermaidXyChart({
    title: `${route.id}: accepted per ${windowMs} ms`,
    xLabel: 'time since volley (s)',
    xTicks: windows.map((_, i) => ((i * windowMs) / 1000).toFixed(1)),
    yLabel: 'requests',
    series: [
      { type: 'bar', name: 'accepted (observed)', values: windows.map((w) => w.accepted) },
      { type: 'line', name: `accepted by a bucket of ${throttle.burstLimit} at ${throttle.rateLimit}/s (theory)`, values: windows.map((_, i) => theoretical[i]?.accepted ?? 0) },
      { type: 'line', name: 'throttled (observed 429)', values: windows.map((w) => w.throttled) },
    ],
  });
}
