import { SEVERITIES, type CheckResult, type CheckStatus, type Finding, type Severity } from '../checks/types.js';
import { DEFAULT_GATE, type GateLevel } from '../policy/types.js';

export { DEFAULT_GATE, type GateLevel };

/**
 * The release gate (docs/findings.md): a check that decided fails when it has a finding at or above
 * `failOn`, or one that breaches a threshold the policy states; below it, it passes and lists its
 * findings ("pass · 2 low"). Accepted findings (`--accept`) and findings already in a baseline report
 * (`--baseline`) are listed but do not gate. Pure: the same results and options give the same verdicts.
 */

/** What a diff needs of a report: each check's id, status and findings (a schemaVersion 1.0 report may have none). */
export interface FindingsSource {
  checks: ReadonlyArray<{ id: string; status: CheckStatus; findings?: readonly Finding[] }>;
  /** A report from before graded findings (schemaVersion 1.0): its checks decided nothing about findings, so none is fixed by it. */
  ungraded?: boolean;
}

export const GATE_LEVELS: readonly GateLevel[] = ['critical', 'high', 'medium', 'low'];

/** One `--accept` entry: the finding it covers, why, and until when (an ISO date, inclusive). */
export interface AcceptEntry {
  id: string;
  reason: string;
  expires: string;
}

export interface GateOptions {
  failOn: GateLevel;
  accepted?: readonly AcceptEntry[];
  /** Finding ids of the baseline report: these do not gate. */
  baselineIds?: ReadonlySet<string>;
  /** The `--baseline` report (its ids are `baselineIds`): report.json records what is new, fixed and unchanged against it. */
  baseline?: { file: string; report: FindingsSource };
  /** Today, `YYYY-MM-DD` (UTC): an entry whose `expires` is before it has expired. */
  today: string;
}

/** An `--accept` entry the gate could not use: past its date, or no finding of this run has its id. */
export interface AcceptProblem {
  id: string;
  problem: 'expired' | 'unknown';
  expires: string;
}

/** What the gate did, for report.json and the report's first screen. */
export interface GateSummary {
  failOn: GateLevel;
  /** Every finding of the run by severity (accepted and baseline ones included). */
  counts: Record<Severity, number>;
  /** Findings that failed their check. */
  gating: number;
  accepted: Array<AcceptEntry>;
  acceptProblems: AcceptProblem[];
}

export function rank(severity: Severity): number {
  return SEVERITIES.length - 1 - SEVERITIES.indexOf(severity);
}

export function atOrAbove(severity: Severity, level: GateLevel): boolean {
  return severity !== 'info' && rank(severity) >= rank(level);
}

export function emptySeverityCounts(): Record<Severity, number> {
  return { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
}

/** The checks with their final status, and what the gate did. */
export function applyGate(checks: readonly CheckResult[], options: GateOptions): { checks: CheckResult[]; gate: GateSummary } {
  const live = new Map<string, AcceptEntry>();
  const acceptProblems: AcceptProblem[] = [];
  for (const entry of options.accepted ?? []) {
    if (entry.expires < options.today) acceptProblems.push({ id: entry.id, problem: 'expired', expires: entry.expires });
    else live.set(entry.id, entry);
  }
  const used = new Set<string>();
  const gated = checks.map((check) => gateCheck(check, options, live, used));
  for (const entry of live.values()) {
    if (!used.has(entry.id)) acceptProblems.push({ id: entry.id, problem: 'unknown', expires: entry.expires });
  }
  const counts = emptySeverityCounts();
  let gating = 0;
  for (const f of gated.flatMap((c) => c.findings)) {
    counts[f.severity]++;
    if (f.disposition === 'gating') gating++;
  }
  const accepted = [...live.values()].filter((entry) => used.has(entry.id));
  return { checks: gated, gate: { failOn: options.failOn, counts, gating, accepted, acceptProblems } };
}

function gateCheck(check: CheckResult, options: GateOptions, live: Map<string, AcceptEntry>, used: Set<string>): CheckResult {
  const findings = withFallback(check).map((f) => dispose(f, options, live, used));
  const status = statusFrom(check.status, findings);
  return { ...check, status, summary: summaryFor(check, status, findings, options.failOn), findings };
}

/** A fail that names no finding (a check not yet graded, or a foreign recording) still fails: never a false pass. */
function withFallback(check: CheckResult): Finding[] {
  const findings = check.findings ?? [];
  if (check.status !== 'fail' || findings.length > 0) return findings;
  return [{ id: `${check.id}#fail`, severity: 'high', title: check.summary, detail: check.summary, evidence: [], explicit: true }];
}

function dispose(f: Finding, options: GateOptions, live: Map<string, AcceptEntry>, used: Set<string>): Finding {
  const { disposition: _old, accepted: _was, ...draft } = f;
  const entry = live.get(f.id);
  if (entry) {
    used.add(f.id);
    return { ...draft, disposition: 'accepted', accepted: { reason: entry.reason, expires: entry.expires } };
  }
  if (options.baselineIds?.has(f.id)) return { ...draft, disposition: 'baseline' };
  const gates = f.severity !== 'info' && (f.explicit === true || atOrAbove(f.severity, options.failOn));
  return { ...draft, disposition: gates ? 'gating' : 'below-gate' };
}

/** A gating finding is proof, so it fails even a check that could not decide the rest. */
function statusFrom(raw: CheckStatus, findings: readonly Finding[]): CheckStatus {
  if (findings.some((f) => f.disposition === 'gating')) return 'fail';
  if (raw === 'pass' || raw === 'fail') return 'pass';
  return raw;
}

function summaryFor(check: CheckResult, status: CheckStatus, findings: readonly Finding[], failOn: GateLevel): string {
  const listed = findings.filter((f) => f.severity !== 'info' && f.disposition !== 'gating');
  if (status === 'fail' && check.status !== 'fail') {
    const first = findings.find((f) => f.disposition === 'gating')!;
    return `fails the gate (${failOn}): ${first.title}${more(findings.filter((f) => f.disposition === 'gating').length)}`;
  }
  if (status === 'pass' && check.status === 'fail') {
    return `pass · ${countsText(listed)}: ${listed[0]?.title ?? check.summary}${more(listed.length)}`;
  }
  if (status === 'pass' && listed.length > 0) return `${check.summary} · ${countsText(listed)}`;
  return check.summary;
}

function more(n: number): string {
  return n > 1 ? ` (and ${n - 1} more)` : '';
}

/** "2 low, 1 accepted": what did not gate, by severity. */
export function countsText(findings: readonly Finding[]): string {
  const parts: string[] = [];
  for (const severity of SEVERITIES) {
    const n = findings.filter((f) => f.severity === severity && f.disposition === 'below-gate').length;
    if (n > 0) parts.push(`${n} ${severity}`);
  }
  const accepted = findings.filter((f) => f.disposition === 'accepted').length;
  const known = findings.filter((f) => f.disposition === 'baseline').length;
  if (accepted > 0) parts.push(`${accepted} accepted`);
  if (known > 0) parts.push(`${known} in baseline`);
  return parts.join(', ');
}

/** The gate a policy sets, as of `now`: `--fail-on`, `--accept` and `--baseline` add to it. */
export function policyGate(policy: { gate: { failOn: GateLevel } }, now: Date): GateOptions {
  return { failOn: policy.gate.failOn, today: isoDay(now) };
}

/** Today as the gate compares `expires`: UTC, `YYYY-MM-DD`. */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}
