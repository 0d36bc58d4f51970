/**
 * Check kind `ws-throttle`: message throttling of a WebSocket API, measured with the HTTP throttle
 * check's own token-bucket estimator (throttle/estimate.ts) and probe plan (throttle/plan.ts).
 * Two instances per entry: all messages on one connection, and the same probe spread round-robin
 * over several connections. API Gateway's bucket is per stage/route, shared by every connection,
 * so spreading must not raise the limit; with `perConnection: true` each connection has its own
 * bucket and N connections together must get N times the limits (round-robin makes the sum of N
 * equal buckets behave as one bucket N times as large).
 *
 * Each message is answered by the route (accepted), by a gateway error frame about a limit
 * (throttled), or by the socket closing (counted as throttled, and recorded: the client lost its
 * connection).
 */
import type { Observation } from '../../engine/observation.js';
import { constantPacer, volleyPacer } from '../../engine/pacer.js';
import { runPaced, type OfferedLoad, type PacedRunSummary } from '../../engine/paced-run.js';
import { WsPool, type WsConnection } from '../../engine/ws-client.js';
import type { Policy, WebSocketPolicy } from '../../policy/types.js';
import type { CheckContext } from '../context.js';
import type { CheckDefinition, CheckInstance, FindingDraft, Verdict } from '../contract.js';
import { finding } from '../findings.js';
import {
  estimateBucket,
  judgeBucket,
  summariseEstimate,
  type BucketEstimate,
  type EstimateSummary,
  type ThrottleJudgement,
  type ThrottleTolerance,
  type TimedAnswer,
} from '../throttle/estimate.js';
import { planThrottle, type ThrottlePlan } from '../throttle/plan.js';
import { throttleTimeline, type ThrottleTimeline } from '../throttle/timeline.js';
import type { EvidenceItem } from '../types.js';
import {
  classifyAnswer,
  connect,
  connectCredential,
  describeWs,
  messageText,
  socketUrl,
  wsEvidence,
  type MessageAnswer,
} from './socket.js';

export const WS_THROTTLE_PROBE = { connect: 'ws-throttle.connect', volley: 'ws-throttle.volley', paced: 'ws-throttle.paced' } as const;

/** Largest share of messages neither accepted nor throttled under which the fit is still trusted. */
const MAX_UNRESOLVED_SHARE = 0.05;
const MAX_PACED_IN_FLIGHT = 1024;

export interface WsThrottleSpec {
  entry: WebSocketPolicy;
  /** Sockets the messages are spread over (1: one connection). */
  connections: number;
  /** What these connections together must get: the entry's limits, times `connections` when per connection. */
  limits: ThrottleTolerance & { probeSeconds: number };
  plan: ThrottlePlan;
}

export interface WsThrottleNotes {
  /** Why no message was sent (a socket did not open). */
  notConnected?: string;
  paced?: { sent: number; dropped: number; maxSendLagMs: number; offered: OfferedLoad };
}

export interface WsThrottleObserved extends EstimateSummary {
  connections: number;
  /** How throttled messages were refused: a gateway error frame, or the socket closing. */
  throttleSignal: { errorFrame: number; socketClosed: number };
  answers: Record<MessageAnswer, number>;
  offered: OfferedLoad | null;
  clientBound: { neededRatePerSec: number; offeredRatePerSec: number } | null;
  /** Accepted and throttled per window against the configured bucket: the report's chart (as the HTTP throttle's). */
  timeline: ThrottleTimeline | null;
}

export const wsThrottleCheck: CheckDefinition<'ws-throttle', WsThrottleSpec, WsThrottleObserved, WsThrottleNotes> = {
  kind: 'ws-throttle',
  phase: 'route',
  select: (policy) => (policy.websockets ?? []).flatMap((entry) => (entry.throttle ? wsThrottleInstances(entry) : [])),
  expected: ({ limits, connections, entry, plan }) => ({
    rateLimit: limits.rateLimit,
    burstLimit: limits.burstLimit,
    tolerance: limits.tolerance,
    connections,
    perConnection: entry.throttle?.perConnection ?? false,
    plan,
  }),
  plan: ({ limits, plan, connections }) => ({
    requests: connections + plan.volleySize + plan.pacedCount,
    durationMs: plan.idleWaitMs + limits.probeSeconds * 1000,
    needsIdleBucket: true,
  }),
  collect,
  evaluate,
};

/** One connection, then `connections` of them (the limits scaled when each has its own bucket). */
export function wsThrottleInstances(entry: WebSocketPolicy): Array<CheckInstance<WsThrottleSpec>> {
  const throttle = entry.throttle!;
  const make = (connections: number, idSuffix: string): CheckInstance<WsThrottleSpec> => {
    const scale = throttle.perConnection ? connections : 1;
    const limits = {
      rateLimit: throttle.rateLimit * scale,
      burstLimit: throttle.burstLimit * scale,
      tolerance: throttle.tolerance,
      probeSeconds: throttle.probeSeconds,
    };
    return { route: entry.id, idSuffix, spec: { entry, connections, limits, plan: planThrottle(limits) } };
  };
  return [make(1, ''), make(throttle.connections, ` [${throttle.connections} connections]`)];
}

