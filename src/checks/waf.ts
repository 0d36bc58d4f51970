/**
 * The WAF check (kind `waf`): sends the attack corpus by category, placement and encoding, and the
 * benign corpus in every placement, all WITH the route's valid credential (so a refusal can only
 * come from the WAF), and judges block rates per category, the false-positive rate, and the
 * unresolved answers apart. See docs/security-checks.md.
 *
 * Order: the benign control alone first (nothing else is sent unless it gets the normal answer),
 * then the path placement's control, then everything else with at most WAF_CONCURRENCY probes in
 * flight, each through probeRoute (a 429 is retried after the bucket refills, never counted).
 */
import { markdownTable } from 'markdown-table';
import type { ProbeRequest } from '../engine/http-client.js';
import type { Observation } from '../engine/observation.js';
import { isOkStatus, WAF_CATEGORIES, WAF_PLACEMENTS, type RoutePolicy } from '../policy/types.js';
import { evidenceOf, probeRoute, resultFor, routeRequest, type CheckContext } from './context.js';
import type { CheckResult, EvidenceItem } from './types.js';
import { ENCODINGS_BY_PLACEMENT } from './waf/encodings.js';
import {
  addToTally,
  blockRate,
  classifyWafAnswer,
  emptyTally,
  evaluateWaf,
  pathBaselineOf,
  ratesTable,
  type AnswerRules,
  type WafAnswer,
  type WafTally,
} from './waf/evaluate.js';
import { describeProbe, planWaf, type WafProbe } from './waf/plan.js';
import { mapBounded } from './waf/pool.js';

export { classifyWafAnswer, evaluateWaf } from './waf/evaluate.js';

/** Probes in flight at once. */
export const WAF_CONCURRENCY = 8;
/** After this many unresolved answers in a row the rest is not sent: the target is down or hanging. */
export const WAF_BREAKER_UNRESOLVED_IN_A_ROW = 16;
const PROGRESS_EVERY = 25;

interface Exchange {
  probe: WafProbe;
  request: ProbeRequest;
  observation?: Observation;
  answer: WafAnswer;
  /** Every try was a 429 (the throttle model's retries ran out): typed, not read from the reason text. */
  throttledOut: boolean;
}

