import { markdownTable } from 'markdown-table';
import type { WafObserved, WafRates } from '../../checks/waf/check.js';
import type { CheckResult } from '../../checks/types.js';
import { keyValueTable } from './table.js';
import { escapeHtml, listLines, oneLine, percentCell, TABLE_OPTIONS, toLines } from './text.js';

/** The fields drawn below as tables and lists; any other field (a newer check's) goes to the generic table. */
const DRAWN = new Set<string>([
  'control',
  'blockRate',
  'falsePositiveRate',
  'attacks',
  'blocked',
  'passed',
  'unresolved',
  'benign',
  'falsePositives',
  'benignUnresolved',
  'byCategory',
  'byPlacement',
  'byCell',
  'passedThrough',
  'benignBlocked',
  'unresolvedProbes',
  'pathPlacementNormalAnswer',
  'skippedPlacements',
] satisfies Array<keyof WafObserved>);

const COUNT_HEADER = ['Sent', 'Blocked', 'Passed', 'Unresolved', 'Block rate'];

function countCells(rates: WafRates | undefined): string[] {
  if (!rates) return ['0', '0', '0', '0', '—'];
  return [String(rates.sent), String(rates.blocked), String(rates.passed), String(rates.unresolved), percentCell(rates.blockRate)];
}

/**
 * The WAF section: overall rates, then block rate by category and by placement, the placement ×
 * encoding matrix, and the payloads that got through, the benign requests blocked and the
 * unresolved answers (folded when long).
 */
export function renderWaf(result: CheckResult): string[] {
  const o = result.observed as unknown as WafObserved;
  const categories = (result.expected.categories as string[] | undefined) ?? Object.keys(o.byCategory ?? {});
  const all: WafRates = { sent: o.attacks, blocked: o.blocked, passed: o.passed, unresolved: o.unresolved, blockRate: o.blockRate };
  const benignRate = o.falsePositiveRate;
  const benignPassed = o.benign - o.falsePositives - o.benignUnresolved;
  const benign = [String(o.benign), String(o.falsePositives), String(benignPassed), String(o.benignUnresolved)];
  const lines = [
    `Benign control ("hello world"): ${escapeHtml(o.control ?? '—')}` +
      (o.pathPlacementNormalAnswer !== undefined ? `; an ordinary path segment below the route gets ${o.pathPlacementNormalAnswer}` : ''),
    '',
    ...(o.baseline && o.baseline.sent > 0
      ? [
          `Baseline (gates by default): ${o.baseline.blocked}/${o.baseline.blocked + o.baseline.passed} blocked` +
            (o.baseline.unresolved ? `, ${o.baseline.unresolved} unresolved` : ''),
          '',
        ]
      : []),
    ...(o.grade
      ? [
          `Grade ${o.grade.letter} (${o.grade.score}%): ${percentCell(o.grade.truePositiveRate)} of attacks blocked, ` +
            `${percentCell(o.grade.trueNegativeRate)} of benign requests let through`,
          '',
        ]
      : []),
    '**Block rate by category**',
    '',
    markdownTable(
      [
        ['Category', ...COUNT_HEADER],
        ...categories.map((c) => [c, ...countCells(o.byCategory?.[c])]),
        ['**all attacks**', ...countCells(all)],
        ['benign (false positives)', ...benign, `FP ${percentCell(benignRate)}`],
      ],
      TABLE_OPTIONS,
    ),
    '',
  ];
  const placements = Object.entries(o.byPlacement ?? {});
  if (placements.length > 0) {
    const rows = placements.map(([p, r]) => [p, ...countCells(r)]);
    lines.push('**Block rate by placement**', '', markdownTable([['Placement', ...COUNT_HEADER], ...rows], TABLE_OPTIONS), '');
  }
  const encodings = Object.entries(o.byEncoding ?? {});
  if (encodings.length > 0) {
    const rows = encodings.map(([e, r]) => [e, ...countCells(r)]);
    lines.push('**Block rate by encoding**', '', markdownTable([['Encoding', ...COUNT_HEADER], ...rows], TABLE_OPTIONS), '');
  }
  lines.push(...matrixLines(o.byCell ?? {}));
  const skipped = Object.entries(o.skippedPlacements ?? {});
  if (skipped.length > 0) {
    const rows = skipped.map(([p, why]) => [p, oneLine(why)]);
    lines.push('**Placements not tested**', '', markdownTable([['Placement', 'Why'], ...rows], TABLE_OPTIONS), '');
  }
  const other = Object.fromEntries(Object.entries(result.observed).filter(([key]) => !DRAWN.has(key)));
  if (Object.keys(other).length > 0) lines.push(keyValueTable(other), '');
  lines.push(
    ...listLines('Baseline attacks that got through', o.baseline?.passedThrough ?? []),
    ...listLines('Attacks that got through', o.passedThrough ?? []),
    ...listLines('Benign requests blocked', o.benignBlocked ?? []),
    ...listLines('Unresolved answers (not counted)', o.unresolvedProbes ?? []),
  );
  while (lines[lines.length - 1] === '') lines.pop();
  return toLines(lines);
}

/** Attacks blocked / judged per placement (rows) and encoding (columns); `+n?` = unresolved. */
function matrixLines(byCell: Record<string, WafRates>): string[] {
  const keys = Object.keys(byCell);
  if (keys.length === 0) return [];
  const placements = [...new Set(keys.map((k) => k.split('/')[0]!))];
  const encodings = [...new Set(keys.map((k) => k.split('/')[1]!))];
  const cell = (p: string, e: string): string => {
    const c = byCell[`${p}/${e}`];
    return c ? `${c.blocked}/${c.blocked + c.passed}${c.unresolved ? ` (+${c.unresolved}?)` : ''}` : '';
  };
  return [
    '**Attacks blocked / judged, by placement and encoding** (+n? = unresolved)',
    '',
    markdownTable([['Placement', ...encodings], ...placements.map((p) => [p, ...encodings.map((e) => cell(p, e))])], TABLE_OPTIONS),
    '',
  ];
}
