/**
 * The throttle check (kind `throttle`): fits a token bucket to what a volley and a paced run got
 * back, for the route's own throttle and for each usage plan (each key's own bucket, measured with
 * that key: a key that gets another plan's limits, or the route's, fails its own check).
 * collect sends; evaluate rebuilds the timed answers from the observations ('throttle.volley',
 * 'throttle.paced'; the warm-up's answers are ignored) and judges them with estimate.ts.
 */
import { HealthGuard } from '../../engine/health-guard.js';
import type { Observation } from '../../engine/observation.js';
import { constantPacer, volleyPacer } from '../../engine/pacer.js';
import { runPaced, type OfferedLoad, type PacedRunSummary } from '../../engine/paced-run.js';
import { isOkStatus, type Credential, type RoutePolicy, type ThrottlePolicy } from '../../policy/types.js';
import { credentialParts, type CheckContext } from '../context.js';
import type { CheckDefinition, CheckInstance, FindingDraft } from '../contract.js';
import { finding } from '../findings.js';
import { evidenceFrom } from '../evidence.js';
import type { EvidenceItem } from '../types.js';
import {
  estimateBucket,
  judgeBucket,
  summariseEstimate,
  type BucketEstimate,
  type EstimateSummary,
  type ThrottleJudgement,
  type ThrottleProblemKind,
  type ThrottleTolerance,
  type TimedAnswer,
} from './estimate.js';
import { planThrottle, warmUpSize, type ThrottlePlan } from './plan.js';
import { throttleTimeline, type ThrottleTimeline } from './timeline.js';

export const THROTTLE_PROBE = { warmUp: 'throttle.warm-up', volley: 'throttle.volley', paced: 'throttle.paced' } as const;

/** Open-model cap on outstanding paced requests before the client counts drops. */
const MAX_PACED_IN_FLIGHT = 1024;

/** Largest share of 5xx/transport errors under which the fit is still trusted. */
const MAX_UNRESOLVED_SHARE = 0.05;

export interface ThrottleSpec {
  route: RoutePolicy;
  /** The route's throttle, or one usage plan's. */
  limits: ThrottlePolicy;
  /** Name of the credential the probe carries (the plan's key, else the route's), if any. */
  credential?: string;
  plan: ThrottlePlan;
}

/** What the client did that the observations do not show. JSON. */
export interface ThrottleNotes {
  /** Set when the health guard stopped the probe: the gateway was failing. */
  stoppedBecause?: string;
  /** The paced phase as the client ran it; absent when the probe stopped after the warm-up. */
  paced?: { sent: number; dropped: number; maxSendLagMs: number; offered: OfferedLoad };
}

export interface ThrottleObserved extends Omit<EstimateSummary, 'paced'> {
  paced: EstimateSummary['paced'] & { dropped: number | null; maxSendLagMs: number | null };
  /** What the client really offered (the verdict's "client-bound" comes from measurements like these). */
  offered: OfferedLoad | null;
  /** Answers neither accepted nor 429 (5xx, transport errors, other statuses). */
  unresolved: number;
  /**
   * Set when the verdict is client-bound: the rate the probe needed against what one machine
   * offered. The report and the CLI turn it into the `gatecheck export k6` hint.
   */
  clientBound: { neededRatePerSec: number; offeredRatePerSec: number } | null;
  /** Accepted and throttled per window against the configured bucket: the report's chart. */
  timeline: ThrottleTimeline | null;
}

