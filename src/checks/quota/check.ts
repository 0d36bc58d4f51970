/**
 * The quota check (kind `quota`, phase `last`: it uses up the key's quota for the period, so it
 * runs after every route). Sends requests with the quota's key, under the rate limit, until the
 * gateway refuses with a quota refusal or the limit (plus tolerance, plus a few) is passed.
 *
 * collect only sends: a first attempt is probe `quota`, a retry after a throttle 429 is
 * `quota.retry`, so evaluate rebuilds the tally from the observations in order.
 */
import type { Observation } from '../../engine/observation.js';
import { isThrottled } from '../../engine/throttle-model.js';
import { isOkStatus, throttleStatuses, type QuotaPolicy, type RoutePolicy } from '../../policy/types.js';
import { credentialParts, describeAnswer } from '../context.js';
import type { CheckDefinition, FindingDraft } from '../contract.js';
import { finding } from '../findings.js';
import { evidenceFrom } from '../evidence.js';
import type { CheckStatus, EvidenceItem } from '../types.js';

const FIRST = 'quota';
const RETRY = 'quota.retry';
/** Throttle 429s retried per request before the 429 is read as the quota's. */
const THROTTLE_RETRIES = 2;
/** More unresolved answers than this and the check stops: error. */
const MAX_UNRESOLVED = 3;

/**
 * A 429 is a quota refusal, not a throttle, when the gateway says so (AWS: `Limit Exceeded`,
 * `LimitExceededException`) or when it persists after the bucket has had time to refill twice.
 */
export function isQuotaRefusal(observation: Observation): boolean {
  if (observation.status !== 429) return false;
  if (observation.headers['x-amzn-errortype'] === 'LimitExceededException') return true;
  return /limit exceeded|quota/i.test(observation.bodySnippet ?? '');
}

export interface QuotaTally {
  accepted: number;
  /** Accepted count when the first quota refusal came, if one came. */
  refusedAfter?: number;
  unresolved: number;
}

/** How a quota is off its policy: the finding's slug. */
export type QuotaProblem = 'not-enforced' | 'quota-too-high' | 'refused-before-limit';

export interface QuotaVerdict {
  status: CheckStatus;
  summary: string;
  problem?: QuotaProblem;
}

/**
 * Pure verdict: refused right at the limit → pass; never refused, or refused past the limit and
 * its tolerance → fail; earlier → inconclusive (a lower quota cannot be told from a key used
 * earlier in the period, so that is no fail: a second run on the same day would fail a correct
 * gateway).
 */
export function evaluateQuota(tally: QuotaTally, limit: number, tolerance: number): QuotaVerdict {
  const plus = tolerance ? ` (+${tolerance})` : '';
  const { accepted, refusedAfter, unresolved } = tally;
  if (refusedAfter === undefined) {
    if (accepted > limit + tolerance) {
      return {
        status: 'fail',
        summary: `quota not enforced: ${accepted} requests accepted, limit ${limit}${plus}`,
        problem: 'not-enforced',
      };
    }
    const seen = `${accepted} accepted, ${unresolved} unresolved`;
    return { status: 'error', summary: `neither the limit was passed nor a quota refusal seen (${seen})` };
  }
  if (refusedAfter > limit + tolerance) {
    const summary = `refused only after ${refusedAfter} accepted requests, limit ${limit}${plus}`;
    return { status: 'fail', summary, problem: 'quota-too-high' };
  }
  if (refusedAfter < limit) {
    return {
      status: 'inconclusive',
      summary:
        `refused after ${refusedAfter} of ${limit}: either the quota is lower than the policy says or this key was used earlier ` +
        'in the period; rerun with a fresh key',
      problem: 'refused-before-limit',
    };
  }
  return { status: 'pass', summary: `refused with "Limit Exceeded" after exactly ${refusedAfter} accepted requests (limit ${limit})` };
}

