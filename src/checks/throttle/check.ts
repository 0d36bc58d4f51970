/**
 * The throttle check (kind `throttle`), for the route's own throttle and for each usage plan (each key's own
 * limiter, measured with that key: a key that gets another plan's limits, or the route's, fails its own check).
 *
 * collect waits until the key is idle for the policy's limiter, then sends the identification probe
 * (identify/probe.ts: volleys, trickle, overload at two ratios, gaps, a volley straddling a wall-clock boundary,
 * observations `throttle.identify.<segment>`); evaluate identifies the limiter's algorithm and judges the
 * policy in its terms (identified.ts, docs/throttle.md).
 *
 * Observations of the older probe ('throttle.volley', 'throttle.paced': `export k6`/`import k6` and recordings
 * made before identification) are still judged as a token bucket by estimate.ts.
 */
import { HealthGuard } from '../../engine/health-guard.js';
import type { HttpClient, ProbeRequest } from '../../engine/http-client.js';
import type { Observation } from '../../engine/observation.js';
import { schedulePacer, volleyPacer } from '../../engine/pacer.js';
import { runPaced, type OfferedLoad, type PacedRunSummary } from '../../engine/paced-run.js';
import { idleBucketWaitMs } from '../../engine/throttle-model.js';
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
import {
  evaluateIdentified,
  IDENTIFY_PROBE_PREFIX,
  isIdentifyObservation,
  type IdentifiedObserved,
  type IdentifyNotes,
} from './identified.js';
import { designProbe, type ProbeSchedule } from './identify/probe.js';
import { MAX_VOLLEY_SOCKETS, planThrottle, type ThrottlePlan } from './plan.js';
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
  /** The paced phase as the client ran it (the older probe); absent when the probe stopped after the warm-up. */
  paced?: { sent: number; dropped: number; maxSendLagMs: number; offered: OfferedLoad };
  /** The identification probe as designed and sent. */
  identify?: IdentifyNotes;
}

/** What the check observed: the identified limiter, or (older probe shape) the token-bucket estimate. */
export type ThrottleObserved = IdentifiedObserved | BucketObserved;

export interface BucketObserved extends Omit<EstimateSummary, 'paced'> {
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
  // The schedule's size does not depend on when it starts; its start waits for a wall-clock boundary (≤ 1 s).
  plan: ({ limits }) => {
    const schedule = designFor(limits, 0);
    // One idle check usually; the budget is for the first (a held key's further checks and waits come out of the run's slack).
    const requests = Math.min(MAX_VOLLEY_SOCKETS, largestVolley(schedule)) + 1 + schedule.requests.length;
    return {
      requests,
      durationMs: identifyIdleWaitMs(limits) + afterIdleCheckMs(limits) + 1000 + schedule.durationMs,
      needsIdleBucket: true,
    };
  },
  collect,
  evaluate: (spec, collected, policy) => {
    const { observations, notes } = collected;
    if (notes.identify !== undefined || observations.some(isIdentifyObservation)) {
      return evaluateIdentified(spec, observations, notes, policy);
    }
    return evaluateBucket(spec, collected, policy);
  },
};

/** The older probe's judgement: a token bucket fitted to a volley and a paced run (estimate.ts). */
function evaluateBucket(
  spec: ThrottleSpec,
  { observations, notes }: { observations: Observation[]; notes: ThrottleNotes },
  policy: Parameters<typeof evidenceFrom>[0],
) {
  {
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
  }
}

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

/** The probe schedule for these limits, starting at or after `epochMs`. */
function designFor(limits: ThrottlePolicy, epochMs: number): ProbeSchedule {
  return designProbe({
    rateLimit: limits.rateLimit,
    burstLimit: limits.burstLimit,
    ...(limits.windowSec !== undefined ? { windowSec: limits.windowSec } : {}),
    epochMs,
  });
}

/** The largest number of requests the schedule sends at once (a volley, or the straddle's spread volley). */
function largestVolley(schedule: ProbeSchedule): number {
  return Math.max(...schedule.segments.map((s) => (s.startMs === s.endMs || s.name === 'straddle' ? s.requests : 0)));
}

