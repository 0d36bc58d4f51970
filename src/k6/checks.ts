import type { Verdict } from '../checks/contract.js';
import { finding, qualifyFindings } from '../checks/findings.js';
import { CHECK_KINDS } from '../checks/registry.js';
import { sloCheck, type SloNotes, type SloSpec } from '../checks/slo/check.js';
import type { CheckKind, CheckResult, CheckStatus } from '../checks/types.js';
import type { Observation } from '../engine/observation.js';
import type { OfferedLoad } from '../engine/paced-run.js';
import type { Policy, RoutePolicy } from '../policy/types.js';
import { scheduleChecks, type ScheduledCheck } from '../run/schedule.js';
import { decodeRecords } from './decode.js';
import { round, type MergedResult, type MergedThreshold } from './merge.js';
import { routeTag, scenarioName, SLO_PROBE, THROTTLE_PROBES, throttleScenarioName } from './names.js';
import { planK6 } from './plan.js';
import { throttleCheck, type ThrottleNotes, type ThrottleSpec } from '../checks/throttle/check.js';

/**
 * The same verdicts whatever the engine: k6 points are decoded into Observations (decode.ts)
 * and every check the policy schedules is judged by its kind's own evaluate, with notes built
 * from what k6 reports. k6 carries the load probes only (throttle, usage plans included, and
 * slo); the kinds it cannot serve are `skip` with the reason, never left out.
 */
export const K6_SUPPORTED_KINDS: CheckKind[] = ['throttle', 'slo'];

export interface K6CheckOptions {
  policy?: Policy;
  policyFile?: string;
  /** Kinds to run (--only); undefined = all. */
  only?: CheckKind[];
}

interface JudgeContext {
  merged: MergedResult;
  observations: Observation[];
  policy: Policy;
  policyFile: string;
}

export function k6Checks(merged: MergedResult, options: K6CheckOptions): CheckResult[] {
  const checks: CheckResult[] = [];
  const { policy } = options;
  if (policy) {
    const observations = decodeRecords(merged.records, policy).observations;
    const context = { merged, observations, policy, policyFile: options.policyFile ?? 'policy.yaml' };
    for (const scheduled of scheduleChecks(policy, options.only)) checks.push(...judgeScheduled(scheduled, context));
  }
  // The export mirrors each slo as k6 thresholds; with points, the slo check already judged them.
  const mirrored = policy && merged.source === 'points' ? new Set(Object.keys(policyThresholds(policy))) : new Set<string>();
  if (!options.only || options.only.includes('slo')) {
    for (const t of merged.thresholds) if (!mirrored.has(t.metric)) checks.push(thresholdCheck(t));
  }
  return checks;
}

/** The thresholds `export k6` writes for a policy: import evaluates them on the merged points too. */
export function policyThresholds(policy: Policy): Record<string, string[]> {
  return planK6(policy.routes, { requestTimeoutMs: policy.limits.requestTimeoutMs }).thresholds;
}

/** The kinds --only left out, as the paced engine's report lists them. */
export function k6NotSelected(only: CheckKind[] | undefined): CheckKind[] {
  return only ? CHECK_KINDS.filter((kind) => !only.includes(kind)) : [];
}

function judgeScheduled(s: ScheduledCheck, context: JudgeContext): CheckResult[] {
  const kind = s.definition.kind as CheckKind;
  if (kind === 'throttle' && s.route) return [judgeThrottle(s.ids[0]!, s.instance.spec as ThrottleSpec, context)];
  if (kind === 'slo' && s.route) return [judgeSlo(s.instance.spec as SloSpec, s.ids[0]!, s.route, context)];
  const expected = s.definition.expected(s.instance.spec, context.policy);
  return s.ids.map((id) => skipped(kind, id, s.instance.route, unsupportedReason(kind), expected));
}

