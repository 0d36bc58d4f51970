import type { Observation } from '../engine/observation.js';
import { isOkStatus, type RoutePolicy } from '../policy/types.js';
import { credentialHeaders, describeAnswer, evidenceOf, resultFor, type CheckContext } from './context.js';
import type { CheckResult, CheckStatus, EvidenceItem } from './types.js';

/**
 * A 429 is a quota refusal, not a throttle, when the gateway says so (AWS: `Limit Exceeded`,
 * `LimitExceededException`) or when it persists after the bucket has had time to refill twice.
 */
export function isQuotaRefusal(observation: Observation): boolean {
  if (observation.status !== 429) return false;
  return observation.headers['x-amzn-errortype'] === 'LimitExceededException' || /limit exceeded|quota/i.test(observation.bodySnippet ?? '');
}

export interface QuotaTally {
  accepted: number;
  /** Accepted count when the first quota refusal came, if one came. */
  refusedAfter?: number;
  unresolved: number;
}

/** Pure verdict: refused right at the limit → pass; never refused → fail; earlier → inconclusive. */
export function evaluateQuota(tally: QuotaTally, limit: number, tolerance: number): { status: CheckStatus; summary: string } {
  if (tally.refusedAfter === undefined) {
    if (tally.accepted > limit + tolerance) return { status: 'fail', summary: `quota not enforced: ${tally.accepted} requests accepted, limit ${limit}${tolerance ? ` (+${tolerance})` : ''}` };
    return { status: 'error', summary: `neither the limit was passed nor a quota refusal seen (${tally.accepted} accepted, ${tally.unresolved} unresolved)` };
  }
  if (tally.refusedAfter > limit + tolerance) return { status: 'fail', summary: `refused only after ${tally.refusedAfter} accepted requests, limit ${limit}${tolerance ? ` (+${tolerance})` : ''}` };
  if (tally.refusedAfter < limit) {
    return {
      status: 'inconclusive',
      summary: `refused after ${tally.refusedAfter} of ${limit}: either the quota is lower than the policy says or this key was used earlier in the period; rerun with a fresh key`,
    };
  }
  return { status: 'pass', summary: `refused with "Limit Exceeded" after exactly ${tally.refusedAfter} accepted requests (limit ${limit})` };
}

export async function runQuotaCheck(ctx: CheckContext, route: RoutePolicy): Promise<CheckResult> {
  const quota = route.quota!;
  const credentialName = quota.credential ?? route.auth?.credential;
  const credential = credentialName ? ctx.policy.credentials[credentialName] : undefined;
  // Stay under the rate limit so that 429s here are quota refusals, not throttling.
  const ratePerSec = quota.ratePerSec ?? (route.throttle ? route.throttle.rateLimit * 0.8 : 20);
  const maxSends = quota.limit + quota.tolerance + 5;
  const expected = { limit: quota.limit, period: quota.period, tolerance: quota.tolerance, credential: credentialName ?? null, ratePerSec, refusal: '429 Limit Exceeded (LimitExceededException) or a 429 that outlasts two bucket refills' };
  const started = ctx.client.now();
  const result = resultFor('quota', route, started, ctx, ctx.budget.requestsSent);
  const shortfall = ctx.budget.shortfall(maxSends, (maxSends / ratePerSec) * 1000);
  if (shortfall) return result('skip', `not run: verifying a quota of ${quota.limit} ${shortfall}`, { expected, observed: {}, evidence: [] });

  const request = { probe: 'quota', method: route.method, path: route.path, headers: credentialHeaders(credential) };
  const tally: QuotaTally = { accepted: 0, unresolved: 0 };
  const evidence: EvidenceItem[] = [];
  const refillMs = route.throttle ? Math.ceil((1000 / route.throttle.rateLimit) * 3) + 100 : 1000;
  let firstAccepted: Observation | undefined;
  let throttleRetries = 0;
  let lastUnresolved: Observation | undefined;
  ctx.progress(`quota ${route.id}: up to ${maxSends} requests at ${ratePerSec.toFixed(1)}/s`);
  for (let sent = 0; sent < maxSends && tally.refusedAfter === undefined; sent++) {
    if (!ctx.budget.take()) break;
    let observation = await ctx.client.send(request);
    // A throttle 429 is retried after refills; one that outlasts two refills is the quota.
    for (let retry = 0; observation.status === 429 && !isQuotaRefusal(observation) && retry < 2; retry++) {
      throttleRetries++;
      await ctx.budget.pause(refillMs * (retry + 1));
      if (!ctx.budget.take()) break;
      observation = await ctx.client.send(request);
    }
    if (observation.status !== undefined && isOkStatus(route, observation.status)) {
      tally.accepted++;
      firstAccepted ??= observation;
    } else if (observation.status === 429) {
      tally.refusedAfter = tally.accepted;
      evidence.push(evidenceOf(ctx, request, observation, `first quota refusal, after ${tally.accepted} accepted`, tally.accepted >= quota.limit ? 'ok' : 'info'));
    } else {
      tally.unresolved++;
      lastUnresolved = observation;
      if (tally.unresolved === 1) evidence.push(evidenceOf(ctx, request, observation, 'neither accepted nor refused', 'unresolved'));
      if (tally.unresolved > 3) break;
    }
    await ctx.budget.pause(1000 / ratePerSec);
  }
  if (firstAccepted) evidence.unshift(evidenceOf(ctx, request, firstAccepted, 'first accepted request', 'info'));
  const verdict = tally.unresolved > 3 ? { status: 'error' as const, summary: `${tally.unresolved} answers were neither accepted nor refused (last: ${describeAnswer(lastUnresolved)})` } : evaluateQuota(tally, quota.limit, quota.tolerance);
  if (verdict.status === 'fail' && tally.refusedAfter === undefined) evidence.push({ ...evidenceOf(ctx, request, undefined, `${tally.accepted} accepted, none refused`, 'violation'), note: `the limit is ${quota.limit}` });
  return result(verdict.status, verdict.summary, {
    expected,
    observed: { accepted: tally.accepted, refusedAfter: tally.refusedAfter ?? null, unresolved: tally.unresolved, throttleRetries },
    evidence,
  });
}