/** Idle checks before the probe gives up on an idle key. */
const MAX_IDLE_CHECKS = 3;
export const IDLE_CHECK_PROBE = `${IDENTIFY_PROBE_PREFIX}idle-check`;

/** Longest wait for an idle key: a sliding counter needs two of its windows. */
const MAX_WINDOW_WAIT_MS = 10_000;

/**
 * How long the key must be left alone before the cold volley: the bucket's refill (burst/rate with margin), and
 * two windows when the policy gives a window or the limiter's window is unknown (a sliding counter weighs the
 * previous period; a fixed window opened by the last request ends within one), bounded.
 */
export function identifyIdleWaitMs(limits: ThrottlePolicy): number {
  return Math.max(idleBucketWaitMs(limits), Math.min(MAX_WINDOW_WAIT_MS, Math.ceil(2 * windowMsOf(limits))));
}

/**
 * After the accepted idle check, before the cold volley: one token's refill, and one window unless the policy says
 * it is a bucket — a fixed window the check opened must have ended, or its boundary may fall inside the volley and
 * admit two limits at once (a false burst-too-large on a busy machine, where a volley spreads over 100 ms).
 */
export function afterIdleCheckMs(limits: ThrottlePolicy): number {
  return Math.min(MAX_WINDOW_WAIT_MS, Math.max(50, 1500 / limits.rateLimit, windowMsOf(limits)));
}

/** The window the policy implies for a window limiter (0 when it says the limiter is a bucket). */
function windowMsOf(limits: ThrottlePolicy): number {
  if (limits.algorithm === 'token-bucket' || limits.algorithm === 'leaky-bucket-delay') return 0;
  return limits.windowSec !== undefined ? limits.windowSec * 1000 : Math.max(1000, (limits.burstLimit / limits.rateLimit) * 1000);
}

/**
 * Warm-up, idle wait, then the identification schedule from its wall-clock start: the straddle volley must
 * really straddle a UTC boundary, so the run clock is turned into epoch time with the client's epochAtOriginMs.
 * The warm-up opens the volleys' sockets (a cold volley on fresh connections spreads over tens of ms on a busy
 * server, and its answers over a hundred); its answers are ignored, and the idle wait that follows (two windows:
 * a sliding counter forgets them) leaves the key idle again.
 */
async function collect(ctx: CheckContext, { route, limits, credential: credentialName }: ThrottleSpec): Promise<ThrottleNotes> {
  const credential: Credential | undefined = credentialName ? ctx.policy.credentials[credentialName] : undefined;
  // The credential's header, or its signer (SigV4): every request of the probe carries it.
  const auth = credentialParts(credential);
  const idleWaitMs = identifyIdleWaitMs(limits);
  const client = ctx.client;
  const epochNow = () => client.epochAtOriginMs + client.now();
  const sockets = Math.min(MAX_VOLLEY_SOCKETS, largestVolley(designFor(limits, 0)));
  const volleyClient = client.sibling(sockets, ctx.policy.limits.requestTimeoutMs);
  // The route's throttle statuses are the limiter answering, not the gateway failing.
  const guard = new HealthGuard(
    { window: ctx.policy.limits.stopOnErrors.window, maxShare: ctx.policy.limits.stopOnErrors.share },
    limits.status,
  );
  try {
    const warmUp = { probe: THROTTLE_PROBE.warmUp, method: route.method, path: route.path, ...auth };
    const warm = { client: volleyClient, budget: ctx.budget, pacer: volleyPacer(), count: sockets, maxInFlight: sockets, guard };
    await runPaced({ ...warm, request: () => warmUp, onObservation: () => {} });
    let idleChecks = 0;
    if (guard.tripped === undefined) {
      ctx.progress(`throttle ${route.id}: waiting ${idleWaitMs} ms for an idle key`);
      idleChecks = await waitUntilIdle(
        ctx,
        volleyClient,
        { probe: IDLE_CHECK_PROBE, method: route.method, path: route.path, ...auth },
        {
          waitMs: idleWaitMs,
          statuses: limits.status,
        },
      );
    }
    // After the idle check, its token refilled and any window it opened ended: the volley meets an idle key again.
    const schedule = designFor(limits, epochNow() + afterIdleCheckMs(limits));
    const requests = schedule.requests.map((r) => ({
      probe: IDENTIFY_PROBE_PREFIX + r.segment,
      method: route.method,
      path: route.path,
      ...auth,
    }));
    const leadMs = schedule.startEpochMs - epochNow();
    if (guard.tripped === undefined && leadMs > 0) await ctx.budget.pause(leadMs);
    let accepted = 0;
    const run = await runPaced({
      client: volleyClient,
      budget: ctx.budget,
      pacer: schedulePacer(
        schedule.requests.map((r) => r.atMs),
        'identification probe',
      ),
      count: guard.tripped === undefined ? requests.length : 0,
      request: (i) => requests[i]!,
      onObservation: (o) => (accepted += o.status !== undefined && isOkStatus(route, o.status) ? 1 : 0),
      maxInFlight: MAX_PACED_IN_FLIGHT,
      guard,
    });
    const seconds = (schedule.durationMs / 1000).toFixed(1);
    ctx.progress(`throttle ${route.id}: identification probe of ${run.sent} requests over ${seconds} s → ${accepted} accepted`);
    const notes: ThrottleNotes = { identify: { ...identifyNotes(volleyClient.epochAtOriginMs, schedule, idleWaitMs, run), idleChecks } };
    if (guard.tripped !== undefined) notes.stoppedBecause = guard.tripped;
    return notes;
  } finally {
    await volleyClient.close();
  }
}