/**
 * Sockets first (their upgrades take no message tokens), then the idle wait, then a volley and a
 * paced run through the same open-model loop as the HTTP probe, which measures what was offered.
 */
async function collect(ctx: CheckContext, { entry, connections, plan }: WsThrottleSpec): Promise<WsThrottleNotes> {
  const where = connectCredential(ctx.policy, entry, socketUrl(ctx.policy.target, entry));
  const sockets: WsConnection[] = [];
  try {
    for (let i = 0; i < connections; i++) {
      const result = await connect(ctx, WS_THROTTLE_PROBE.connect, where, i);
      if (!result?.connection)
        return { notConnected: `socket ${i + 1} of ${connections} did not open (${describeWs(result?.observation)})` };
      sockets.push(result.connection);
    }
    const frameBytes = entry.limits?.frameBytes ?? Infinity;
    const pool = new WsPool(sockets, ctx.client, frameBytes);
    const body = messageText(entry);
    ctx.progress(`ws-throttle ${entry.id}: ${connections} socket(s) open; waiting ${plan.idleWaitMs} ms for an idle bucket`);
    await ctx.budget.pause(plan.idleWaitMs);
    const volley = { probe: WS_THROTTLE_PROBE.volley, method: 'WS', path: entry.path ?? '', body };
    const paced = { ...volley, probe: WS_THROTTLE_PROBE.paced };
    // Unlike the HTTP probe, the paced phase waits for the volley's answers: over several sockets
    // a paced message sent at once could be read before volley messages on another socket and take
    // their tokens. The bucket refills meanwhile (a few ms), which only adds accepts before the
    // paced phase's first refusal, where the rate fit starts anyway.
    await runPaced({
      client: pool,
      budget: ctx.budget,
      pacer: volleyPacer(),
      count: plan.volleySize,
      request: () => volley,
      onObservation: () => {},
      maxInFlight: plan.volleySize,
    });
    const pacedRun: PacedRunSummary = await runPaced({
      client: pool,
      budget: ctx.budget,
      pacer: constantPacer(plan.pacedRatePerSec),
      count: plan.pacedCount,
      request: () => paced,
      onObservation: () => {},
      maxInFlight: MAX_PACED_IN_FLIGHT,
    });
    return { paced: { sent: pacedRun.sent, dropped: pacedRun.dropped, maxSendLagMs: pacedRun.maxSendLagMs, offered: pacedRun.offered } };
  } finally {
    await Promise.all(sockets.map((s) => s.close()));
  }
}

export function evaluate(
  spec: WsThrottleSpec,
  { observations, notes }: { observations: Observation[]; notes: WsThrottleNotes },
  policy: Policy,
): Verdict<WsThrottleObserved> {
  const { limits, plan, connections } = spec;
  const volley = observations.filter((o) => o.probe === WS_THROTTLE_PROBE.volley);
  const paced = observations.filter((o) => o.probe === WS_THROTTLE_PROBE.paced);
  const all = [...volley, ...paced];
  const answers: Record<MessageAnswer, number> = { accepted: 0, throttled: 0, closed: 0, 'gateway-error': 0, unanswered: 0 };
  for (const o of all) answers[classifyAnswer(o)]++;
  const toAnswer = (o: Observation): TimedAnswer => {
    const answer = classifyAnswer(o);
    return {
      atMs: o.sentAtMs,
      doneAtMs: o.doneAtMs,
      accepted: answer === 'accepted',
      throttled: answer === 'throttled' || answer === 'closed',
    };
  };
  const estimate = estimateBucket(volley.map(toAnswer), paced.map(toAnswer));
  const observed: WsThrottleObserved = {
    ...summariseEstimate(estimate),
    connections,
    throttleSignal: { errorFrame: answers.throttled, socketClosed: answers.closed },
    answers,
    offered: notes.paced?.offered ?? null,
    clientBound: null,
    timeline: throttleTimeline(
      all,
      (o) => classifyAnswer(o) === 'accepted',
      limits,
      (o) => ['throttled', 'closed'].includes(classifyAnswer(o)),
    ),
  };
  const evidence = throttleEvidence(policy, volley, paced);
  const findings: FindingDraft[] = [];
  const verdict = (status: Verdict<WsThrottleObserved>['status'], summary: string): Verdict<WsThrottleObserved> => ({
    status,
    summary,
    observed,
    evidence,
    findings,
  });
  if (notes.notConnected !== undefined) return verdict('error', `${notes.notConnected}: cannot measure message throttling`);
  if (all.length === 0) return verdict('error', 'no message could be sent (run cap reached)');
  if (answers.closed > 0) {
    const title = `throttled messages close the socket (${answers.closed} of ${all.length} messages answered by a close)`;
    const detail =
      'API Gateway answers a throttled message with an error frame and keeps the connection; closing it drops every message in flight.';
    findings.push(
      finding(
        'throttle-closes-socket',
        'low',
        title,
        detail,
        evidence.flatMap((e, i) => (e.note?.includes('socket closed') ? [i] : [])),
      ),
    );
  }
  const unresolved = answers['gateway-error'] + answers.unanswered;
  if (unresolved / all.length > MAX_UNRESOLVED_SHARE) {
    const sample = all.find((o) => ['gateway-error', 'unanswered'].includes(classifyAnswer(o)))!;
    return verdict(
      'error',
      `${unresolved} of ${all.length} messages were neither answered nor throttled (e.g. ${describeWs(sample)}): cannot fit a bucket`,
    );
  }
  const judgement = judgeBucket(estimate, limits);
  if (judgement.status === 'inconclusive' && judgement.clientBound) {
    const offered = `offered ${estimate.offeredRatePerSec.toFixed(0)}/s of the planned ${plan.pacedRatePerSec}/s`;
    judgement.reasons.push(`client-bound: ${offered}, send lag up to ${(notes.paced?.maxSendLagMs ?? 0).toFixed(0)} ms`);
    observed.clientBound = { neededRatePerSec: plan.pacedRatePerSec, offeredRatePerSec: Number(estimate.offeredRatePerSec.toFixed(2)) };
  }
  findings.push(...bucketFindings(judgement, estimate, limits, evidence, connections));
  // The estimator words its reasons for HTTP; a refused message here is a throttle frame or a close.
  return verdict(judgement.status, judgement.reasons.join('; ').replace(/\b429s?\b/g, 'throttled message'));
}

