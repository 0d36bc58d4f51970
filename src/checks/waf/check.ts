/**
 * The WAF check (kind `waf`): sends the baseline (baseline.ts), the attack corpus by category,
 * placement and encoding, and the benign corpus in every placement, all WITH the route's valid
 * credential (so a refusal can only come from the WAF). The baseline gates; the matrix is graded
 * (findings.ts, grade.ts); unresolved answers are counted apart. See docs/security-checks.md.
 *
 * Order: the benign control alone first (nothing else is sent unless it gets the normal answer),
 * then the path placement's control, then the benign corpus, the baseline and the matrix with at
 * most WAF_CONCURRENCY probes in flight, each through probeRoute (a 429 is retried after the bucket refills, never counted).
 *
 * collect only sends. evaluate plans again (planWaf is pure) and reads each observation back to
 * its payload by its probe name, which is unique in the plan; the last attempt of a probe is its
 * answer (a 429 there means every retry was throttled).
 */
import type { Observation } from '../../engine/observation.js';
import {
  isOkStatus,
  WAF_CATEGORIES,
  WAF_ENCODINGS,
  WAF_PLACEMENTS,
  type Policy,
  type RoutePolicy,
  type WafPolicy,
} from '../../policy/types.js';
import { throttleStatuses } from '../../policy/types.js';
import { isThrottled } from '../../engine/throttle-model.js';
import { isNotRouted } from '../auth/vendor.js';
import { probeRoute, routeRequest, type CheckContext } from '../context.js';
import type { CheckDefinition } from '../contract.js';
import { evidenceFrom } from '../evidence.js';
import type { EvidenceItem } from '../types.js';
import { BASELINE_PAYLOADS, BASELINE_PLACEMENTS } from './baseline.js';
import { ENCODINGS_BY_PLACEMENT } from './encodings.js';
import {
  addToTally,
  blockRate,
  classifyWafAnswer,
  emptyTally,
  evaluateWaf,
  pathBaselineOf,
  ratesTable,
  type AnswerRules,
  type Counts,
  type WafAnswer,
  type WafTally,
} from './evaluate.js';
import type { WafGrade } from './grade.js';
import { describeProbe, planWaf, type WafPlan, type WafProbe } from './plan.js';
import { mapBounded } from './pool.js';

export { classifyWafAnswer, evaluateWaf } from './evaluate.js';

const KIND = 'waf';
/** Probes in flight at once. */
export const WAF_CONCURRENCY = 8;
/** After this many unresolved answers in a row the rest is not sent: the target is down or hanging. */
export const WAF_BREAKER_UNRESOLVED_IN_A_ROW = 16;
const PROGRESS_EVERY = 25;
const NOT_SENT = 'not sent (run cap reached)';
const BREAKER_REASON = `not sent: ${WAF_BREAKER_UNRESOLVED_IN_A_ROW} answers in a row were unresolved`;

export interface WafSpec {
  route: RoutePolicy;
  waf: WafPolicy;
}

/** What the stream cannot show: probes never sent because the breaker tripped (not the run cap). */
export interface WafNotes {
  breakerTripped: boolean;
}

/** Sent, blocked, passed and unresolved attacks of one category, placement or cell, and the block rate. */
export interface WafRates extends Counts {
  blockRate: number | null;
}

/** The baseline's answers (baseline.ts): they gate by default. */
export interface WafBaselineObserved extends WafRates {
  /** Every baseline attack that got the backend's normal answer. */
  passedThrough: string[];
}

export interface WafObserved {
  /** The benign control's answer: its status, or why there was none. */
  control: string;
  /** Over the matrix (the baseline apart). */
  blockRate: number | null;
  falsePositiveRate: number | null;
  attacks: number;
  blocked: number;
  passed: number;
  unresolved: number;
  benign: number;
  falsePositives: number;
  benignUnresolved: number;
  byCategory: Record<string, WafRates>;
  byPlacement: Record<string, WafRates>;
  /** Optional (like baseline and grade) only for reports written before the baseline: evaluate always sets it. */
  byEncoding?: Record<string, WafRates>;
  /** `placement/encoding` → rates: the matrix of the report. */
  byCell: Record<string, WafRates>;
  /** Every matrix attack that got the backend's normal answer: `sqli: tautology in query (url)`. */
  passedThrough: string[];
  baseline?: WafBaselineObserved;
  /** The GoTestWAF-style grade of the matrix (grade.ts); null when nothing could be judged. */
  grade?: WafGrade | null;
  benignBlocked: string[];
  /** `probe → why`, for every unresolved answer. */
  unresolvedProbes: string[];
  /** The status an ordinary segment below the route gets: the path placement's normal answer. */
  pathPlacementNormalAnswer?: number;
  /** Placements not tested, with the reason. */
  skippedPlacements?: Record<string, string>;
}