/**
 * Idle means idle for the limiter at hand, and is checked rather than assumed: after the wait one request goes
 * out; refused, the key is still held (a lockout, a window still counting), so the wait is repeated (or as long
 * as the refusal's Retry-After asks, bounded), up to MAX_IDLE_CHECKS times. Returns how many checks were sent; the
 * judgement reads the last one (accepted: the cold volley starts from idle; refused: it does not, not judged).
 */
async function waitUntilIdle(
  ctx: CheckContext,
  client: HttpClient,
  request: ProbeRequest,
  { waitMs, statuses }: { waitMs: number; statuses: readonly number[] },
): Promise<number> {
  let checks = 0;
  let nextWaitMs = waitMs;
  while (checks < MAX_IDLE_CHECKS) {
    await ctx.budget.pause(nextWaitMs);
    if (!ctx.budget.take()) return checks;
    const answer = await client.send(request);
    checks++;
    if (answer.status === undefined || !statuses.includes(answer.status)) return checks;
    const retryAfterSec = Number(answer.headers['retry-after']);
    const askedMs = Number.isFinite(retryAfterSec) && retryAfterSec > 0 ? retryAfterSec * 1000 : 0;
    nextWaitMs = Math.min(MAX_WINDOW_WAIT_MS, Math.max(waitMs, askedMs));
  }
  return checks;
}

function identifyNotes(epochAtOriginMs: number, schedule: ProbeSchedule, idleWaitMs: number, run: PacedRunSummary): IdentifyNotes {
  return {
    epochAtOriginMs,
    startEpochMs: schedule.startEpochMs,
    windowMs: schedule.windowMs,
    durationMs: schedule.durationMs,
    idleWaitMs,
    segments: schedule.segments.map((s) => ({
      name: s.name,
      requests: s.requests,
      startMs: s.startMs,
      endMs: s.endMs,
      // A paced segment's designed rate; volleys (all at once) and the straddle (a spread volley): 0.
      ratePerSec:
        s.startMs === s.endMs || s.name === 'straddle' ? 0 : Math.round(((s.requests - 1) / (s.endMs - s.startMs)) * 100_000) / 100,
    })),
    sent: run.sent,
    dropped: run.dropped,
    maxSendLagMs: Math.round(run.maxSendLagMs * 10) / 10,
    offered: run.offered,
  };
}

function observedOf(estimate: BucketEstimate, unresolved: number, notes: ThrottleNotes, timeline: ThrottleTimeline | null): BucketObserved {
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
