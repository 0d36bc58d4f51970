import type { ProbeRequest } from '../engine/http-client.js';
import type { Observation } from '../engine/observation.js';
import { isOkStatus, type RoutePolicy, type WafPolicy } from '../policy/types.js';
import { describeAnswer, evidenceOf, isUnresolved, probeRoute, resultFor, routeRequest, type CheckContext } from './context.js';
import type { CheckResult, CheckStatus, EvidenceItem } from './types.js';
import { ATTACK_PAYLOADS, BENIGN_PAYLOADS, type WafCategory } from './waf-corpus.js';

/** How one WAF exchange came out, after GoTestWAF's conventions. */
export type WafOutcome = 'blocked' | 'passed' | 'unresolved';

/** blocked = a block status; passed = the backend's normal answer; anything else (5xx, reset, other 4xx) is unresolved, never a block. */
export function classifyWafAnswer(observation: Observation | undefined, waf: WafPolicy, isOk: (status: number) => boolean): WafOutcome {
  if (!observation || observation.status === undefined) return 'unresolved';
  if (waf.blockStatus.includes(observation.status)) return 'blocked';
  if (isOk(observation.status)) return 'passed';
  return 'unresolved';
}

export interface WafTally {
  attacks: number;
  blocked: number;
  passed: number;
  unresolved: number;
  byCategory: Record<string, { sent: number; blocked: number }>;
  benign: number;
  benignBlocked: number;
  benignUnresolved: number;
}

/** Pure verdict from the tallies. */
export function evaluateWaf(tally: WafTally, waf: WafPolicy): { status: CheckStatus; summary: string; blockRate: number } {
  const judged = tally.blocked + tally.passed;
  const blockRate = judged ? tally.blocked / judged : 0;
  if (tally.benign === 0 || tally.benignUnresolved > 0) {
    return { status: 'error', summary: 'benign control got no normal answer, so blocks cannot be told from a broken route', blockRate };
  }
  if (tally.benignBlocked === tally.benign) {
    return { status: 'error', summary: `every benign request was blocked (${tally.benignBlocked}/${tally.benign}): a block cannot be told apart from a refusal of everything`, blockRate };
  }
  if (judged === 0) return { status: 'error', summary: `no attack got a judgeable answer (${tally.unresolved} unresolved)`, blockRate };
  const rate = `${tally.blocked}/${judged} attacks blocked (${(blockRate * 100).toFixed(0)}%)`;
  const fp = tally.benignBlocked ? `; ${tally.benignBlocked}/${tally.benign} benign requests blocked` : '';
  if (blockRate < waf.minBlockRate) return { status: 'fail', summary: `${rate}, below the required ${(waf.minBlockRate * 100).toFixed(0)}%${fp}`, blockRate };
  if (tally.unresolved > 0) return { status: 'error', summary: `${rate}, but ${tally.unresolved} attack(s) got neither a block nor a normal answer${fp}`, blockRate };
  return { status: 'pass', summary: `${rate}${fp}`, blockRate };
}

export async function runWafCheck(ctx: CheckContext, route: RoutePolicy): Promise<CheckResult> {
  const started = ctx.client.now();
  const result = resultFor('waf', route, started, ctx, ctx.budget.requestsSent);
  const waf = route.waf!;
  const isOk = (s: number) => isOkStatus(route, s);
  const evidence: EvidenceItem[] = [];
  const tally: WafTally = { attacks: 0, blocked: 0, passed: 0, unresolved: 0, byCategory: {}, benign: 0, benignBlocked: 0, benignUnresolved: 0 };
  const through: string[] = [];

  // Sent WITH the valid credential (routeRequest adds it), so a refusal can only come from the WAF.
  const send = async (probe: string, value: string): Promise<{ request: ProbeRequest; observation?: Observation; outcome: WafOutcome }> => {
    const separator = route.path.includes('?') ? '&' : '?';
    const request = routeRequest(ctx.policy, route, probe, { path: `${route.path}${separator}q=${encodeURIComponent(value)}` });
    const answer = await probeRoute(ctx, route, request);
    const observation = answer && !answer.throttledOut ? answer.final : undefined;
    return { request, ...(observation ? { observation } : {}), outcome: classifyWafAnswer(observation, waf, isOk) };
  };

  for (const benign of BENIGN_PAYLOADS) {
    const { request, observation, outcome } = await send('waf.benign', benign.value);
    tally.benign++;
    if (outcome === 'blocked') tally.benignBlocked++;
    if (outcome === 'unresolved') tally.benignUnresolved++;
    evidence.push(evidenceOf(ctx, request, observation, `benign: ${benign.name}`, outcome === 'passed' ? 'ok' : outcome === 'blocked' ? 'violation' : 'unresolved', outcome === 'blocked' ? 'false positive' : undefined));
    ctx.progress(`waf ${route.id}: benign ${benign.name} → ${describeAnswer(observation)}`);
  }
  if (tally.benignUnresolved === 0 && tally.benignBlocked < tally.benign) {
    for (const payload of ATTACK_PAYLOADS) {
      const { request, observation, outcome } = await send(`waf.${payload.category}`, payload.value);
      tally.attacks++;
      const cat = (tally.byCategory[payload.category] ??= { sent: 0, blocked: 0 });
      cat.sent++;
      if (outcome === 'blocked') {
        tally.blocked++;
        cat.blocked++;
      } else if (outcome === 'passed') {
        tally.passed++;
        through.push(`${payload.category}/${payload.name} (query)`);
      } else tally.unresolved++;
      evidence.push(evidenceOf(ctx, request, observation, `${payload.category}: ${payload.name} in query`, outcome === 'blocked' ? 'ok' : outcome === 'passed' ? 'violation' : 'unresolved', outcome === 'passed' ? 'payload got through' : undefined));
      ctx.progress(`waf ${route.id}: ${payload.category} ${payload.name} → ${describeAnswer(observation)}`);
    }
  }
  const verdict = evaluateWaf(tally, waf);
  const categories: WafCategory[] = [...new Set(ATTACK_PAYLOADS.map((p) => p.category))];
  return result(verdict.status, verdict.summary, {
    expected: { blockStatus: waf.blockStatus, minBlockRate: waf.minBlockRate, categories, placements: ['query'] },
    observed: {
      blockRate: Number(verdict.blockRate.toFixed(4)),
      attacks: tally.attacks,
      blocked: tally.blocked,
      passedThrough: through,
      unresolved: tally.unresolved,
      byCategory: tally.byCategory,
      falsePositives: tally.benignBlocked,
      benign: tally.benign,
    },
    evidence,
  });
}