/** How the route's answers are read: its block statuses, its normal answer, the vendor's wording. */
function answerRules(policy: Pick<Policy, 'vendor'>, route: RoutePolicy, waf: WafPolicy): AnswerRules {
  return { blockStatus: waf.blockStatus, isOk: (s) => isOkStatus(route, s), vendor: policy.vendor };
}

/** Placements no selected encoding applies to: nothing is sent there. */
function emptyPlacements(plan: WafPlan, waf: WafPolicy): Record<string, string> {
  const why = (p: keyof typeof ENCODINGS_BY_PLACEMENT) =>
    `none of the encodings ${waf.encodings.join(', ')} applies (it takes ${ENCODINGS_BY_PLACEMENT[p].join(', ')})`;
  return Object.fromEntries(plan.emptyPlacements.map((p) => [p, why(p)]));
}

/**
 * Whether an answer the run saw is a WAF block, for the CloudWatch minute ledger: an answer to
 * this check's probes (the stream tags them `waf:<route>`) with one of the route's block statuses,
 * never a "routed nowhere" refusal (AWS: 403 Missing Authentication Token).
 */
export function isWafBlock(policy: Pick<Policy, 'routes' | 'vendor'>, observation: Observation): boolean {
  const { check, status } = observation;
  if (status === undefined || !check?.startsWith(`${KIND}:`)) return false;
  const route = policy.routes.find((r) => `${KIND}:${r.id}` === check);
  return route?.waf !== undefined && route.waf.blockStatus.includes(status) && !isNotRouted(policy.vendor, observation);
}

/** A probe's answer, as collect reads it from the outcome and evaluate from the observations. */
interface Read {
  observation?: Observation;
  answer: WafAnswer;
}

/** The last attempt is the answer: sendProbe stops at the first non-429, so a 429 there means every retry was throttled. */
function readAttempts(
  attempts: readonly Observation[] | undefined,
  probe: WafProbe,
  rules: AnswerRules,
  unsent: string,
  throttled: readonly number[],
): Read {
  const last = attempts?.[attempts.length - 1];
  if (!last) return { answer: { outcome: 'unresolved', reason: unsent } };
  return { observation: last, answer: classifyWafAnswer(last, probe.placement, rules, isThrottled(last, throttled)) };
}

