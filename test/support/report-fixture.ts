import type { CheckResult, CheckStatus } from '../../src/checks/types.js';
import { emptySeverityCounts } from '../../src/gate/gate.js';
import { overallVerdict, REPORT_SCHEMA_VERSION, type RunReport } from '../../src/report/model.js';

/** A check result with the fields every kind has; `extra` overrides any. */
export function checkResult(kind: CheckResult['kind'], status: CheckStatus, extra: Partial<CheckResult> = {}): CheckResult {
  const route = extra.route ?? 'GET /api/items';
  return {
    id: `${kind}:${route}`,
    kind,
    route,
    status,
    summary: `${kind} ${status}`,
    expected: {},
    observed: {},
    evidence: [],
    findings: [],
    durationMs: 10,
    requestsSent: 1,
    ...extra,
  };
}

/** A report model as the runner builds it. */
export function runReport(checks: CheckResult[], extra: Partial<RunReport> = {}): RunReport {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    verdict: overallVerdict(checks),
    startedAt: '2026-11-30T10:00:00.000Z',
    finishedAt: '2026-11-30T10:00:06.000Z',
    durationMs: 6000,
    target: 'http://127.0.0.1:8080',
    policyFile: 'policies/api.yaml',
    gatecheckVersion: '0.1.0',
    requestsSent: 12,
    limits: { maxRequests: 5000, maxDurationSec: 60 },
    notSelected: [],
    gate: { failOn: 'high', counts: emptySeverityCounts(), gating: 0, accepted: [], acceptProblems: [] },
    checks,
    ...extra,
  };
}