/**
 * The HTTP throttle check's grading (docs/findings.md), worded for messages: a bucket off its
 * policy beyond the tolerance is `high` in either direction; nothing throttled at all is one
 * `no-limit`; a bucket within tolerance is an `info` finding with the numbers.
 */
function bucketFindings(
  judgement: ThrottleJudgement,
  estimate: BucketEstimate,
  limits: ThrottleTolerance,
  evidence: readonly EvidenceItem[],
  connections: number,
): FindingDraft[] {
  const all = evidence.map((_, i) => i);
  const worded = (text: string) => text.replace(/\b429s?\b/g, 'throttled message');
  const on = connections === 1 ? 'on one connection' : `over ${connections} connections`;
  const policy = `policy ${limits.rateLimit}/s, burst ${limits.burstLimit} ${on}`;
  if (judgement.status === 'pass') {
    const measured = `rate ${estimate.ratePerSec!.toFixed(1)}/s, burst ${estimate.burst!.toFixed(1)}`;
    return [
      finding(
        'bucket-measured',
        'info',
        `message token bucket within the policy: ${measured} (${policy})`,
        worded(judgement.reasons.join('; ')),
        all,
      ),
    ];
  }
  if (judgement.problems.length === 0) return [];
  if (estimate.volley.throttled + estimate.paced.throttled === 0) {
    const sent = `${estimate.volley.sent} volley and ${estimate.paced.sent} paced messages`;
    return [
      finding(
        'no-limit',
        'high',
        `no message throttling: none of ${sent} was throttled (${policy})`,
        worded(judgement.problems.map((p) => p.detail).join('; ')),
        all,
      ),
    ];
  }
  const title: Record<string, string> = {
    'rate-too-high': `message rate above the policy's ${limits.rateLimit}/s: more gets through than it allows`,
    'rate-too-low': `message rate below the policy's ${limits.rateLimit}/s: clients are refused what it promises`,
    'burst-too-large': `message burst above the policy's ${limits.burstLimit}: more gets through at once than it allows`,
    'burst-too-small': `message burst below the policy's ${limits.burstLimit}: clients are refused what it promises`,
  };
  return judgement.problems.map((p) => finding(p.kind, 'high', `${title[p.kind]} (${on})`, worded(p.detail), all));
}

/** The first accepted and first throttled message of each phase, and the first oddity. */
function throttleEvidence(policy: Policy, volley: Observation[], paced: Observation[]): EvidenceItem[] {
  const items: EvidenceItem[] = [];
  const pick = (list: Observation[], answers: MessageAnswer[], label: string, outcome: EvidenceItem['outcome']) => {
    const found = list.find((o) => answers.includes(classifyAnswer(o)));
    if (found) items.push(wsEvidence(policy, found, label, outcome));
  };
  pick(volley, ['accepted'], 'volley: first accepted', 'info');
  pick(volley, ['throttled', 'closed'], 'volley: first throttled', 'info');
  pick(paced, ['throttled', 'closed'], 'paced: first throttled', 'info');
  pick([...volley, ...paced], ['gateway-error', 'unanswered'], 'neither answered nor throttled', 'unresolved');
  return items;
}
