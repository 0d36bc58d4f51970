/**
 * Reading WAF answers and judging the route. Pure: no I/O, tables in test/checks/waf-*.test.ts.
 *
 * After GoTestWAF's conventions: an answer is `blocked` when its status is a block status,
 * `passed` when it is the backend's normal answer, and `unresolved` otherwise (5xx, resets,
 * timeouts, a 429 on every retry, any other status). Unresolved answers are counted apart and
 * never as blocks: a WAF that crashes the backend does not score.
 */
import type { Observation } from '../../engine/observation.js';
import type { Vendor, WafCategory, WafEncoding, WafPlacement, WafPolicy } from '../../policy/types.js';
import type { FindingDraft } from '../contract.js';
import type { CheckStatus } from '../types.js';
import { isNotRouted, readRefusal } from '../auth/vendor.js';
import { gradeOf, pct, type WafGrade } from './grade.js';
import { gatesByDefault, wafFindings, type EvidenceIndex } from './findings.js';
import { describeProbe, type WafProbe } from './plan.js';

export type WafOutcome = 'blocked' | 'passed' | 'unresolved';

export interface WafAnswer {
  outcome: WafOutcome;
  /** Why an answer is unresolved, or what a passed path probe matched. */
  reason?: string;
  /** The route's throttle answered every retry (429): the WAF was never asked. */
  throttledOut?: true;
}

/** What the path placement's control got: an ordinary unknown segment below the route. */
/** The reason of an answer that was a 429 on every retry. */
export const THROTTLED_OUT = '429 on every retry';

export interface PathBaseline {
  status: number;
  /** The vendor reads it as "routed nowhere" (AWS REST 403 Missing Authentication Token, HTTP API 404). */
  notRouted: boolean;
}

export interface AnswerRules {
  blockStatus: readonly number[];
  isOk: (status: number) => boolean;
  vendor: Vendor;
  pathBaseline?: PathBaseline;
}

/**
 * One answer. Order matters: a not-routed answer on the path placement means the request got
 * past the WAF (AWS runs the web ACL before routing) even though its status, 403, is the block
 * status; on the route itself it means something else went wrong, so it is unresolved.
 */
export function classifyWafAnswer(
  observation: Observation | undefined,
  placement: WafPlacement,
  rules: AnswerRules,
  throttledOut = false,
): WafAnswer {
  if (throttledOut) return { outcome: 'unresolved', reason: THROTTLED_OUT, throttledOut: true };
  if (!observation) return { outcome: 'unresolved', reason: 'not sent (run cap reached)' };
  if (observation.status === undefined) return { outcome: 'unresolved', reason: observation.error ?? 'no answer' };
  const status = observation.status;
  if (status >= 500) return { outcome: 'unresolved', reason: `${status} from the gateway or backend` };
  if (isNotRouted(rules.vendor, observation)) {
    return placement === 'path'
      ? { outcome: 'passed', reason: 'past the WAF, then routed nowhere' }
      : { outcome: 'unresolved', reason: readRefusal(rules.vendor, observation)?.note ?? `${status}, not routed` };
  }
  if (rules.blockStatus.includes(status)) return { outcome: 'blocked' };
  if (rules.isOk(status)) return { outcome: 'passed' };
  if (placement === 'path' && rules.pathBaseline && status === rules.pathBaseline.status)
    return { outcome: 'passed', reason: `${status}, as an ordinary path below the route` };
  return { outcome: 'unresolved', reason: `${status} is neither a block status nor the backend's normal answer` };
}

/**
 * Whether the path placement can be judged, from its control's answer: not when that answer is
 * itself a block status (a gateway answering 403 to any unknown path) or unresolved.
 */
export function pathBaselineOf(
  observation: Observation | undefined,
  rules: Omit<AnswerRules, 'pathBaseline'>,
  throttledOut = false,
): { baseline: PathBaseline } | { problem: string } {
  if (throttledOut || !observation || observation.status === undefined || observation.status >= 500) {
    return {
      problem:
        `its control (an ordinary segment below the route) got no usable answer ` +
        `(${throttledOut ? '429 on every retry' : (observation?.status ?? observation?.error ?? 'not sent')})`,
    };
  }
  const notRouted = isNotRouted(rules.vendor, observation);
  if (!notRouted && rules.blockStatus.includes(observation.status)) {
    return {
      problem:
        `an ordinary segment below the route already gets ${observation.status}` +
        `, a block status, so a block cannot be told from "no such path"`,
    };
  }
  return { baseline: { status: observation.status, notRouted } };
}

export interface Counts {
  sent: number;
  blocked: number;
  passed: number;
  unresolved: number;
}

