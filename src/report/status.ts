import { SEVERITIES, type CheckResult, type Finding, type FindingDisposition, type Severity } from '../checks/types.js';
import type { RunReport } from './model.js';

/**
 * Plain-text words for a check's status and its findings, shared by report.md, the console table
 * and the CI summary: "pass · 2 low", "fail · 1 high, 1 low".
 */

/** The order findings are listed in: what failed the release first, what was already known last. */
export const DISPOSITION_ORDER: readonly FindingDisposition[] = ['gating', 'below-gate', 'accepted', 'baseline'];

export const DISPOSITION_WORDS: Record<FindingDisposition, string> = {
  gating: 'fails the gate',
  'below-gate': 'below the gate',
  accepted: 'accepted',
  baseline: 'in the baseline',
};

/** Findings sorted for a reader: by disposition (gating first), then by severity (critical first). */
export function sortFindings<T extends Pick<Finding, 'severity' | 'disposition'>>(findings: readonly T[]): T[] {
  const place = (f: T) => DISPOSITION_ORDER.indexOf(f.disposition ?? 'below-gate') * SEVERITIES.length + SEVERITIES.indexOf(f.severity);
  return [...findings].sort((a, b) => place(a) - place(b));
}

/**
 * "2 low" or "1 high, 1 low, 1 accepted": a check's findings by severity, most severe first.
 * `info` (what was learned) is left out: it is not a problem to count. Accepted and baseline
 * findings are counted apart, since they do not gate.
 */
export function findingCountsText(findings: readonly Finding[]): string {
  const live = findings.filter((f) => f.disposition !== 'accepted' && f.disposition !== 'baseline');
  const parts = SEVERITIES.filter((s) => s !== 'info').flatMap((severity) => {
    const n = live.filter((f) => f.severity === severity).length;
    return n > 0 ? [`${n} ${severity}`] : [];
  });
  const accepted = findings.filter((f) => f.disposition === 'accepted').length;
  const known = findings.filter((f) => f.disposition === 'baseline').length;
  if (accepted > 0) parts.push(`${accepted} accepted`);
  if (known > 0) parts.push(`${known} in baseline`);
  return parts.join(', ');
}

/** A check's status with its findings: `pass · 2 low`; the bare status when it has none worth counting. */
export function statusText(check: Pick<CheckResult, 'status' | 'findings'>): string {
  const counts = findingCountsText(check.findings ?? []);
  return counts ? `${check.status} · ${counts}` : check.status;
}

/** The summary without the counts the gate appended (" · 2 low"), for a place that shows `statusText` beside it. */
export function summaryWithoutCounts(check: Pick<CheckResult, 'status' | 'findings' | 'summary'>): string {
  const counts = findingCountsText(check.findings ?? []);
  const tail = ` · ${counts}`;
  return counts && check.summary.endsWith(tail) ? check.summary.slice(0, -tail.length) : check.summary;
}

/** "0 critical, 1 high, 0 medium, 2 low, 1 info": every severity, in order, so a reader compares runs at a glance. */
export function severityCountsText(counts: Record<Severity, number>): string {
  return SEVERITIES.map((s) => `${counts[s]} ${s}`).join(', ');
}

/** The gate in one line of plain words. */
export function gateRule(gate: Pick<RunReport['gate'], 'failOn'>): string {
  const level = gate.failOn === 'critical' ? 'a critical finding' : `a finding of ${gate.failOn} severity or above`;
  return (
    `a check fails when it has ${level}, or one that breaches a threshold written in the policy ` +
    '(minBlockRate, maxFalsePositiveRate, slo); accepted and baseline findings, and info, never fail it'
  );
}

/**
 * The route as a reader names the check: `GET /api/reports (plan gold)` for a usage plan's
 * throttle (its id ends ` [plan gold]`), so two throttle checks of one route are never confused.
 */
export function routeLabel(check: Pick<CheckResult, 'id' | 'kind' | 'route'>): string {
  const suffix = check.id.startsWith(`${check.kind}:${check.route}`)
    ? check.id.slice(check.kind.length + 1 + check.route.length).trim()
    : '';
  return suffix ? `${check.route} ${suffix.replace(/^\[(.*)\]$/, '($1)')}` : check.route;
}

/** `throttle GET /api/reports (plan gold)`: the check's name in lists, test cases and messages. */
export function checkName(check: Pick<CheckResult, 'id' | 'kind' | 'route'>): string {
  return `${check.kind} ${routeLabel(check)}`;
}
