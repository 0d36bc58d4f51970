import type { Observation } from '../engine/observation.js';

import type { CheckKind } from './registry.js';

export type { CheckKind };

/**
 * pass/fail are verdicts on the gateway. error: gatecheck could not observe what it needed
 * (target down, 5xx storm, positive control refused). inconclusive: it observed, but the data
 * cannot decide (e.g. the client could not reach the limit). skip: not run (--only, or no budget).
 */
export type CheckStatus = 'pass' | 'fail' | 'error' | 'inconclusive' | 'skip';

/** A request/response pair as the report shows it. Credential values are never in here. */
export interface EvidenceItem {
  probe: string;
  /** What this probe was for, in words: "wrong credential", "preflight from https://evil.example". */
  label: string;
  method: string;
  path: string;
  /** The full URL sent: the target's base path (a stage such as /prod) included. */
  url?: string;
  /** Request headers that matter, with credential values replaced by `<credential main>`. */
  requestHeaders: Record<string, string>;
  status?: number;
  error?: string;
  responseHeaders: Record<string, string>;
  bodySnippet?: string;
  latencyMs?: number;
  /** Verdict on this one exchange: `ok` (as required) or `violation` (what made the check fail). */
  outcome: 'ok' | 'violation' | 'unresolved' | 'info';
  note?: string;
}

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

/** One thing a check learned, graded: the same gateway and policy give the same ids across runs. */
export interface Finding {
  id: string;
  severity: Severity;
  title: string;
  detail: string;
  /** Indexes into the check's evidence. */
  evidence: number[];
}

export interface CheckResult {
  /** Stable id: `<kind>:<METHOD> <path>` (plus a suffix when a route has several of a kind). */
  id: string;
  kind: CheckKind;
  /** Route id, `GET /api/items`. */
  route: string;
  status: CheckStatus;
  /** One line a reviewer reads first. */
  summary: string;
  /** What the policy demands, as data. */
  expected: Record<string, unknown>;
  /** What was measured, as data. */
  observed: Record<string, unknown>;
  evidence: EvidenceItem[];
  /**
   * Graded findings (a severity each, a stable id): reserved for the findings-and-gates work;
   * no check fills it yet, and the verdict does not depend on it.
   */
  findings?: Finding[];
  durationMs: number;
  requestsSent: number;
}

export type { Observation };