/**
 * The verdict's problem as a graded finding (docs/findings.md): a quota letting more through than
 * the policy allows is `high`, like a throttle off its policy. A refusal before the limit, which
 * cannot be told from a key used earlier in the period, is `info`: it is listed, and it never turns
 * the inconclusive verdict into a fail.
 */
export function quotaFinding(verdict: QuotaVerdict, quota: QuotaPolicy, evidence: number[]): FindingDraft[] {
  const limit = `${quota.limit} per ${quota.period.toLowerCase()}${quota.tolerance ? ` (+${quota.tolerance})` : ''}`;
  switch (verdict.problem) {
    case 'not-enforced':
      return [finding('not-enforced', 'high', `quota not enforced: the key got past its limit of ${limit}`, verdict.summary, evidence)];
    case 'quota-too-high':
      return [finding('quota-too-high', 'high', `quota refused later than its limit of ${limit}`, verdict.summary, evidence)];
    case 'refused-before-limit':
      return [finding('refused-before-limit', 'info', `quota refused before its limit of ${limit}`, verdict.summary, evidence)];
    default:
      return [];
  }
}

/** How one request ended (its last attempt): accepted, refused (any 429 left after the retries), or neither. */
export type QuotaAnswer = 'accepted' | 'refused' | 'unresolved';

export function classifyQuotaAnswer(route: RoutePolicy, observation: Observation): QuotaAnswer {
  if (observation.status !== undefined && isOkStatus(route, observation.status)) return 'accepted';
  return observation.status === 429 ? 'refused' : 'unresolved';
}

/** A throttle refusal (the route's `throttle.status`, not the quota's 429) is retried after the bucket refills. */
function isThrottle(observation: Observation, throttled: readonly number[]): boolean {
  return isThrottled(observation, throttled) && !isQuotaRefusal(observation);
}

export interface QuotaSpec {
  route: RoutePolicy;
  quota: QuotaPolicy;
  /** The key whose quota is used up: the quota's own, else the route's. */
  credential?: string;
  /** Stays under the rate limit, so that 429s here are quota refusals, not throttling. */
  ratePerSec: number;
  /** First attempts at most: the limit, the tolerance and five more. */
  maxSends: number;
}

/** Everything is in the observations. */
export type QuotaNotes = Record<string, never>;

export interface QuotaObserved {
  accepted: number;
  /** Accepted requests before the first quota refusal; null when none came. */
  refusedAfter: number | null;
  unresolved: number;
  /** Throttle 429s retried after a refill. */
  throttleRetries: number;
}