export const wafCheck: CheckDefinition<'waf', WafSpec, WafObserved, WafNotes> = {
  kind: KIND,
  phase: 'route',
  select: (policy) =>
    policy.routes.flatMap((route) => (route.waf ? [{ route: route.id, idSuffix: '', spec: { route, waf: route.waf } }] : [])),
  expected: ({ route, waf }) => {
    const plan = planWaf(route, waf);
    const benign = plan.benign.length + (plan.controlIsExtra ? 0 : 1);
    const baselineCategories = waf.categories.filter((c) => BASELINE_PAYLOADS[c]);
    const baselinePlacements = waf.placements.filter((p) => BASELINE_PLACEMENTS.includes(p));
    return {
      blockStatus: waf.blockStatus,
      // Unset thresholds are not written: the baseline gates, the matrix is graded.
      ...(waf.minBlockRate !== undefined ? { minBlockRate: waf.minBlockRate } : {}),
      ...(waf.maxFalsePositiveRate !== undefined ? { maxFalsePositiveRate: waf.maxFalsePositiveRate } : {}),
      baseline:
        plan.baseline.length > 0
          ? `${plan.baseline.length} attacks (${baselineCategories.join(', ')}) in ${baselinePlacements.join(', ')}, plain: each miss gates`
          : 'none (no query or body placement selected)',
      categories: waf.categories,
      placements: waf.placements,
      encodings: waf.encodings,
      exhaustive: waf.exhaustive,
      probes:
        `${plan.attacks.length} attacks, ${plan.baseline.length} baseline, ${benign} benign` + (plan.pathControl ? ', 1 path control' : ''),
      credential: 'sent with every probe (a refusal can only come from the WAF)',
    };
  },
  // Each probe once at least (429 retries come on top). No time is reserved: a few hundred quick
  // requests, and a time cap reached midway leaves the rest unresolved, which gives error.
  plan: ({ route, waf }) => {
    const plan = planWaf(route, waf);
    const requests = 1 + (plan.pathControl ? 1 : 0) + plan.benign.length + plan.baseline.length + plan.attacks.length;
    return { requests, durationMs: 0, needsIdleBucket: false };
  },
  collect: (ctx, spec) => collectWaf(ctx, spec),
  evaluate: ({ route, waf }, { observations, notes }, policy) => {
    const plan = planWaf(route, waf);
    const rules = answerRules(policy, route, waf);
    const attempts = new Map<string, Observation[]>();
    for (const o of observations) attempts.set(o.probe, [...(attempts.get(o.probe) ?? []), o]);
    const read = (probe: WafProbe, unsent = NOT_SENT) =>
      readAttempts(attempts.get(probe.probe), probe, rules, unsent, throttleStatuses(route));

    const tally = emptyTally();
    const control = { probe: plan.control, ...read(plan.control) };
    if (!plan.controlIsExtra) addToTally(tally, control.probe, control.answer);
    const status = control.observation?.status;
    const controlAnswer = status !== undefined ? String(status) : (control.answer.reason ?? 'no answer');
    if (control.answer.outcome !== 'passed') {
      const verdict = evaluateWaf(tally, waf, control.answer);
      const observed = observedOf(tally, verdict, controlAnswer, {}, rules);
      return { status: verdict.status, summary: verdict.summary, observed, evidence: evidenceOf(policy, control).items, findings: [] };
    }

    const skipped = emptyPlacements(plan, waf);
    let pathControl: Exchange | undefined;
    if (plan.pathControl) {
      pathControl = { probe: plan.pathControl, ...read(plan.pathControl) };
      const baseline = pathBaselineOf(pathControl.observation, rules, pathControl.answer.throttledOut === true);
      if ('baseline' in baseline) rules.pathBaseline = baseline.baseline;
      else skipped.path = baseline.problem;
    }
    const probes = sendOrder(plan).filter((p) => !(p.placement in skipped));
    const exchanges = probes.map((probe) => ({ probe, ...read(probe, notes.breakerTripped ? BREAKER_REASON : NOT_SENT) }));
    for (const e of exchanges) addToTally(tally, e.probe, e.answer);

    const sent = exchanges.filter((e) => e.observation !== undefined);
    const evidence = evidenceOf(policy, control, pathControl, sent);
    const verdict = evaluateWaf(tally, waf, control.answer, (probe) => evidence.index.get(probe.probe) ?? []);
    return {
      status: verdict.status,
      summary: verdict.summary,
      observed: observedOf(tally, verdict, controlAnswer, skipped, rules),
      evidence: evidence.items,
      findings: verdict.findings,
    };
  },
};

interface Exchange extends Read {
  probe: WafProbe;
}

/** Sends the plan; returns whether the breaker stopped it. The verdict is evaluate's alone. */
async function collectWaf(ctx: CheckContext, { route, waf }: WafSpec): Promise<WafNotes> {
  const plan = planWaf(route, waf);
  const rules = answerRules(ctx.policy, route, waf);
  // Sent WITH the valid credential: routeRequest adds it.
  const send = async (probe: WafProbe): Promise<Exchange> => {
    const outcome = await probeRoute(ctx, route, routeRequest(ctx.policy, route, probe.probe, probe.request));
    return { probe, ...readAttempts(outcome?.attempts, probe, rules, NOT_SENT, throttleStatuses(route)) };
  };

  const control = await send(plan.control);
  ctx.progress(`waf ${route.id}: benign control → ${control.observation?.status ?? control.answer.reason}`);
  if (control.answer.outcome !== 'passed') return { breakerTripped: false };

  const skipped = emptyPlacements(plan, waf);
  if (plan.pathControl) {
    const pathControl = await send(plan.pathControl);
    const baseline = pathBaselineOf(pathControl.observation, rules, pathControl.answer.throttledOut === true);
    if ('baseline' in baseline) rules.pathBaseline = baseline.baseline;
    else skipped.path = baseline.problem;
  }

  const probes = sendOrder(plan).filter((p) => !(p.placement in skipped));
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
        const counts = `${seen.blocked} blocked, ${seen.passed} passed, ${seen.unresolved} unresolved`;
        ctx.progress(`waf ${route.id}: ${done}/${probes.length} probes (${counts})`);
      }
      return exchange;
    },
    () => unresolvedInARow >= WAF_BREAKER_UNRESOLVED_IN_A_ROW,
  );
  // Eight probes share the route's bucket: one can lose the race for a token on every retry. Those
  // get one more try each, alone, before anything is counted; if that is throttled out too, the
  // bucket is not refilling (a quota), and the rest stay unresolved.
  const tripped = unresolvedInARow >= WAF_BREAKER_UNRESOLVED_IN_A_ROW;
  for (const exchange of exchanges) {
    if (tripped || !exchange?.answer.throttledOut) continue;
    if ((await send(exchange.probe)).answer.throttledOut) break;
  }
  return { breakerTripped: tripped };
}

