import type { Verdict } from '../checks/contract.js';
import { evidenceFrom } from '../checks/evidence.js';
import { planThrottle } from '../checks/throttle.js';
import { estimateBucket, judgeBucket, summariseEstimate, type TimedAnswer } from '../checks/throttle-estimate.js';
import type { EvidenceItem } from '../checks/types.js';
import type { Observation } from '../engine/observation.js';
import { isOkStatus, type Policy, type RoutePolicy, type ThrottlePolicy } from '../policy/types.js';
import { planIdSuffix } from './decode.js';
import { k6ExportHint } from './hint.js';
import { THROTTLE_PROBES } from './names.js';

/**
 * The throttle verdict of a k6 run, from its decoded Observations. This is the one place the k6
 * path judges a bucket: when the throttle kind moves onto the check contract, this function is
 * replaced by `throttleCheck.evaluate` (same inputs: spec, observations, notes, policy).
 */
export interface K6ThrottleSpec {
  route: RoutePolicy;
  /** The route's throttle or one usage plan's. */
  throttle: ThrottlePolicy;
  /** `''` for the route's throttle, ` [plan gold]` for a usage plan. */
  idSuffix: string;
  /** The credential whose bucket is measured, if any. */
  credential: string | null;
}

/** What k6 reports beyond the points: the client's side of the story. */
export interface K6ThrottleNotes {
  /** dropped_iterations of the paced scenario: k6 could not start them on time. */
  droppedPaced: number;
  /** NDJSON files merged (k6 instances: their rates add up). */
  instances: number;
  /** Rate the paced phase was exported to offer. */
  neededRatePerSec: number;
  /** The policy file as the user named it, for the export command of a client-bound verdict. */
  policyFile: string;
}

/** Largest share of 5xx/transport errors under which the fit is still trusted (as the paced engine). */
const MAX_UNRESOLVED_SHARE = 0.05;

/** The throttle checks of a route, in the registry's id order: its own throttle, then each usage plan. */
export function throttleSpecs(route: RoutePolicy): K6ThrottleSpec[] {
  const auth = route.auth?.required ? route.auth.credential : undefined;
  const own = route.throttle
    ? [{ route, throttle: route.throttle, idSuffix: '', credential: route.throttle.credential ?? auth ?? null }]
    : [];
  const plans = (route.usagePlans ?? []).map((plan) => ({
    route,
    throttle: plan,
    idSuffix: planIdSuffix(plan.name),
    credential: plan.credential,
  }));
  return [...own, ...plans];
}

export function expectedThrottle(spec: K6ThrottleSpec): Record<string, unknown> {
  const { rateLimit, burstLimit, tolerance } = spec.throttle;
  return { rateLimit, burstLimit, tolerance, credential: spec.credential, plan: planThrottle(spec.throttle), engine: 'k6' };
}

export function neededRatePerSec(throttle: ThrottlePolicy): number {
  return planThrottle(throttle).pacedRatePerSec;
}

/** Pure: the bucket fitted to the merged timeline of every instance, judged against the spec. */
export function evaluateK6Throttle(
  spec: K6ThrottleSpec,
  { observations, notes }: { observations: Observation[]; notes: K6ThrottleNotes },
  policy: Policy,
): Verdict<Record<string, unknown>> {
  const { route, throttle } = spec;
  const volley = observations.filter((o) => o.probe === THROTTLE_PROBES.volley);
  const paced = observations.filter((o) => o.probe === THROTTLE_PROBES.paced);
  const accepted = (o: Observation) => o.status !== undefined && isOkStatus(route, o.status);
  // The answer times bound when the gateway decided: the volley's window runs to its last answer.
  const answer = (o: Observation): TimedAnswer => ({
    atMs: o.sentAtMs,
    doneAtMs: o.doneAtMs,
    accepted: accepted(o),
    throttled: o.status === 429,
  });
  const estimate = estimateBucket(volley.map(answer), paced.map(answer));
  const all = [...volley, ...paced];
  const unresolved = all.filter((o) => o.status !== 429 && !accepted(o));
  const observed: Record<string, unknown> = {
    ...summariseEstimate(estimate),
    unresolved: unresolved.length,
    transportErrors: all.filter((o) => o.status === undefined).length,
    droppedIterations: notes.droppedPaced,
    instances: notes.instances,
    neededRatePerSec: notes.neededRatePerSec,
  };
  const evidence = throttleEvidence(policy, route, volley, paced);
  if (all.length === 0) return { status: 'skip', summary: 'no throttle probe requests in the k6 points', observed, evidence };
  if (unresolved.length / all.length > MAX_UNRESOLVED_SHARE) {
    const sample = unresolved[0]!;
    const example = sample.status ?? sample.error;
    const summary = `${unresolved.length} of ${all.length} answers were neither accepted nor 429 (e.g. ${example}): cannot fit a bucket`;
    return { status: 'error', summary, observed, evidence };
  }
  const judgement = judgeBucket(estimate, throttle);
  const clientBound = judgement.status === 'inconclusive' && (judgement.clientBound || notes.droppedPaced > 0);
  if (notes.droppedPaced > 0) {
    judgement.reasons.push(`k6 dropped ${notes.droppedPaced} scheduled iterations of the paced probe (not enough VUs or CPU)`);
  }
  if (clientBound) {
    const rates = {
      neededRatePerSec: notes.neededRatePerSec,
      offeredRatePerSec: estimate.offeredRatePerSec,
      currentParallelism: Math.max(1, notes.instances),
    };
    const hint = k6ExportHint(notes.policyFile, route, rates);
    judgement.reasons.push(`client-bound: ${estimate.offeredRatePerSec.toFixed(1)}/s offered of ${notes.neededRatePerSec}/s needed`);
    judgement.reasons.push(`spread the probe over ${hint.parallelism} k6 pods: ${hint.command}`);
    observed.k6ExportHint = { parallelism: hint.parallelism, command: hint.command };
  }
  return { status: judgement.status, summary: judgement.reasons.join('; '), observed, evidence };
}

/** A few exchanges a reviewer can read: the first accepted, the first 429s, the first oddity. */
function throttleEvidence(policy: Policy, route: RoutePolicy, volley: Observation[], paced: Observation[]): EvidenceItem[] {
  const items: EvidenceItem[] = [];
  const pick = (list: Observation[], test: (o: Observation) => boolean, label: string, outcome: EvidenceItem['outcome']) => {
    const found = list.find(test);
    if (found) items.push(evidenceFrom(policy, found, label, outcome));
  };
  const accepted = (o: Observation) => o.status !== undefined && isOkStatus(route, o.status);
  pick(volley, accepted, 'volley: first accepted (k6 point)', 'info');
  pick(volley, (o) => o.status === 429, 'volley: first throttled (429)', 'info');
  pick(paced, (o) => o.status === 429, 'paced: first throttled (429)', 'info');
  pick([...volley, ...paced], (o) => o.status !== 429 && !accepted(o), 'neither accepted nor throttled', 'unresolved');
  return items;
}