export async function runWafCheck(ctx: CheckContext, route: RoutePolicy): Promise<CheckResult> {
  const started = ctx.client.now();
  const result = resultFor('waf', route, started, ctx, ctx.budget.requestsSent);
  const waf = route.waf!;
  const plan = planWaf(route, waf);
  const rules: AnswerRules = { blockStatus: waf.blockStatus, isOk: (s) => isOkStatus(route, s), vendor: ctx.policy.vendor };
  const expected = {
    blockStatus: waf.blockStatus,
    minBlockRate: waf.minBlockRate,
    maxFalsePositiveRate: waf.maxFalsePositiveRate,
    categories: waf.categories,
    placements: waf.placements,
    encodings: waf.encodings,
    exhaustive: waf.exhaustive,
    probes: `${plan.attacks.length} attacks, ${plan.benign.length + (plan.controlIsExtra ? 0 : 1)} benign${plan.pathControl ? ', 1 path control' : ''}`,
    credential: 'sent with every probe (a refusal can only come from the WAF)',
  };

  // Sent WITH the valid credential: routeRequest adds it.
  const send = async (probe: WafProbe): Promise<Exchange> => {
    const request = routeRequest(ctx.policy, route, probe.probe, { ...probe.request, headers: probe.request.headers });
    const outcome = await probeRoute(ctx, route, request);
    const observation = outcome?.final;
    const throttledOut = outcome?.throttledOut ?? false;
    const answer = classifyWafAnswer(observation, probe.placement, rules, throttledOut);
    return { probe, request, ...(observation ? { observation } : {}), answer, throttledOut };
  };

  const tally = emptyTally();
  const control = await send(plan.control);
  if (!plan.controlIsExtra) addToTally(tally, control.probe, control.answer);
  ctx.progress(`waf ${route.id}: benign control → ${control.observation?.status ?? control.answer.reason}`);
  if (control.answer.outcome !== 'passed') {
    const verdict = evaluateWaf(tally, waf, control.answer);
    return result(verdict.status, verdict.summary, { expected, observed: { control: control.answer.reason ?? control.observation?.status }, evidence: [exchangeEvidence(ctx, control)] });
  }

  const skippedPlacements: Record<string, string> = {};
  for (const placement of plan.emptyPlacements) skippedPlacements[placement] = `none of the encodings ${waf.encodings.join(', ')} applies (it takes ${ENCODINGS_BY_PLACEMENT[placement].join(', ')})`;
  let pathControl: Exchange | undefined;
  if (plan.pathControl) {
    pathControl = await send(plan.pathControl);
    const read = pathBaselineOf(pathControl.observation, rules, pathControl.throttledOut);
    if ('baseline' in read) rules.pathBaseline = read.baseline;
    else skippedPlacements.path = read.problem;
  }

  const probes = [...plan.benign, ...plan.attacks].filter((p) => !(p.placement in skippedPlacements));
  let unresolvedInARow = 0;
  let done = 0;
  const seen = { blocked: 0, passed: 0, unresolved: 0 };
  const exchanges = await mapBounded(
    probes,
    WAF_CONCURRENCY,
    async (probe) => {
      const exchange = await send(probe);
      unresolvedInARow = exchange.answer.outcome === 'unresolved' ? unresolvedInARow + 1 : 0;
      seen[exchange.answer.outcome]++;
      if (++done % PROGRESS_EVERY === 0 || done === probes.length) {
        ctx.progress(`waf ${route.id}: ${done}/${probes.length} probes (${seen.blocked} blocked, ${seen.passed} passed, ${seen.unresolved} unresolved)`);
      }
      return exchange;
    },
    () => unresolvedInARow >= WAF_BREAKER_UNRESOLVED_IN_A_ROW,
  );
  // Eight probes share the route's bucket: one can lose the race for a token on every retry. Those
  // get one more try each, alone, before anything is counted; if that is throttled out too, the
  // bucket is not refilling (a quota), and the rest stay unresolved.
  const tripped = unresolvedInARow >= WAF_BREAKER_UNRESOLVED_IN_A_ROW;
  for (const [i, exchange] of exchanges.entries()) {
    if (tripped || !exchange?.throttledOut) continue;
    exchanges[i] = await send(exchange.probe);
    if (exchanges[i]!.throttledOut) break;
  }
  const breakerReason = `not sent: ${WAF_BREAKER_UNRESOLVED_IN_A_ROW} answers in a row were unresolved`;
  probes.forEach((probe, i) => addToTally(tally, probe, exchanges[i]?.answer ?? { outcome: 'unresolved', reason: breakerReason }));

  const verdict = evaluateWaf(tally, waf, control.answer);
  const sent = exchanges.filter((e): e is Exchange => e !== undefined);
  return result(verdict.status, verdict.summary, {
    expected,
    observed: observedOf(tally, verdict, skippedPlacements, rules),
    evidence: selectEvidence(ctx, control, pathControl, sent),
    details: detailsOf(tally, waf.categories),
  });
}

function round(rate: number | undefined): number | null {
  return rate === undefined ? null : Math.round(rate * 1000) / 1000;
}

function observedOf(tally: WafTally, verdict: ReturnType<typeof evaluateWaf>, skippedPlacements: Record<string, string>, rules: AnswerRules): Record<string, unknown> {
  return {
    blockRate: round(verdict.blockRate),
    falsePositiveRate: round(verdict.falsePositiveRate),
    attacks: tally.attacks.sent,
    blocked: tally.attacks.blocked,
    passed: tally.attacks.passed,
    unresolved: tally.attacks.unresolved,
    benign: tally.benign.sent,
    falsePositives: tally.benign.blocked,
    benignUnresolved: tally.benign.unresolved,
    byCategory: ratesTable(tally.byCategory, WAF_CATEGORIES),
    byPlacement: ratesTable(tally.byPlacement, WAF_PLACEMENTS),
    passedThrough: tally.through.map(describeProbe),
    benignBlocked: tally.falsePositives.map(describeProbe),
    unresolvedProbes: tally.unresolved.map((u) => `${describeProbe(u.probe)} → ${u.reason}`),
    ...(rules.pathBaseline ? { pathPlacementNormalAnswer: rules.pathBaseline.status } : {}),
    ...(Object.keys(skippedPlacements).length ? { skippedPlacements } : {}),
  };
}