function unsupportedReason(kind: CheckKind): string {
  const why: Partial<Record<CheckKind, string>> = {
    quota: 'the quota probe uses up a key over its period, not a load shape',
    metrics: "the CloudWatch reconciliation needs the run's own per-minute ledger",
    'ws-throttle': 'its messages travel on WebSocket connections, which the k6 export does not script',
  };
  const what = why[kind] ?? 'it needs a few crafted requests, not load';
  const probes = K6_SUPPORTED_KINDS.join(', ');
  return `not checked by the k6 engine (it runs the load probes: ${probes}; ${what}): run "gatecheck run --only ${kind}" for it`;
}

/** The throttle check's own evaluate, on the decoded points: the same verdict rules as the native engine. */
function judgeThrottle(id: string, spec: ThrottleSpec, { merged, observations, policy }: JudgeContext): CheckResult {
  const route = spec.route;
  const expected = { ...throttleCheck.expected(spec, policy), engine: 'k6' };
  if (merged.source === 'summaries') {
    const reason = 'not checked: the bucket fit needs the per-request points (k6 --out json=...); summaries have no timeline';
    return skipped('throttle', id, route.id, reason, expected);
  }
  const mine = observations.filter((o) => o.check === id);
  if (mine.length === 0) {
    const plan = id.endsWith(']') ? `, plan=${id.slice(id.lastIndexOf('[plan ') + 6, -1)}` : '';
    const probes = `${THROTTLE_PROBES.volley}/${THROTTLE_PROBES.paced}`;
    const reason =
      `not checked: no k6 points tagged route=${routeTag(route)}${plan}` +
      ` with probe ${probes} (run a script from "gatecheck export k6")`;
    return skipped('throttle', id, route.id, reason, expected);
  }
  const paced = mine.filter((o) => o.probe === THROTTLE_PROBES.paced);
  const notes: ThrottleNotes = {
    // k6 starts an arrival-rate iteration on time or drops it: no send lag, drops counted apart.
    paced: { sent: paced.length, dropped: droppedPaced(spec, merged), maxSendLagMs: 0, offered: offeredLoad(paced.map((o) => o.sentAtMs)) },
  };
  const verdict = throttleCheck.evaluate(spec, { observations: mine, notes }, policy);
  return resultOf('throttle', id, route.id, verdict, expected, mine);
}

function droppedPaced(spec: ThrottleSpec, merged: MergedResult): number {
  const planIndex = spec.route.usagePlans?.findIndex((p) => p === spec.limits);
  const scenario = throttleScenarioName(
    spec.route.index,
    THROTTLE_PROBES.paced,
    planIndex !== undefined && planIndex >= 0 ? planIndex : undefined,
  );
  return merged.dropped.get(scenario) ?? 0;
}

function judgeSlo(spec: SloSpec, id: string, route: RoutePolicy, { merged, observations, policy }: JudgeContext): CheckResult {
  const latencyFrom = 'k6 http_req_duration: sent to answered (an arrival-rate executor drops a late iteration, it never delays one)';
  const expected = { ...sloCheck.expected(spec, policy), engine: 'k6', latencyFrom };
  if (merged.source === 'summaries') {
    const reason =
      'not checked here: the percentiles need the per-request points (k6 --out json=...); ' +
      'the exported k6 thresholds judge the slo from the summaries';
    return skipped('slo', id, route.id, reason, expected);
  }
  const mine = observations.filter((o) => o.check === id);
  if (mine.length === 0) {
    const tagged = `route=${routeTag(route)}, probe=${SLO_PROBE}`;
    const reason = `not checked: no k6 points tagged ${tagged} (run a script from "gatecheck export k6")`;
    return skipped('slo', id, route.id, reason, expected);
  }
  const notes: SloNotes = {
    offered: offeredLoad(mine.map((o) => o.sentAtMs)),
    // k6 starts an arrival-rate iteration on time or drops it: no send lag, drops counted apart.
    maxSendLagMs: 0,
    dropped: merged.dropped.get(scenarioName(route.index, SLO_PROBE)) ?? 0,
  };
  const verdict = sloCheck.evaluate(spec, { observations: mine, notes }, policy);
  return resultOf('slo', id, route.id, verdict, expected, mine);
}