export const throttleCheck: CheckDefinition<'throttle', ThrottleSpec, ThrottleObserved, ThrottleNotes> = {
  kind: 'throttle',
  phase: 'route',
  select: (policy) =>
    policy.routes.flatMap((route) => [
      ...(route.throttle ? [instance(route, route.throttle, '')] : []),
      ...(route.usagePlans ?? []).map((plan) => instance(route, plan, ` [plan ${plan.name}]`)),
    ]),
  expected: ({ limits, credential, plan }) => ({
    rateLimit: limits.rateLimit,
    burstLimit: limits.burstLimit,
    tolerance: limits.tolerance,
    credential: credential ?? null,
    plan,
  }),
  // The warm-up and the volley are each up to volleySize requests.
  plan: ({ limits, plan }) => ({
    requests: 2 * plan.volleySize + plan.pacedCount,
    durationMs: plan.idleWaitMs + limits.probeSeconds * 1000,
    needsIdleBucket: true,
  }),
  collect,
  evaluate: (spec, { observations, notes }, policy) => {
    const { route, limits, plan } = spec;
    const isAccepted = (o: Observation) => o.status !== undefined && isOkStatus(route, o.status);
    const volley = observations.filter((o) => o.probe === THROTTLE_PROBE.volley);
    const paced = observations.filter((o) => o.probe === THROTTLE_PROBE.paced);
    const toAnswer = (o: Observation): TimedAnswer => ({
      atMs: o.sentAtMs,
      doneAtMs: o.doneAtMs,
      accepted: isAccepted(o),
      throttled: o.status === 429,
    });
    const estimate = estimateBucket(volley.map(toAnswer), paced.map(toAnswer));
    const all = [...volley, ...paced];
    const unresolved = all.filter((o) => o.status === undefined || o.status >= 500 || (o.status !== 429 && !isAccepted(o)));
    const observed = observedOf(estimate, unresolved.length, notes, throttleTimeline(all, isAccepted, limits));
    const evidence = throttleEvidence(policy, volley, paced, isAccepted);
    const verdict = (status: 'error' | 'pass' | 'fail' | 'inconclusive', summary: string) => ({
      status,
      summary,
      observed,
      evidence,
      findings: [],
    });

    const unhealthy = `${notes.stoppedBecause}: cannot fit a bucket`;
    // A gateway that fails the warm-up gets no volley and no paced load.
    if (notes.paced === undefined && notes.stoppedBecause !== undefined) return verdict('error', unhealthy);
    if (all.length === 0) return verdict('error', 'no request could be sent (run cap reached)');
    if (notes.stoppedBecause !== undefined) return verdict('error', unhealthy);
    if (unresolved.length / all.length > MAX_UNRESOLVED_SHARE) {
      const sample = unresolved[0]!;
      const share = `${unresolved.length} of ${all.length} answers`;
      return verdict('error', `${share} were neither accepted nor 429 (e.g. ${sample.status ?? sample.error}): cannot fit a bucket`);
    }
    const judgement = judgeBucket(estimate, limits);
    // Client-bound is decided by the estimator from what reached the gateway (never from the plan);
    // here it gets the client's side of the story. How to get past one machine (`export k6`) is
    // the report's and the CLI's to say, from observed.clientBound.
    if (judgement.status === 'inconclusive' && judgement.clientBound) {
      const lag = `send lag up to ${(notes.paced?.maxSendLagMs ?? 0).toFixed(0)} ms`;
      const dropped = notes.paced?.dropped ? `, ${notes.paced.dropped} scheduled requests dropped` : '';
      const offered = `offered ${estimate.offeredRatePerSec.toFixed(0)}/s of the planned ${plan.pacedRatePerSec}/s`;
      judgement.reasons.push(`client-bound: ${offered}, ${lag}${dropped}`);
      observed.clientBound = { neededRatePerSec: plan.pacedRatePerSec, offeredRatePerSec: Number(estimate.offeredRatePerSec.toFixed(2)) };
    }
    const findings = throttleFindings(judgement, estimate, limits, evidence);
    return { ...verdict(judgement.status, judgement.reasons.join('; ')), findings };
  },
};

const PART_TITLE: Record<ThrottleProblemKind, (limits: ThrottleTolerance, slack: string) => string> = {
  'rate-too-high': (l) => `rate above the policy's ${l.rateLimit}/s +${pct(l.tolerance)}: more gets through than it allows`,
  'rate-too-low': (l) => `rate below the policy's ${l.rateLimit}/s −${pct(l.tolerance)}: clients are refused what it promises`,
  'burst-too-large': (l, slack) => `burst above the policy's ${l.burstLimit} +${slack}: more gets through at once than it allows`,
  'burst-too-small': (l, slack) => `burst below the policy's ${l.burstLimit} −${slack}: clients are refused what it promises`,
};

/**
 * The judgement as graded findings (docs/findings.md): a bucket off its policy beyond the tolerance,
 * in either direction, is `high` (looser lets abuse through, stricter refuses the clients the policy
 * promises). A gateway that refused nothing with 429 at all gets one `no-limit` finding instead of
 * its parts. A bucket within tolerance is what was learned: one `info` finding with the numbers.
 * Slugs name the problem, never a measured number: the same gateway gives the same ids.
 */
function throttleFindings(
  judgement: ThrottleJudgement,
  estimate: BucketEstimate,
  limits: ThrottleTolerance,
  evidence: readonly EvidenceItem[],
): FindingDraft[] {
  const indexes = (phase: string) => evidence.flatMap((e, i) => (e.label.startsWith(phase) ? [i] : []));
  const slack = Math.max(1, limits.burstLimit * limits.tolerance).toFixed(1);
  const policy = `policy ${limits.rateLimit}/s, burst ${limits.burstLimit}`;
  if (judgement.status === 'pass') {
    const measured = `rate ${estimate.ratePerSec!.toFixed(1)}/s, burst ${estimate.burst!.toFixed(1)}`;
    const detail = judgement.reasons.join('; ');
    return [
      finding(
        'bucket-measured',
        'info',
        `token bucket within the policy: ${measured} (${policy})`,
        detail,
        evidence.map((_, i) => i),
      ),
    ];
  }
  if (judgement.problems.length === 0) return [];
  if (estimate.volley.throttled + estimate.paced.throttled === 0) {
    const sent = `${estimate.volley.sent} volley and ${estimate.paced.sent} paced requests`;
    const title = `no throttling: none of ${sent} was refused with 429 (${policy})`;
    return [
      finding(
        'no-limit',
        'high',
        title,
        judgement.problems.map((p) => p.detail).join('; '),
        evidence.map((_, i) => i),
      ),
    ];
  }
  return judgement.problems.map((p) =>
    finding(p.kind, 'high', PART_TITLE[p.kind](limits, slack), p.detail, indexes(p.kind.startsWith('rate') ? 'paced' : 'volley')),
  );
}