/** The control, every payload that got through, every benign request blocked, every unresolved answer, and one block per category as a sample. */
function selectEvidence(ctx: CheckContext, control: Exchange, pathControl: Exchange | undefined, exchanges: Exchange[]): EvidenceItem[] {
  const evidence = [exchangeEvidence(ctx, control)];
  if (pathControl) evidence.push(exchangeEvidence(ctx, pathControl, 'info', 'the path placement\'s normal answer'));
  const sampled = new Set<string>();
  for (const e of exchanges) {
    const { kind, category } = e.probe;
    if (e.answer.outcome === 'unresolved' || (kind === 'attack' && e.answer.outcome === 'passed') || (kind === 'benign' && e.answer.outcome === 'blocked')) {
      evidence.push(exchangeEvidence(ctx, e));
    } else if (kind === 'attack' && !sampled.has(category!)) {
      sampled.add(category!);
      evidence.push(exchangeEvidence(ctx, e, 'ok', 'blocked (one sample per category)'));
    }
  }
  return evidence;
}

function exchangeEvidence(ctx: CheckContext, e: Exchange, outcome?: EvidenceItem['outcome'], note?: string): EvidenceItem {
  const { probe, answer } = e;
  const violation = (probe.kind === 'attack' && answer.outcome === 'passed') || (probe.kind !== 'attack' && answer.outcome === 'blocked');
  const verdictOutcome: EvidenceItem['outcome'] = outcome ?? (answer.outcome === 'unresolved' ? 'unresolved' : violation ? 'violation' : 'ok');
  const why =
    note ??
    (answer.outcome === 'unresolved'
      ? answer.reason
      : probe.kind === 'attack' && answer.outcome === 'passed'
        ? `payload got through${answer.reason ? ` (${answer.reason})` : ''}`
        : probe.kind === 'benign' && answer.outcome === 'blocked'
          ? 'false positive: benign request blocked'
          : answer.reason);
  const body = e.request.body !== undefined ? `body ${e.request.body.length > 200 ? `${e.request.body.slice(0, 200)}…` : e.request.body}` : undefined;
  const text = [why, body].filter((s): s is string => s !== undefined).join('; ');
  return evidenceOf(ctx, e.request, e.observation, describeProbe(probe), verdictOutcome, text || undefined);
}

/** Markdown under the check: rates per category, and blocked/judged per placement and encoding. */
function detailsOf(tally: WafTally, categories: readonly string[]): string {
  const rate = (r: number | undefined): string => (r === undefined ? '—' : `${(r * 100).toFixed(0)}%`);
  const byCategory = markdownTable([
    ['Category', 'Sent', 'Blocked', 'Passed', 'Unresolved', 'Block rate'],
    ...categories.map((c) => {
      const counts = tally.byCategory[c as keyof WafTally['byCategory']];
      return [c, String(counts?.sent ?? 0), String(counts?.blocked ?? 0), String(counts?.passed ?? 0), String(counts?.unresolved ?? 0), rate(blockRate(counts))];
    }),
    ['**all**', String(tally.attacks.sent), String(tally.attacks.blocked), String(tally.attacks.passed), String(tally.attacks.unresolved), rate(blockRate(tally.attacks))],
    ['benign', String(tally.benign.sent), String(tally.benign.blocked), String(tally.benign.passed), String(tally.benign.unresolved), `FP ${rate(blockRate(tally.benign))}`],
  ]);
  const placements = WAF_PLACEMENTS.filter((p) => tally.byPlacement[p]);
  const encodings = [...new Set(Object.keys(tally.byCell).map((k) => k.split('/')[1]!))];
  const cell = (p: string, e: string): string => {
    const c = tally.byCell[`${p}/${e}`];
    return c ? `${c.blocked}/${c.blocked + c.passed}${c.unresolved ? ` (+${c.unresolved}?)` : ''}` : '';
  };
  const matrix = markdownTable([['Placement', ...encodings], ...placements.map((p) => [p, ...encodings.map((e) => cell(p, e))])]);
  return `**Block rate by category**\n\n${byCategory}\n\n**Attacks blocked / judged, by placement and encoding** (+n? = unresolved)\n\n${matrix}`;
}
