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

/** Most severe first: the order reports list findings in. */
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/** What the gate did with a finding (src/gate/gate.ts). */
export type FindingDisposition = 'gating' | 'below-gate' | 'accepted' | 'baseline';

/**
 * One thing a check learned, graded (docs/findings.md has the rules). The same gateway and policy
 * give the same ids across runs: an id names what was found, never a measured number.
 */
export interface Finding {
  /** `<check id>#<slug>`: a check's evaluate gives the slug, the runner prefixes the check id. */
  id: string;
  severity: Severity;
  /** One line: what is wrong or what was learned. */
  title: string;
  /** The numbers and the reason, in a sentence or two. */
  detail: string;
  /** Indexes into the check's evidence. */
  evidence: number[];
  /** It breaches a threshold the policy states (`minBlockRate`, `slo`, …): it gates at any `--fail-on`. */
  explicit?: boolean;
  /** Set by the gate: whether this finding failed its check, and why not when it did not. */
  disposition?: FindingDisposition;
  /** Set by the gate when an `--accept` entry covers the finding. */
  accepted?: { reason: string; expires: string };
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
   * Graded findings. For a check that decided (pass/fail) the status follows from them and the gate
   * (src/gate/gate.ts): fail when one is at or above `--fail-on` (or breaches an explicit threshold).
   */
  findings: Finding[];
  durationMs: number;
  requestsSent: number;
  /** `run --drift`: what AWS is configured to enforce, beside the policy and the measurement (src/drift/compare.ts). */
  configured?: ConfiguredRow[];
}

/** One row of the "configured" column: a field as the policy, AWS's configuration and the measurement give it. */
export interface ConfiguredRow {
  field: string;
  policy: unknown;
  /** null: AWS sets nothing for it, or it could not be read (then `unreadable` says why). */
  configured: unknown;
  measured?: unknown;
  /** The AWS call and key it was read from: `GetStage methodSettings ~1orders/GET`. */
  source: string;
  unreadable?: string;
}

export type { Observation };