export interface WafTally {
  /** The matrix's attacks (the baseline apart). */
  attacks: Counts;
  benign: Counts;
  /** The baseline's attacks: they gate by default. */
  baseline: Counts;
  byCategory: Partial<Record<WafCategory, Counts>>;
  byPlacement: Partial<Record<WafPlacement, Counts>>;
  byEncoding: Partial<Record<WafEncoding, Counts>>;
  /** `placement/encoding` → counts, for the matrix in the report. */
  byCell: Record<string, Counts>;
  /** Matrix attack probes that got the backend's normal answer. */
  through: WafProbe[];
  /** Baseline attack probes that got the backend's normal answer. */
  baselineThrough: WafProbe[];
  /** Benign probes that were blocked. */
  falsePositives: WafProbe[];
  unresolved: Array<{ probe: WafProbe; reason: string }>;
}

function zero(): Counts {
  return { sent: 0, blocked: 0, passed: 0, unresolved: 0 };
}

export function emptyTally(): WafTally {
  return {
    attacks: zero(),
    benign: zero(),
    baseline: zero(),
    byCategory: {},
    byPlacement: {},
    byEncoding: {},
    byCell: {},
    through: [],
    baselineThrough: [],
    falsePositives: [],
    unresolved: [],
  };
}

function bump(counts: Counts, outcome: WafOutcome): void {
  counts.sent++;
  counts[outcome]++;
}

/** Adds one answer to the tally (control and benign probes count as benign). */
export function addToTally(tally: WafTally, probe: WafProbe, answer: WafAnswer): void {
  if (probe.kind === 'path-control') return;
  if (answer.outcome === 'unresolved') tally.unresolved.push({ probe, reason: answer.reason ?? 'unresolved' });
  if (probe.kind === 'benign') {
    bump(tally.benign, answer.outcome);
    if (answer.outcome === 'blocked') tally.falsePositives.push(probe);
    return;
  }
  if (probe.baseline) {
    bump(tally.baseline, answer.outcome);
    if (answer.outcome === 'passed') tally.baselineThrough.push(probe);
    return;
  }
  bump(tally.attacks, answer.outcome);
  bump((tally.byCategory[probe.category!] ??= zero()), answer.outcome);
  bump((tally.byPlacement[probe.placement] ??= zero()), answer.outcome);
  bump((tally.byEncoding[probe.encoding] ??= zero()), answer.outcome);
  bump((tally.byCell[`${probe.placement}/${probe.encoding}`] ??= zero()), answer.outcome);
  if (answer.outcome === 'passed') tally.through.push(probe);
}

/** Blocked share of the judged (blocked + passed) answers; undefined when none was judged. */
export function blockRate(counts: Counts | undefined): number | undefined {
  const judged = counts ? counts.blocked + counts.passed : 0;
  return judged === 0 ? undefined : counts!.blocked / judged;
}

/** Above this share of unresolved answers (attacks or benign) the rates are not trusted: error. */
export const MAX_UNRESOLVED_SHARE = 0.1;

export interface WafVerdict {
  status: CheckStatus;
  summary: string;
  blockRate?: number;
  falsePositiveRate?: number;
  grade?: WafGrade;
  /** Categories below an explicit minBlockRate, with their rate. */
  weakCategories: Array<{ category: WafCategory; rate: number }>;
  findings: FindingDraft[];
}

/**
 * The verdict. A control that is not let through is an error (a refusal of everything cannot be
 * told apart from blocks). Otherwise the findings (findings.ts) decide: a baseline attack let
 * through (`high`), nothing blocked at all (`critical`), or a threshold the policy writes breached
 * (explicit) is a fail; misses in the rest of the matrix (`low`/`medium`), false positives
 * (`medium`) and the grade (`info`) are listed, and the gate settles whether they fail the run.
 * Without a failing finding, too many unresolved answers, or a category with no judged answer, is
 * an error.
 */
