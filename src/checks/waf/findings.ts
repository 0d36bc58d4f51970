/**
 * The WAF check's findings (docs/findings.md). Pure. Ids are slugs of what was found, never of a
 * measured number, so the same gateway and policy give the same ids run after run:
 *
 * | slug                          | severity | when |
 * |-------------------------------|----------|------|
 * | `waf-not-blocking`            | critical | no baseline attack blocked (WAF off, DetectionOnly, Count mode) |
 * | `baseline-miss:<cat>.<place>` | high     | a baseline attack (baseline.ts) got through in the query or body |
 * | `miss:<cat>.<place>`          | medium   | a classic (plain) payload got through in the query or body, beyond the baseline |
 * | `miss:<cat>.<place>`          | low      | only encoded payloads, or an unusual placement (path, header, cookie) |
 * | `false-positive:<sample>`     | medium   | a benign sample blocked (in any placement) |
 * | `min-block-rate:<cat>`        | high, explicit | a category below the minBlockRate the policy writes |
 * | `max-false-positive-rate`     | medium, explicit | false positives above the maxFalsePositiveRate the policy writes |
 * | `grade`                       | info     | the GoTestWAF-style grade of the matrix (grade.ts) |
 *
 * Misses are grouped per category and placement (at most 9 x 6), each listing its payloads and
 * encodings, so a weak WAF gives a readable list rather than one finding per probe. When nothing
 * is blocked at all, the one `critical` finding stands for all of them.
 */
import type { WafCategory, WafPlacement, WafPolicy } from '../../policy/types.js';
import type { FindingDraft } from '../contract.js';
import { finding, slugPart } from '../findings.js';
import { BASELINE_PLACEMENTS } from './baseline.js';
import type { WafTally } from './evaluate.js';
import { pct, type WafGrade } from './grade.js';
import type { WafProbe } from './plan.js';

/** Evidence indexes (into the check's evidence) of a probe's exchange; none when it has none. */
export type EvidenceIndex = (probe: WafProbe) => number[];

export interface FindingInput {
  tally: WafTally;
  waf: Pick<WafPolicy, 'minBlockRate' | 'maxFalsePositiveRate'>;
  weakCategories: ReadonlyArray<{ category: WafCategory; rate: number }>;
  falsePositiveRate?: number;
  grade?: WafGrade;
}

/** At most this many evidence indexes per finding: the rest is in the detail and observed. */
const EVIDENCE_PER_FINDING = 5;

/** A finding that fails the check whatever the gate: critical or high, or a threshold the policy writes. */
export function gatesByDefault(f: FindingDraft): boolean {
  return f.severity === 'critical' || f.severity === 'high' || f.explicit === true;
}

export function wafFindings(input: FindingInput, evidence: EvidenceIndex): FindingDraft[] {
  const { tally } = input;
  const findings: FindingDraft[] = [];
  const notBlocking = blocksNothing(tally);
  if (notBlocking) findings.push(notBlockingFinding(tally, evidence));
  else {
    findings.push(...baselineMisses(tally.baselineThrough, evidence));
    findings.push(...matrixMisses(tally.through, evidence));
  }
  findings.push(...falsePositives(tally.falsePositives, evidence));
  findings.push(...thresholdBreaches(input));
  if (input.grade) findings.push(gradeFinding(input.grade, tally));
  return findings;
}

/**
 * Nothing blocked: no baseline attack when the baseline was judged, else no attack of the matrix.
 * A WAF in detection mode looks exactly like this from outside.
 */
function blocksNothing(tally: WafTally): boolean {
  const baselineJudged = tally.baseline.blocked + tally.baseline.passed;
  if (baselineJudged > 0) return tally.baseline.blocked === 0;
  return tally.attacks.blocked + tally.attacks.passed > 0 && tally.attacks.blocked === 0;
}

function notBlockingFinding(tally: WafTally, evidence: EvidenceIndex): FindingDraft {
  const baselineJudged = tally.baseline.blocked + tally.baseline.passed;
  const attacksJudged = tally.attacks.blocked + tally.attacks.passed;
  const what = baselineJudged > 0 ? `none of the ${baselineJudged} baseline attacks` : `none of the ${attacksJudged} attacks`;
  return finding(
    'waf-not-blocking',
    'critical',
    'The WAF blocks nothing: not even the baseline attacks',
    `${what} (SQL injection, XSS, traversal… written plainly in the query string or body) was blocked; ` +
      `${tally.attacks.blocked}/${attacksJudged} of the whole matrix. Every one got the backend's normal answer: ` +
      'the WAF is off, not attached to this route, or only detecting (ModSecurity DetectionOnly, AWS WAF Count).',
    indexes(tally.baselineThrough.length ? tally.baselineThrough : tally.through, evidence),
  );
}