const WINDOW_MS = 100;

/**
 * What k6 offered, from the send times of the points (all instances together). k6 does not
 * report its event loop's delay; its latency does not include it either, so it is 0 here.
 */
export function offeredLoad(sendTimesMs: number[]): OfferedLoad {
  const sorted = [...sendTimesMs].sort((a, b) => a - b);
  const first = sorted[0] ?? 0;
  const spanMs = (sorted[sorted.length - 1] ?? 0) - first;
  const windows = Math.floor(spanMs / WINDOW_MS);
  const counts = new Array<number>(windows).fill(0);
  for (const t of sorted) {
    const i = Math.floor((t - first) / WINDOW_MS);
    if (i < windows) counts[i]!++;
  }
  const rates = counts.map((n) => (n * 1000) / WINDOW_MS).sort((a, b) => a - b);
  const at = (q: number) => rates[Math.min(rates.length - 1, Math.floor(q * rates.length))] ?? 0;
  const r1 = (v: number) => Math.round(v * 10) / 10;
  return {
    ratePerSec: r1(spanMs > 0 ? ((sorted.length - 1) / spanMs) * 1000 : 0),
    windowRatePerSec: { min: r1(at(0)), median: r1(at(0.5)), max: r1(at(1)) },
    loopDelayMs: { p99: 0, max: 0 },
  };
}

function resultOf(
  kind: CheckKind,
  id: string,
  route: string,
  verdict: Verdict<unknown>,
  expected: Record<string, unknown>,
  observations: Observation[],
): CheckResult {
  const start = Math.min(...observations.map((o) => o.sentAtMs));
  const end = Math.max(...observations.map((o) => o.doneAtMs));
  return {
    id,
    kind,
    route,
    status: verdict.status,
    summary: verdict.summary,
    expected,
    observed: verdict.observed as Record<string, unknown>,
    evidence: verdict.evidence,
    findings: qualifyFindings(id, verdict),
    durationMs: observations.length ? Math.round(end - start) : 0,
    requestsSent: observations.length,
  };
}

function skipped(kind: CheckKind, id: string, route: string, summary: string, expected: Record<string, unknown>): CheckResult {
  return { id, kind, route, status: 'skip', summary, expected, observed: {}, evidence: [], findings: [], durationMs: 0, requestsSent: 0 };
}

/** A k6 threshold the files declare (beyond the policy's own, when points judged those) as a check. */
function thresholdCheck(t: MergedThreshold): CheckResult {
  const route = /[{,]route:([^,}]*)/.exec(t.metric)?.[1]?.trim() ?? `k6 ${t.metric.replace(/\{.*$/, '')}`;
  const status: CheckStatus = t.ok === undefined ? 'error' : t.ok ? 'pass' : 'fail';
  const instances = t.instances.map((i) => ({
    file: i.file,
    verdict: i.ok ? 'ok' : 'failed',
    value: i.value === undefined ? null : round(i.value),
    source: i.source,
  }));
  const judged = status === 'pass' ? 'met' : status === 'fail' ? 'FAILED' : 'not judged';
  const id = `slo:k6 ${t.metric} ${t.expression}`;
  const summary = `k6 threshold ${t.metric}: ${t.expression} ${judged}: ${t.reason}`;
  // A threshold someone wrote into the script is an explicit objective: it gates at any --fail-on.
  const breached = status === 'fail' ? [{ ...finding('threshold', 'medium', summary, t.reason, [], true), id: `${id}#threshold` }] : [];
  return {
    id,
    kind: 'slo',
    route,
    status,
    summary,
    expected: { metric: t.metric, threshold: t.expression },
    observed: { mergedValue: t.mergedValue === undefined ? null : round(t.mergedValue), mergedExact: t.mergedExact, instances },
    evidence: [],
    findings: breached,
    durationMs: 0,
    requestsSent: 0,
  };
}