export function evaluateWaf(
  tally: WafTally,
  waf: Pick<WafPolicy, 'minBlockRate' | 'maxFalsePositiveRate' | 'categories'>,
  control: WafAnswer,
  evidence: EvidenceIndex = () => [],
): WafVerdict {
  if (control.outcome !== 'passed') {
    const why = control.outcome === 'blocked' ? 'was blocked' : `got no normal answer (${control.reason ?? 'unresolved'})`;
    return {
      status: 'error',
      summary: `benign control ("hello world") ${why}: a block cannot be told apart from a route that refuses everything`,
      weakCategories: [],
      findings: [],
    };
  }
  const rate = blockRate(tally.attacks);
  const fpJudged = tally.benign.blocked + tally.benign.passed;
  const falsePositiveRate = fpJudged ? tally.benign.blocked / fpJudged : undefined;
  const grade = gradeOf(tally.attacks, tally.benign);
  const weakCategories: WafVerdict['weakCategories'] = [];
  const unjudged: WafCategory[] = [];
  for (const category of waf.categories) {
    const r = blockRate(tally.byCategory[category]);
    if (r === undefined) unjudged.push(category);
    else if (waf.minBlockRate !== undefined && r < waf.minBlockRate) weakCategories.push({ category, rate: r });
  }
  const findings = wafFindings(
    { tally, waf, weakCategories, ...(grade ? { grade } : {}), ...(falsePositiveRate !== undefined ? { falsePositiveRate } : {}) },
    evidence,
  );
  const base = {
    ...(rate !== undefined ? { blockRate: rate } : {}),
    ...(falsePositiveRate !== undefined ? { falsePositiveRate } : {}),
    ...(grade ? { grade } : {}),
    weakCategories,
    findings,
  };
  const ratePart =
    rate !== undefined
      ? `${tally.attacks.blocked}/${tally.attacks.blocked + tally.attacks.passed} attacks blocked (${pct(rate)})`
      : 'no attack judged';
  const fpPart =
    falsePositiveRate !== undefined
      ? `${tally.benign.blocked}/${fpJudged} benign blocked (${pct(falsePositiveRate)})`
      : 'no benign request judged';
  const baselineJudged = tally.baseline.blocked + tally.baseline.passed;
  const baselinePart = baselineJudged ? `, baseline ${tally.baseline.blocked}/${baselineJudged} blocked` : '';
  const gradePart = grade ? `, grade ${grade.letter}` : '';
  const unresolved = tally.unresolved.length;
  const unresolvedPart = unresolved ? `; ${unresolved} unresolved, not counted` : '';
  const rates = `${ratePart}${baselinePart}, ${fpPart}${gradePart}`;

  const breaches: string[] = [];
  if (findings.some((f) => f.id === 'waf-not-blocking')) breaches.push('no baseline attack blocked: the WAF is off or only detecting');
  const baselineMisses = findings.filter((f) => f.id.startsWith('baseline-miss:')).map((f) => f.id.slice('baseline-miss:'.length));
  if (baselineMisses.length) breaches.push(`baseline attacks got through (${baselineMisses.join(', ')})`);
  if (weakCategories.length)
    breaches.push(`below ${pct(waf.minBlockRate!)} in ${weakCategories.map((w) => `${w.category} (${pct(w.rate)})`).join(', ')}`);
  if (findings.some((f) => f.id === 'max-false-positive-rate')) breaches.push(`false positives above ${pct(waf.maxFalsePositiveRate!)}`);
  if (findings.some(gatesByDefault)) return { status: 'fail', summary: `${rates}: ${breaches.join('; ')}${unresolvedPart}`, ...base };

  const attacksSent = tally.attacks.sent + tally.baseline.sent;
  const unresolvedAttacks = attacksSent ? (tally.attacks.unresolved + tally.baseline.unresolved) / attacksSent : 0;
  const unresolvedBenign = tally.benign.sent ? tally.benign.unresolved / tally.benign.sent : 0;
  if (unjudged.length)
    return { status: 'error', summary: `no judgeable answer for ${unjudged.join(', ')}; ${rates}${unresolvedPart}`, ...base };
  if (falsePositiveRate === undefined) return { status: 'error', summary: `${ratePart}, but ${fpPart}${unresolvedPart}`, ...base };
  if (unresolvedAttacks > MAX_UNRESOLVED_SHARE || unresolvedBenign > MAX_UNRESOLVED_SHARE) {
    return {
      status: 'error',
      summary:
        `${rates}, but too many answers were unresolved to trust the rates` +
        ` (${tally.attacks.unresolved + tally.baseline.unresolved} attacks, ${tally.benign.unresolved} benign)`,
      ...base,
    };
  }
  return { status: 'pass', summary: `${rates}${unresolvedPart}`, ...base };
}

/** Rates per category and placement, rounded, for `observed`. */
export function ratesTable<K extends string>(
  counts: Partial<Record<K, Counts>>,
  order: readonly K[],
): Record<string, { sent: number; blocked: number; passed: number; unresolved: number; blockRate: number | null }> {
  const out: Record<string, { sent: number; blocked: number; passed: number; unresolved: number; blockRate: number | null }> = {};
  for (const key of order) {
    const c = counts[key];
    if (!c) continue;
    const r = blockRate(c);
    out[key] = { ...c, blockRate: r === undefined ? null : Math.round(r * 1000) / 1000 };
  }
  return out;
}

/** `sqli: union select in query (url)` for each probe, for reports. */
export function describeAll(probes: WafProbe[]): string[] {
  return probes.map(describeProbe);
}