function baselineMisses(through: readonly WafProbe[], evidence: EvidenceIndex): FindingDraft[] {
  return groupBy(through, (p) => `${p.category!}.${p.placement}`).map(([key, probes]) => {
    const { category, placement } = probes[0]!;
    return finding(
      `baseline-miss:${key}`,
      'high',
      `Baseline ${category!} attack gets through in the ${placementName(placement)}`,
      `Classic ${category!} payloads, written plainly, got the backend's normal answer in the ${placementName(placement)}: ` +
        `${unique(probes.map((p) => p.name)).join(', ')}. Every WAF rule set blocks these by default.`,
      indexes(probes, evidence),
    );
  });
}

function matrixMisses(through: readonly WafProbe[], evidence: EvidenceIndex): FindingDraft[] {
  return groupBy(through, (p) => `${p.category!}.${p.placement}`).map(([key, probes]) => {
    const { category, placement } = probes[0]!;
    const classic = probes.some(isClassic);
    const encodings = unique(probes.map((p) => p.encoding));
    const payloads = probes.map((p) => `${p.name} (${p.encoding})`).join(', ');
    return finding(
      `miss:${key}`,
      classic ? 'medium' : 'low',
      `${category!} gets through in the ${placementName(placement)} (${encodings.join(', ')})`,
      `${probes.length} ${category!} payload${probes.length === 1 ? '' : 's'} got the backend's normal answer in the ` +
        `${placementName(placement)}: ${payloads}. ` +
        (classic
          ? 'A plainly written payload in a placement every WAF inspects: beyond the baseline, but not an evasion.'
          : 'Encoded payloads or a placement fewer rule sets inspect: an evasion or a gap in coverage.'),
      indexes(probes, evidence),
    );
  });
}

/** A plainly written payload where every WAF looks: a `medium` miss rather than a `low` one. */
function isClassic(probe: WafProbe): boolean {
  return probe.encoding === 'plain' && BASELINE_PLACEMENTS.includes(probe.placement);
}

function falsePositives(blocked: readonly WafProbe[], evidence: EvidenceIndex): FindingDraft[] {
  return groupBy(blocked, (p) => slugPart(p.name)).map(([slug, probes]) => {
    const where = unique(probes.map((p) => placementName(p.placement)));
    return finding(
      `false-positive:${slug}`,
      'medium',
      `Benign request blocked: ${probes[0]!.name} (${where.join(', ')})`,
      `An ordinary request (${probes[0]!.name}) was blocked in the ${where.join(', ')}: real users sending it are refused.`,
      indexes(probes, evidence),
    );
  });
}

/** Breaches of the thresholds the policy writes: explicit, so they gate at any level. */
function thresholdBreaches({ waf, weakCategories, falsePositiveRate, tally }: FindingInput): FindingDraft[] {
  const findings = weakCategories.map(({ category, rate }) =>
    finding(
      `min-block-rate:${category}`,
      'high',
      `${category} block rate ${pct(rate)} is below minBlockRate ${pct(waf.minBlockRate!)}`,
      `${tally.byCategory[category]?.blocked ?? 0} of ${judged(tally.byCategory[category])} ${category} attacks were blocked; ` +
        `the policy asks for at least ${pct(waf.minBlockRate!)} in every category.`,
      [],
      true,
    ),
  );
  if (waf.maxFalsePositiveRate !== undefined && falsePositiveRate !== undefined && falsePositiveRate > waf.maxFalsePositiveRate) {
    findings.push(
      finding(
        'max-false-positive-rate',
        'medium',
        `False-positive rate ${pct(falsePositiveRate)} is above maxFalsePositiveRate ${pct(waf.maxFalsePositiveRate)}`,
        `${tally.benign.blocked} of ${judged(tally.benign)} benign requests were blocked; the policy allows ` +
          `at most ${pct(waf.maxFalsePositiveRate)}.`,
        [],
        true,
      ),
    );
  }
  return findings;
}

function gradeFinding(grade: WafGrade, tally: WafTally): FindingDraft {
  return finding(
    'grade',
    'info',
    `WAF grade ${grade.letter} (${grade.score}%)`,
    `GoTestWAF-style grade of the matrix: ${pct(grade.truePositiveRate)} of ${judged(tally.attacks)} attacks blocked ` +
      `(true-positive rate), ${pct(grade.trueNegativeRate)} of ${judged(tally.benign)} benign requests let through ` +
      `(true-negative rate); their mean, ${grade.score}%, is a ${grade.letter}.`,
  );
}

function judged(counts: { blocked: number; passed: number } | undefined): number {
  return counts ? counts.blocked + counts.passed : 0;
}

function placementName(placement: WafPlacement): string {
  switch (placement) {
    case 'query':
      return 'query string';
    case 'header':
      return 'User-Agent header';
    case 'json':
      return 'JSON body';
    case 'form':
      return 'form body';
    default:
      return placement;
  }
}

function indexes(probes: readonly WafProbe[], evidence: EvidenceIndex): number[] {
  return unique(probes.flatMap(evidence)).slice(0, EVIDENCE_PER_FINDING);
}

/** Groups in first-seen order. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Array<[string, T[]]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups.entries()];
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