/** Benign first, then the baseline, then the matrix: the order probes are sent and read. */
function sendOrder(plan: WafPlan): WafProbe[] {
  return [...plan.benign, ...plan.baseline, ...plan.attacks];
}

function round(rate: number | undefined): number | null {
  return rate === undefined ? null : Math.round(rate * 1000) / 1000;
}

function observedOf(
  tally: WafTally,
  verdict: ReturnType<typeof evaluateWaf>,
  control: string,
  skippedPlacements: Record<string, string>,
  rules: AnswerRules,
): WafObserved {
  return {
    control,
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
    byEncoding: ratesTable(tally.byEncoding, WAF_ENCODINGS),
    byCell: ratesTable(tally.byCell, Object.keys(tally.byCell)),
    passedThrough: tally.through.map(describeProbe),
    baseline: {
      ...tally.baseline,
      blockRate: round(blockRate(tally.baseline)),
      passedThrough: tally.baselineThrough.map(describeProbe),
    },
    grade: verdict.grade ?? null,
    benignBlocked: tally.falsePositives.map(describeProbe),
    unresolvedProbes: tally.unresolved.map((u) => `${describeProbe(u.probe)} → ${u.reason}`),
    ...(rules.pathBaseline ? { pathPlacementNormalAnswer: rules.pathBaseline.status } : {}),
    ...(Object.keys(skippedPlacements).length ? { skippedPlacements } : {}),
  };
}

/** The evidence, and where each probe's exchange is in it (findings point there). */
interface EvidenceList {
  items: EvidenceItem[];
  index: Map<string, number[]>;
}

/**
 * The control, every payload that got through, every benign request blocked, every unresolved
 * answer, and one block per category as a sample.
 */
function evidenceOf(policy: Pick<Policy, 'target'>, control: Exchange, pathControl?: Exchange, exchanges: Exchange[] = []): EvidenceList {
  const items = exchangeEvidence(policy, control);
  const index = new Map<string, number[]>();
  const add = (e: Exchange, outcome?: EvidenceItem['outcome'], note?: string): void => {
    const added = exchangeEvidence(policy, e, outcome, note);
    if (added.length)
      index.set(
        e.probe.probe,
        added.map((_, i) => items.length + i),
      );
    items.push(...added);
  };
  if (pathControl) add(pathControl, 'info', "the path placement's normal answer");
  const sampled = new Set<string>();
  for (const e of exchanges) {
    const { kind, category } = e.probe;
    const { outcome } = e.answer;
    if (outcome === 'unresolved' || (kind === 'attack' && outcome === 'passed') || (kind === 'benign' && outcome === 'blocked')) {
      add(e);
    } else if (kind === 'attack' && !sampled.has(category!)) {
      sampled.add(category!);
      add(e, 'ok', 'blocked (one sample per category)');
    }
  }
  return { items, index };
}

/** One exchange as evidence (none when it was never sent: its reason is in `unresolvedProbes`). */
function exchangeEvidence(policy: Pick<Policy, 'target'>, e: Exchange, outcome?: EvidenceItem['outcome'], note?: string): EvidenceItem[] {
  const { probe, answer, observation } = e;
  if (!observation) return [];
  const violation = probe.kind === 'attack' ? answer.outcome === 'passed' : answer.outcome === 'blocked';
  const verdictOutcome = outcome ?? (answer.outcome === 'unresolved' ? 'unresolved' : violation ? 'violation' : 'ok');
  const why =
    note ??
    (answer.outcome === 'unresolved'
      ? answer.reason
      : probe.kind === 'attack' && answer.outcome === 'passed'
        ? `payload got through${answer.reason ? ` (${answer.reason})` : ''}`
        : probe.kind === 'benign' && answer.outcome === 'blocked'
          ? 'false positive: benign request blocked'
          : answer.reason);
  const sentBody = probe.request.body;
  const body = sentBody !== undefined ? `body ${sentBody.length > 200 ? `${sentBody.slice(0, 200)}…` : sentBody}` : undefined;
  const text = [why, body].filter((s): s is string => s !== undefined).join('; ');
  return [evidenceFrom(policy, observation, describeProbe(probe), verdictOutcome, text || undefined)];
}