function pct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

function instance(route: RoutePolicy, limits: ThrottlePolicy, idSuffix: string): CheckInstance<ThrottleSpec> {
  const credential = limits.credential ?? (route.auth?.required ? route.auth.credential : undefined);
  const spec: ThrottleSpec = { route, limits, ...(credential !== undefined ? { credential } : {}), plan: planThrottle(limits) };
  return { route: route.id, idSuffix, spec };
}

/**
 * Warm-up, idle wait, volley, paced phase. The volley needs one open socket per request so that
 * the requests really arrive together: opening N fresh TCP connections would spread the volley
 * over tens of ms while the bucket refills. So the sockets are opened first (a warm-up volley
 * whose answers are ignored), and the idle wait that follows lets the bucket fill up again
 * before the measured volley.
 */
async function collect(ctx: CheckContext, { route, credential: credentialName, plan }: ThrottleSpec): Promise<ThrottleNotes> {
  const credential: Credential | undefined = credentialName ? ctx.policy.credentials[credentialName] : undefined;
  const request = { probe: THROTTLE_PROBE.volley, method: route.method, path: route.path, ...credentialParts(credential) };
  const isAccepted = (o: Observation) => o.status !== undefined && isOkStatus(route, o.status);
  const accepted = { volley: 0, paced: 0 };
  const volleyClient = ctx.client.sibling(warmUpSize(plan), ctx.policy.limits.requestTimeoutMs);
  let pacedRun: PacedRunSummary;
  // One guard for both phases: a gateway answering 5xx stops the paced phase at once.
  const guard = new HealthGuard({ window: ctx.policy.limits.stopOnErrors.window, maxShare: ctx.policy.limits.stopOnErrors.share });
  try {
    const warmUp = { ...request, probe: THROTTLE_PROBE.warmUp };
    await runPaced({
      client: volleyClient,
      budget: ctx.budget,
      pacer: volleyPacer(),
      count: warmUpSize(plan),
      request: () => warmUp,
      onObservation: () => {},
      maxInFlight: plan.volleySize,
      guard,
    });
    if (guard.tripped !== undefined) return { stoppedBecause: guard.tripped };
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
      onObservation: (o) => (accepted.volley += isAccepted(o) ? 1 : 0),
      maxInFlight: plan.volleySize,
      guard,
    });
    const paced = { ...request, probe: THROTTLE_PROBE.paced };
    pacedRun = await runPaced({
      client: ctx.client,
      budget: ctx.budget,
      pacer: constantPacer(plan.pacedRatePerSec),
      count: plan.pacedCount,
      request: () => paced,
      onObservation: (o) => (accepted.paced += isAccepted(o) ? 1 : 0),
      maxInFlight: MAX_PACED_IN_FLIGHT,
      guard,
    });
    await volleyDone;
  } finally {
    await volleyClient.close();
  }
  ctx.progress(
    `throttle ${route.id}: volley of ${plan.volleySize} → ${accepted.volley} accepted; ` +
      `paced ${pacedRun.sent} at ${plan.pacedRatePerSec}/s → ${accepted.paced} accepted`,
  );
  const notes: ThrottleNotes = {
    paced: { sent: pacedRun.sent, dropped: pacedRun.dropped, maxSendLagMs: pacedRun.maxSendLagMs, offered: pacedRun.offered },
  };
  if (guard.tripped !== undefined) notes.stoppedBecause = guard.tripped;
  return notes;
}

function observedOf(
  estimate: BucketEstimate,
  unresolved: number,
  notes: ThrottleNotes,
  timeline: ThrottleTimeline | null,
): ThrottleObserved {
  const summary = summariseEstimate(estimate);
  return {
    ...summary,
    paced: {
      ...summary.paced,
      dropped: notes.paced?.dropped ?? null,
      maxSendLagMs: notes.paced ? Number(notes.paced.maxSendLagMs.toFixed(1)) : null,
    },
    offered: notes.paced?.offered ?? null,
    unresolved,
    clientBound: null,
    timeline,
  };
}

/** A few exchanges a reviewer can read: the first accepted, the first 429, the first oddity. */
function throttleEvidence(
  policy: Parameters<typeof evidenceFrom>[0],
  volley: Observation[],
  paced: Observation[],
  isAccepted: (o: Observation) => boolean,
): EvidenceItem[] {
  const items: EvidenceItem[] = [];
  const pick = (list: Observation[], test: (o: Observation) => boolean, label: string, outcome: EvidenceItem['outcome']) => {
    const found = list.find(test);
    if (found) items.push(evidenceFrom(policy, found, label, outcome));
  };
  pick(volley, isAccepted, 'volley: first accepted', 'info');
  pick(volley, (o) => o.status === 429, 'volley: first throttled (429)', 'info');
  pick(paced, (o) => o.status === 429, 'paced: first throttled (429)', 'info');
  pick([...volley, ...paced], (o) => o.status !== 429 && !isAccepted(o), 'neither accepted nor throttled', 'unresolved');
  return items;
}
