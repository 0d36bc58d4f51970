import type { FindingDisposition, Severity } from '../checks/types.js';
import { atOrAbove, rank, type FindingsSource, type GateLevel } from './gate.js';

export type { FindingsSource };

/**
 * Baselines (`gatecheck diff`, `run --baseline`): the findings of two reports compared by id. Ids are
 * stable (same gateway, same policy → same ids), so a finding in both reports is the same problem seen
 * twice, and only the ones the old report did not have are new. Pure: data in, data out.
 */

/** One finding as a diff lists it. */
export interface DiffEntry {
  id: string;
  /** The check that reported it. */
  check: string;
  severity: Severity;
  title: string;
  explicit?: boolean;
  /** What the gate of the report it comes from did with it. */
  disposition?: FindingDisposition;
  /** Unchanged findings whose severity moved between the reports: the old one. */
  previousSeverity?: Severity;
}

export interface FindingsDiff {
  /** In the new report only. */
  new: DiffEntry[];
  /** In the old report only, and the new report's check decided (pass/fail) without it. */
  fixed: DiffEntry[];
  /** In both (as the new report states them). */
  unchanged: DiffEntry[];
  /**
   * In the old report only, but the new report cannot say it is gone: its check did not decide
   * (error, inconclusive, skip) or did not run (--only). Never counted as fixed: no data is no verdict.
   */
  unverified: DiffEntry[];
}

/** What report.json records of a `--baseline`: the baseline file as given and the finding ids by outcome. */
export interface BaselineRecord {
  file: string;
  new: string[];
  fixed: string[];
  unchanged: string[];
  unverified: string[];
}

/** The findings of `next` against those of `old`, each list most severe first. */
export function diffFindings(old: FindingsSource, next: FindingsSource): FindingsDiff {
  const before = entriesById(old);
  const after = entriesById(next);
  const decided = new Set(next.ungraded ? [] : next.checks.filter((c) => c.status === 'pass' || c.status === 'fail').map((c) => c.id));
  const diff: FindingsDiff = { new: [], fixed: [], unchanged: [], unverified: [] };
  for (const entry of after.values()) {
    const was = before.get(entry.id);
    if (!was) diff.new.push(entry);
    else diff.unchanged.push(was.severity === entry.severity ? entry : { ...entry, previousSeverity: was.severity });
  }
  for (const entry of before.values()) {
    if (after.has(entry.id)) continue;
    (decided.has(entry.check) ? diff.fixed : diff.unverified).push(entry);
  }
  return { new: sorted(diff.new), fixed: sorted(diff.fixed), unchanged: sorted(diff.unchanged), unverified: sorted(diff.unverified) };
}

/**
 * Whether a new finding fails a gate at `failOn`: the gate's own rule (src/gate/gate.ts) — at or above
 * the level, or breaching a threshold the policy states — except that a finding the new report's gate
 * accepted (`--accept`) stays accepted.
 */
export function gatesAt(entry: DiffEntry, failOn: GateLevel): boolean {
  if (entry.severity === 'info' || entry.disposition === 'accepted') return false;
  return entry.explicit === true || atOrAbove(entry.severity, failOn);
}

/** The ids of every finding of a report: the ones a `--baseline` run does not gate on. */
export function findingIds(source: FindingsSource): Set<string> {
  return new Set(source.checks.flatMap((c) => (c.findings ?? []).map((f) => f.id)));
}

/** report.json's `baseline`: the diff as ids. */
export function baselineRecord(file: string, diff: FindingsDiff): BaselineRecord {
  const ids = (entries: DiffEntry[]) => entries.map((e) => e.id);
  return { file, new: ids(diff.new), fixed: ids(diff.fixed), unchanged: ids(diff.unchanged), unverified: ids(diff.unverified) };
}

function entriesById(source: FindingsSource): Map<string, DiffEntry> {
  const entries = new Map<string, DiffEntry>();
  for (const check of source.checks) {
    for (const f of check.findings ?? []) {
      // Ids are unique within a report (`<check id>#<slug>`); should one repeat, the first stands.
      if (entries.has(f.id)) continue;
      entries.set(f.id, {
        id: f.id,
        check: check.id,
        severity: f.severity,
        title: f.title,
        ...(f.explicit ? { explicit: true } : {}),
        ...(f.disposition ? { disposition: f.disposition } : {}),
      });
    }
  }
  return entries;
}

/** Most severe first; by id within a severity, so the same reports always print the same lines. */
function sorted(entries: DiffEntry[]): DiffEntry[] {
  return entries.sort((a, b) => rank(b.severity) - rank(a.severity) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
