import type { CheckResult, CheckStatus } from '../checks/types.js';
import { baselineRecord, diffFindings, type BaselineRecord } from '../gate/diff.js';
import { applyGate, type GateOptions, type GateSummary } from '../gate/gate.js';

/**
 * Version of report.json's shape (schemas/report.schema.json): the minor number grows when fields are added,
 * the major one if a field ever changes meaning or goes away.
 */
export const REPORT_SCHEMA_VERSION = '1.2';

/** report.json (a public interface: add fields, never rename them; schemas/report.schema.json describes it). */
export interface RunReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  verdict: 'pass' | 'fail' | 'error';
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  target: string;
  policyFile: string;
  gatecheckVersion: string;
  requestsSent: number;
  limits: { maxRequests: number; maxDurationSec: number };
  /** Check kinds left out by --only. */
  notSelected: string[];
  /** How the target's certificate was trusted, when --ca or --insecure changed it. */
  tls?: { insecure: boolean; caFile?: string };
  /** Set when the run stopped early (time cap, Ctrl-C) or no check ran, with the reason. */
  abortReason?: string;
  /** True when the user interrupted the run (SIGINT/SIGTERM): unfinished checks are `skip`. */
  interrupted?: boolean;
  /** `gatecheck judge`: the verdicts come from this recording (`run --record`), judged offline; nothing was sent. */
  recording?: { file: string; gatecheckVersion: string };
  /** `run --drift`: which API stage's configuration was read, and what of it could not be read (named, never guessed). */
  drift?: DriftSource;
  /** The release gate and what it did: failOn, findings by severity, accepted findings. */
  gate: GateSummary;
  /** `--baseline FILE`: the findings of this run against that report's, by id (new ones alone can gate). */
  baseline?: BaselineRecord;
  checks: CheckResult[];
}

/** The AWS side of `run --drift`. */
export interface DriftSource {
  api: { type: 'REST' | 'HTTP'; id: string; stage: string; region: string };
  unreadable: Array<{ setting: string; call: string; code: string; reason: string }>;
}

/** A report's checks settled by the gate (src/gate/gate.ts), and the overall verdict from them. */
export function withGate(report: Omit<RunReport, 'gate' | 'verdict'>, options: GateOptions): RunReport {
  const { checks, gate } = applyGate(report.checks, options);
  const baseline = options.baseline && baselineRecord(options.baseline.file, diffFindings(options.baseline.report, { checks }));
  return { ...report, verdict: overallVerdict(checks), gate, ...(baseline ? { baseline } : {}), checks };
}

/**
 * The overall verdict. A fail is definitive; otherwise anything not verified (error,
 * inconclusive, or skipped for lack of budget) means the run proved nothing: error.
 */
export function overallVerdict(checks: CheckResult[]): RunReport['verdict'] {
  if (checks.some((c) => c.status === 'fail')) return 'fail';
  if (checks.length === 0 || checks.some((c) => c.status !== 'pass')) return 'error';
  return 'pass';
}

/** 130 is the shell's code for a process ended by SIGINT (128 + 2): scripts treat it as Ctrl-C. */
export const EXIT_CODES = { pass: 0, fail: 1, badInput: 2, error: 3, interrupted: 130 } as const;

export function exitCodeFor(verdict: RunReport['verdict']): number {
  return verdict === 'pass' ? EXIT_CODES.pass : verdict === 'fail' ? EXIT_CODES.fail : EXIT_CODES.error;
}

export function countByStatus(checks: CheckResult[]): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { pass: 0, fail: 0, error: 0, inconclusive: 0, skip: 0 };
  for (const check of checks) counts[check.status]++;
  return counts;
}
