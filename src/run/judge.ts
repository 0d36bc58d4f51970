import type { Observation } from '../engine/observation.js';
import type { CheckKind, CheckResult } from '../checks/types.js';
import type { Policy } from '../policy/types.js';
import { qualifyFindings } from '../checks/findings.js';
import { policyGate, type GateOptions } from '../gate/gate.js';
import { REPORT_SCHEMA_VERSION, withGate, type RunReport } from '../report/model.js';
import type { Recording } from './record.js';
import { scheduleChecks, type ScheduledCheck } from './schedule.js';

/**
 * `gatecheck judge`: a recorded run (`run --record`) judged again, offline (Vegeta's
 * `attack | report`). The policy's checks are scheduled as a run would schedule them, and each
 * one the recording has a record of is evaluated on that record's observations and notes: the
 * same pure evaluate as the run, so the same policy gives the same verdicts and a stricter one
 * gives its own. Nothing is sent.
 */

export interface JudgeOptions {
  recording: Recording;
  /** The recording as the user named it (the report says where the verdicts come from). */
  recordingFile: string;
  policy: Policy;
  policyFile: string;
  version: string;
  /** --fail-on, --accept, --baseline; default: the policy's gate as of now. */
  gate?: GateOptions;
}

export function judgeRecording(options: JudgeOptions): RunReport {
  const { recording } = options;
  // Evidence URLs name the target the recorded run sent to, whatever the policy file says now.
  const policy = { ...options.policy, target: recording.run.target };
  const checks = scheduleChecks(policy).flatMap((scheduled) => judgeScheduled(scheduled, recording, policy));
  const lastDone = recording.observations.reduce((max, o) => Math.max(max, o.doneAtMs), 0);
  const startedMs = Date.parse(recording.run.startedAt);
  const finishedMs = Math.max(startedMs, recording.run.epochAtOriginMs + lastDone);
  const report: Omit<RunReport, 'gate' | 'verdict'> = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    startedAt: recording.run.startedAt,
    finishedAt: new Date(finishedMs).toISOString(),
    durationMs: Math.round(finishedMs - startedMs),
    target: recording.run.target,
    policyFile: options.policyFile,
    gatecheckVersion: options.version,
    requestsSent: recording.observations.length,
    limits: { maxRequests: policy.limits.maxRequests, maxDurationSec: policy.limits.maxDurationSec },
    notSelected: [],
    recording: { file: options.recordingFile, gatecheckVersion: recording.run.version },
    ...(checks.length === 0 ? { abortReason: 'no check to judge: the policy asks for none' } : {}),
    checks,
  };
  return withGate(report, options.gate ?? policyGate(policy, new Date()));
}

function judgeScheduled(scheduled: ScheduledCheck, recording: Recording, policy: Policy): CheckResult[] {
  const kind = scheduled.definition.kind as CheckKind;
  const route = scheduled.instance.route;
  const skip = (id: string, summary: string): CheckResult => ({ ...empty(id, kind, route), status: 'skip', summary });
  const { definition, instance } = scheduled;
  const id = scheduled.ids[0]!;
  const recorded = recording.checks.get(id);
  if (!recorded) {
    const why = 'the run did not finish it: --only, the caps, Ctrl-C or an unreachable route';
    return [skip(id, `not verified: the recording has no record of this check (${why})`)];
  }
  const { record, observations } = recorded;
  const expected = definition.expected(instance.spec, policy);
  const spent = { durationMs: spanMs(observations), requestsSent: observations.length };
  try {
    const verdict = definition.evaluate(instance.spec, { observations, notes: record.notes }, policy);
    return [{ ...empty(id, kind, route), expected, ...verdict, findings: qualifyFindings(id, verdict), ...spent }];
  } catch (error) {
    // A hand-edited or foreign recording: the check is not verified, the others still are.
    const summary = `cannot judge the recording of this check: ${error instanceof Error ? error.message : String(error)}`;
    return [{ ...empty(id, kind, route), expected, status: 'error', summary, ...spent }];
  }
}

function empty(id: string, kind: CheckKind, route: string): CheckResult {
  return {
    id,
    kind,
    route,
    status: 'skip',
    summary: '',
    expected: {},
    observed: {},
    evidence: [],
    findings: [],
    durationMs: 0,
    requestsSent: 0,
  };
}

/** From the first request's send to the last answer: what the check's traffic took. */
function spanMs(observations: readonly Observation[]): number {
  if (observations.length === 0) return 0;
  // A loop, not Math.min(...list): a load check has more observations than a call has arguments.
  const first = observations.reduce((min, o) => Math.min(min, o.intendedAtMs), Infinity);
  const last = observations.reduce((max, o) => Math.max(max, o.doneAtMs), -Infinity);
  return Math.round(last - first);
}