export const quotaCheck: CheckDefinition<'quota', QuotaSpec, QuotaObserved, QuotaNotes> = {
  kind: 'quota',
  phase: 'last',
  select: (policy) =>
    policy.routes.flatMap((route) => {
      if (!route.quota) return [];
      const quota = route.quota;
      const credential = quota.credential ?? route.auth?.credential;
      const ratePerSec = quota.ratePerSec ?? (route.throttle ? route.throttle.rateLimit * 0.8 : 20);
      const maxSends = quota.limit + quota.tolerance + 5;
      const spec: QuotaSpec = { route, quota, ratePerSec, maxSends, ...(credential ? { credential } : {}) };
      return [{ route: route.id, idSuffix: '', spec }];
    }),
  expected: ({ quota, credential, ratePerSec }) => ({
    limit: quota.limit,
    period: quota.period,
    tolerance: quota.tolerance,
    credential: credential ?? null,
    ratePerSec,
    refusal: '429 Limit Exceeded (LimitExceededException) or a 429 that outlasts two bucket refills',
  }),
  plan: ({ maxSends, ratePerSec }) => ({ requests: maxSends, durationMs: (maxSends / ratePerSec) * 1000, needsIdleBucket: false }),
  collect: async (ctx, { route, credential, ratePerSec, maxSends }) => {
    const parts = credentialParts(credential ? ctx.policy.credentials[credential] : undefined);
    const request = (probe: string) => ({ probe, method: route.method, path: route.path, ...parts });
    const refillMs = route.throttle ? Math.ceil((1000 / route.throttle.rateLimit) * 3) + 100 : 1000;
    let unresolved = 0;
    ctx.progress(`quota ${route.id}: up to ${maxSends} requests at ${ratePerSec.toFixed(1)}/s`);
    for (let sent = 0; sent < maxSends; sent++) {
      if (!ctx.budget.take()) break;
      let observation = await ctx.client.send(request(FIRST));
      // A throttle 429 is retried after refills; one that outlasts two refills is the quota.
      for (let retry = 0; isThrottle(observation, throttleStatuses(route)) && retry < THROTTLE_RETRIES; retry++) {
        await ctx.budget.pause(refillMs * (retry + 1));
        if (!ctx.budget.take()) break;
        observation = await ctx.client.send(request(RETRY));
      }
      const answer = classifyQuotaAnswer(route, observation);
      if (answer === 'refused') break;
      if (answer === 'unresolved' && ++unresolved > MAX_UNRESOLVED) break;
      await ctx.budget.pause(1000 / ratePerSec);
    }
    return {};
  },
  evaluate: ({ route, quota }, { observations }, policy) => {
    const tally: QuotaTally = { accepted: 0, unresolved: 0 };
    const evidence: EvidenceItem[] = [];
    let firstAccepted: Observation | undefined;
    let lastAccepted: Observation | undefined;
    let lastUnresolved: Observation | undefined;
    for (const observation of lastAttempts(observations)) {
      const answer = classifyQuotaAnswer(route, observation);
      if (answer === 'accepted') {
        tally.accepted++;
        firstAccepted ??= observation;
        lastAccepted = observation;
      } else if (answer === 'refused') {
        tally.refusedAfter = tally.accepted;
        const outcome = tally.accepted > quota.limit + quota.tolerance ? 'violation' : tally.accepted >= quota.limit ? 'ok' : 'info';
        evidence.push(evidenceFrom(policy, observation, `first quota refusal, after ${tally.accepted} accepted`, outcome));
        break;
      } else {
        tally.unresolved++;
        lastUnresolved = observation;
        if (tally.unresolved === 1) evidence.push(evidenceFrom(policy, observation, 'neither accepted nor refused', 'unresolved'));
        if (tally.unresolved > MAX_UNRESOLVED) break;
      }
    }
    if (firstAccepted) evidence.unshift(evidenceFrom(policy, firstAccepted, 'first accepted request', 'info'));
    const tooMany = `${tally.unresolved} answers were neither accepted nor refused (last: ${describeAnswer(lastUnresolved)})`;
    const tooManyUnresolved = tally.unresolved > MAX_UNRESOLVED;
    const verdict = tooManyUnresolved ? { status: 'error' as const, summary: tooMany } : evaluateQuota(tally, quota.limit, quota.tolerance);
    if (verdict.status === 'fail' && tally.refusedAfter === undefined && lastAccepted) {
      const label = `${tally.accepted} accepted, none refused`;
      evidence.push(evidenceFrom(policy, lastAccepted, label, 'violation', `the limit is ${quota.limit}`));
    }
    const observed: QuotaObserved = {
      accepted: tally.accepted,
      refusedAfter: tally.refusedAfter ?? null,
      unresolved: tally.unresolved,
      throttleRetries: observations.filter((o) => o.probe === RETRY).length,
    };
    // The refusal, or the last accepted request of a quota never enforced: the exchange the problem rests on.
    const shown = evidence.findIndex((e) => e.outcome === 'violation' || e.label.startsWith('first quota refusal'));
    const findings = quotaFinding(verdict, quota, shown >= 0 ? [shown] : []);
    return { status: verdict.status, summary: verdict.summary, observed, evidence, findings };
  },
};

/** Each request's answer: its last attempt (a first attempt, then any throttle retries of it). */
function lastAttempts(observations: readonly Observation[]): Observation[] {
  const answers: Observation[] = [];
  for (const o of observations) {
    if (o.probe === FIRST) answers.push(o);
    else if (o.probe === RETRY && answers.length > 0) answers[answers.length - 1] = o;
  }
  return answers;
}
