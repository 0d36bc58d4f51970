import { markdownTable } from 'markdown-table';
import type { CheckResult, Finding, Severity } from '../../checks/types.js';
import type { RunReport } from '../model.js';
import { checkName, DISPOSITION_WORDS, gateRule, severityCountsText, sortFindings } from '../status.js';
import { evidenceAnchor } from './evidence.js';
import { escapeHtml, oneLine, TABLE_OPTIONS } from './text.js';

/**
 * The findings in Markdown: the run's findings by severity for the first screen (what failed the
 * gate first, then what is below it, accepted, already in the baseline), and each check's own list.
 */

export const SEVERITY_MARK: Record<Severity, string> = {
  critical: '🔴 critical',
  high: '🟠 high',
  medium: '🟡 medium',
  low: '🔵 low',
  info: '⚪ info',
};

/** More rows than this and the first screen keeps only the gating ones open. */
const FIRST_SCREEN_ROWS = 12;
const TITLE_MAX_CHARS = 120;

/** How a check is linked from the first screen: an anchor in report.md, or none (the CI job summary). */
export type CheckLink = (check: CheckResult) => string | undefined;

/** The gate in two lines, the findings by severity, and what the accept file got wrong. */
export function gateLines(report: RunReport, link: CheckLink): string[] {
  const { gate } = report;
  const found = report.checks.flatMap((check) => check.findings.map((finding) => ({ check, finding })));
  const lines = [
    `**Gate:** fail on \`${gate.failOn}\`: ${gateRule(gate)}.`,
    '',
    `**Findings:** ${severityCountsText(gate.counts)}${gate.gating ? `; ${gate.gating} fail the gate` : ''}`,
    '',
  ];
  if (found.length > 0) lines.push(...findingsSummary(found, link), '');
  lines.push(...acceptProblemLines(gate));
  return lines;
}

function findingsSummary(found: Array<{ check: CheckResult; finding: Finding }>, link: CheckLink): string[] {
  const byFinding = new Map(found.map((f) => [f.finding, f.check]));
  const sorted = sortFindings(found.map((f) => f.finding));
  const row = (finding: Finding) => {
    const check = byFinding.get(finding)!;
    const name = checkName(check);
    const href = link(check);
    return [
      SEVERITY_MARK[finding.severity],
      href ? `[${oneLine(name)}](#${href})` : oneLine(name),
      oneLine(short(finding.title)),
      oneLine(gateCell(finding)),
    ];
  };
  const header = ['Severity', 'Check', 'Finding', 'Gate'];
  if (sorted.length <= FIRST_SCREEN_ROWS) return [markdownTable([header, ...sorted.map(row)], TABLE_OPTIONS)];
  const gating = sorted.filter((f) => f.disposition === 'gating');
  const rest = sorted.filter((f) => f.disposition !== 'gating');
  return [
    ...(gating.length ? [markdownTable([header, ...gating.map(row)], TABLE_OPTIONS), ''] : []),
    '<details>',
    `<summary>${rest.length} findings below the gate, accepted or in the baseline</summary>`,
    '',
    markdownTable([header, ...rest.map(row)], TABLE_OPTIONS),
    '',
    '</details>',
  ];
}

/** A title cut for the first screen's table; the check's section has it whole. */
function short(title: string): string {
  return title.length > TITLE_MAX_CHARS ? `${title.slice(0, TITLE_MAX_CHARS - 1)}…` : title;
}

/** What the gate did with a finding, with an accepted finding's reason and expiry. */
function gateCell(finding: Finding): string {
  const disposition = finding.disposition ?? 'below-gate';
  if (disposition === 'accepted' && finding.accepted) return `accepted until ${finding.accepted.expires}: ${finding.accepted.reason}`;
  if (disposition === 'gating' && finding.explicit) return `${DISPOSITION_WORDS.gating} (a threshold of the policy)`;
  return DISPOSITION_WORDS[disposition];
}

/** Accept entries that covered nothing: expired ones no longer protect their finding; unknown ones match none. */
function acceptProblemLines(gate: RunReport['gate']): string[] {
  if (gate.acceptProblems.length === 0) return [];
  const items = gate.acceptProblems.map((p) =>
    p.problem === 'expired'
      ? `- \`${oneLine(p.id)}\` expired on ${p.expires}: its finding gates again`
      : `- \`${oneLine(p.id)}\` (until ${p.expires}) matches no finding of this run: a renamed check or a fixed finding?`,
  );
  return ['> ⚠️ **Accept file problems**', '>', ...items.map((item) => `> ${item}`), ''];
}

/** A check's findings, one bullet each: severity, title, what the gate did, the detail, the evidence rows, the id. */
export function checkFindingLines(check: CheckResult, anchor: string): string[] {
  if (check.findings.length === 0) return [];
  const items = sortFindings(check.findings).map((f) => {
    const evidence = f.evidence.length ? ` Evidence: ${f.evidence.map((i) => `[${i}](#${evidenceAnchor(anchor, i)})`).join(', ')}.` : '';
    const head = `**${f.severity}** ${escapeHtml(f.title)} _(${gateCell(f)})_`;
    const text = `${head}: ${escapeHtml(sentence(f.detail))}${evidence} Id: \`${f.id}\``;
    return `- ${text.replace(/\r?\n/g, ' ')}`;
  });
  return ['**Findings**', '', ...items, ''];
}

/** A detail ends as a sentence does, so what follows it reads apart. */
function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?:)]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
