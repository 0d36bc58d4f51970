import { evaluateSlo, type SloMeasurement } from '../checks/slo/check.js';
import { estimateBucket, judgeBucket, simulateBucket, summariseEstimate, type TimedAnswer } from '../checks/throttle/estimate.js';
import type { CheckKind, CheckResult, CheckStatus, EvidenceItem } from '../checks/types.js';
import { isOkStatus, type Policy, type RoutePolicy } from '../policy/types.js';
import { mermaidXyChart } from '../report/charts.js';
import { probeKey, type RequestRecord } from './aggregate.js';
import { k6ExportHint } from './hint.js';
import { round, type MergedResult, type MergedThreshold } from './merge.js';
import { routeTag, scenarioName, SLO_PROBE, THROTTLE_PROBES } from './names.js';
import { planK6, sloDurationSelector, sloFailedSelector } from './plan.js';

/**
 * The same verdict model whatever the engine: k6 results become CheckResults. The k6 engine
 * carries the load probes only: throttle (the bucket fit on the merged timeline) and slo.
 * auth, cors and waf need a few crafted requests each, not load: they are skipped with a reason.
 */
export const K6_SUPPORTED_KINDS: CheckKind[] = ['throttle', 'slo'];

export interface K6CheckOptions {
  policy?: Policy;
  policyFile?: string;
  /** Kinds to run (--only); undefined = all. */
  only?: CheckKind[];
}

export function k6Checks(merged: MergedResult, options: K6CheckOptions): CheckResult[] {
  const checks: CheckResult[] = [];
  const { policy } = options;
  if (policy) {
    for (const route of policy.routes) {
      for (const kind of ['auth', 'cors', 'waf', 'throttle', 'slo'] as const) {
        const applies = kind === 'auth' ? route.auth?.required === true : route[kind] !== undefined;
        if (!applies || (options.only && !options.only.includes(kind))) continue;
        if (kind === 'throttle') checks.push(throttleFromK6(merged, route, policy, options.policyFile ?? 'policy.yaml'));
        else if (kind === 'slo') checks.push(sloFromK6(merged, route, policy));
        else checks.push(result(kind, route.id, 'skip', `not checked by the k6 engine (it runs load probes: ${K6_SUPPORTED_KINDS.join(', ')}); run \`gatecheck run --only ${kind}\` for it`, {}, {}));
      }
    }
  }
  if (!options.only || options.only.includes('slo')) for (const t of merged.thresholds) checks.push(thresholdCheck(t));
  return checks;
}

function result(kind: CheckKind, route: string, status: CheckStatus, summary: string, expected: Record<string, unknown>, observed: Record<string, unknown>, extra: { evidence?: EvidenceItem[]; details?: string; requests?: number; id?: string } = {}): CheckResult {
  return {
    id: extra.id ?? `${kind}:${route}`,
    kind,
    route,
    status,
    summary,
    expected,
    observed,
    evidence: extra.evidence ?? [],
    ...(extra.details ? { details: extra.details } : {}),
    durationMs: 0,
    requestsSent: extra.requests ?? 0,
  };
}

function throttleFromK6(merged: MergedResult, route: RoutePolicy, policy: Policy, policyFile: string): CheckResult {
  const throttle = route.throttle!;
  const tag = routeTag(route);
  const expected = { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit, tolerance: throttle.tolerance, engine: 'k6' };
  if (merged.source === 'summaries') return result('throttle', route.id, 'skip', 'not checked: the bucket fit needs the per-request points (k6 --out json=...); summaries have no timeline', expected, {});
  const records = merged.records.filter((r) => r.route === tag);
  const volley = records.filter((r) => r.probe === THROTTLE_PROBES.volley);
  const paced = records.filter((r) => r.probe === THROTTLE_PROBES.paced);
  if (volley.length === 0 && paced.length === 0) {
    return result('throttle', route.id, 'skip', `not checked: no k6 points tagged route=${tag} with probe ${THROTTLE_PROBES.volley}/${THROTTLE_PROBES.paced} (run a script from \`gatecheck export k6\`)`, expected, {});
  }
  // Rebase to the first send: the estimator's least squares prefer small numbers to epoch ms.
  const t0 = records[0]!.sentAtMs;
  const answer = (r: RequestRecord): TimedAnswer => ({ atMs: r.sentAtMs - t0, accepted: r.status !== 0 && isOkStatus(route, r.status), throttled: r.status === 429 });
  const estimate = estimateBucket(volley.map(answer), paced.map(answer));
  const unresolved = records.filter((r) => r.status !== 429 && !(r.status !== 0 && isOkStatus(route, r.status)));
  const droppedPaced = merged.dropped.get(scenarioName(route.index, THROTTLE_PROBES.paced)) ?? 0;
  const instances = merged.instances.filter((i) => i.format === 'ndjson').length;
  const pacedTarget = planK6([route], { requestTimeoutMs: policy.limits.requestTimeoutMs }).phases.find((p) => p.probe === THROTTLE_PROBES.paced);
  const neededRatePerSec = pacedTarget?.phase.kind === 'rate' ? pacedTarget.phase.fromRatePerSec : throttle.rateLimit * 2;
  const observed = { ...summariseEstimate(estimate), unresolved: unresolved.length, droppedIterations: droppedPaced, instances, neededRatePerSec };
  const evidence = throttleEvidence(records, route);
  const details = throttleChart(records, route);
  const requests = records.length;
  if (unresolved.length / records.length > 0.05) {
    const sample = unresolved[0]!;
    return result('throttle', route.id, 'error', `${unresolved.length} of ${records.length} answers were neither accepted nor 429 (e.g. ${sample.status || 'no response'}): cannot fit a bucket`, expected, observed, { evidence, details, requests });
  }
  const judgement = judgeBucket(estimate, throttle);
  const clientBound = judgement.status === 'inconclusive' && (judgement.clientBound || droppedPaced > 0);
  if (droppedPaced > 0) judgement.reasons.push(`k6 dropped ${droppedPaced} scheduled iterations of the paced probe (not enough VUs or CPU)`);
  let detailText = details;
  if (clientBound) {
    const hint = k6ExportHint(policyFile, route, { neededRatePerSec, offeredRatePerSec: estimate.offeredRatePerSec, currentParallelism: Math.max(1, instances) });
    judgement.reasons.push(`client-bound: ${estimate.offeredRatePerSec.toFixed(1)}/s offered of ${neededRatePerSec}/s needed`);
    detailText = `${hint.text}\n\n${details ?? ''}`;
  }
  return result('throttle', route.id, judgement.status, judgement.reasons.join('; '), expected, observed, { evidence, requests, ...(detailText ? { details: detailText } : {}) });
}


function throttleEvidence(records: RequestRecord[], route: RoutePolicy): EvidenceItem[] {
  const items: EvidenceItem[] = [];
  const pick = (test: (r: RequestRecord) => boolean, label: string, outcome: EvidenceItem['outcome']) => {
    const found = records.find(test);
    if (found) items.push({ probe: found.probe, label, method: route.method, path: route.path, requestHeaders: {}, responseHeaders: {}, outcome, ...(found.status ? { status: found.status } : { error: 'no response' }) });
  };
  pick((r) => r.probe === THROTTLE_PROBES.volley && isOkStatus(route, r.status), 'volley: first accepted (k6 point)', 'info');
  pick((r) => r.probe === THROTTLE_PROBES.volley && r.status === 429, 'volley: first throttled (429)', 'info');
  pick((r) => r.probe === THROTTLE_PROBES.paced && r.status === 429, 'paced: first throttled (429)', 'info');
  pick((r) => r.status !== 429 && !(r.status !== 0 && isOkStatus(route, r.status)), 'neither accepted nor throttled', 'unresolved');
  return items;
}

/** Accepted and throttled per 100 ms, merged over all instances, against the configured bucket. */
function throttleChart(records: RequestRecord[], route: RoutePolicy): string | undefined {
  if (records.length === 0) return undefined;
  const throttle = route.throttle!;
  const windowMs = 100;
  const origin = records[0]!.sentAtMs;
  const theory = simulateBucket(records.map((r) => r.sentAtMs), throttle.rateLimit, throttle.burstLimit);
  const windows = Math.min(600, Math.floor((records[records.length - 1]!.sentAtMs - origin) / windowMs) + 1);
  const accepted = new Array<number>(windows).fill(0);
  const throttled = new Array<number>(windows).fill(0);
  const expected = new Array<number>(windows).fill(0);
  records.forEach((r, i) => {
    const w = Math.min(windows - 1, Math.floor((r.sentAtMs - origin) / windowMs));
    if (r.status === 429) throttled[w]!++;
    else if (r.status !== 0 && isOkStatus(route, r.status)) accepted[w]!++;
    if (theory[i]) expected[w]!++;
  });
  return mermaidXyChart({
    title: `${route.id}: accepted per ${windowMs} ms (k6, all instances)`,
    xLabel: 'time since volley (s)',
    xTicks: accepted.map((_, i) => ((i * windowMs) / 1000).toFixed(1)),
    yLabel: 'requests',
    series: [
      { type: 'bar', name: 'accepted (observed)', values: accepted },
      { type: 'line', name: `accepted by a bucket of ${throttle.burstLimit} at ${throttle.rateLimit}/s (theory)`, values: expected },
      { type: 'line', name: 'throttled (observed 429)', values: throttled },
    ],
  });
}

function sloFromK6(merged: MergedResult, route: RoutePolicy, policy: Policy): CheckResult {
  const slo = route.slo!;
  const tag = routeTag(route);
  const expected = { ...slo, engine: 'k6', latencyFrom: 'k6 http_req_duration (sending + waiting + receiving), normal answers only' };
  const probe = merged.probes.get(probeKey(tag, SLO_PROBE));
  if (merged.source === 'points') {
    if (!probe) return result('slo', route.id, 'skip', `not checked: no k6 points tagged route=${tag}, probe=${SLO_PROBE} (run a script from \`gatecheck export k6\`)`, expected, {});
    const statusOk = (s: number) => s !== 0 && isOkStatus(route, s);
    const ok = [...probe.statuses].filter(([s]) => statusOk(s)).reduce((n, [, c]) => n + c, 0);
    const m: SloMeasurement = { sent: probe.requests, ok, failed: probe.requests - ok, transportErrors: probe.statuses.get(0) ?? 0 };
    const p = (q: number) => probe.latency.percentileMs(q);
    for (const [key, q] of [['p50Ms', 50], ['p95Ms', 95], ['p99Ms', 99]] as const) {
      const v = p(q);
      if (v !== undefined) m[key] = v;
    }
    const verdict = evaluateSlo(m, slo);
    return result('slo', route.id, verdict.status, verdict.summary, expected, observedSlo(m, probe.latency.maxMs(), true), { requests: probe.requests });
  }
  // Summaries: the exported thresholds' submetrics carry the slo requests' statistics.
  const duration = merged.metrics.find((x) => x.name === sloDurationSelector(tag));
  const failed = merged.metrics.find((x) => x.name === sloFailedSelector(tag));
  if (!duration && !failed) return result('slo', route.id, 'skip', `not checked: the summaries have no ${sloDurationSelector(tag)} or ${sloFailedSelector(tag)} submetric (export the script with \`gatecheck export k6\`)`, expected, {});
  const sent = failed ? (failed.values.passes ?? 0) + (failed.values.fails ?? 0) : (duration?.values.count ?? 0);
  const failures = failed?.values.passes ?? 0;
  const m: SloMeasurement = { sent, ok: sent - failures, failed: failures, transportErrors: 0 };
  for (const [key, stat] of [['p50Ms', 'med'], ['p95Ms', 'p(95)'], ['p99Ms', 'p(99)']] as const) {
    const v = duration?.values[stat] ?? (stat === 'med' ? duration?.values['p(50)'] : undefined);
    if (v !== undefined) m[key] = v;
  }
  if (!failed) m.ok = Math.max(1, sent);
  const verdict = evaluateSlo(m, { ...slo, ...(failed ? {} : { maxErrorRate: undefined }) });
  const approximate = duration?.approximate ? ` (approximate: ${duration.approximate})` : '';
  return result('slo', route.id, verdict.status, `${verdict.summary}${approximate}`, expected, observedSlo(m, duration?.values.max, false), { requests: sent });
}

function observedSlo(m: SloMeasurement, maxMs: number | undefined, exact: boolean): Record<string, unknown> {
  const r = (v: number | undefined) => (v === undefined ? null : Number(v.toFixed(2)));
  return { sent: m.sent, ok: m.ok, failed: m.failed, transportErrors: m.transportErrors, errorRate: m.sent ? Number((m.failed / m.sent).toFixed(4)) : null, p50Ms: r(m.p50Ms), p95Ms: r(m.p95Ms), p99Ms: r(m.p99Ms), maxMs: r(maxMs), percentiles: exact ? 'exact (merged HDR histogram)' : 'from summaries' };
}

/** A k6 threshold as a check: k6's pass/fail criteria are service-level objectives. */
function thresholdCheck(t: MergedThreshold): CheckResult {
  const route = /[{,]route:([^,}]*)/.exec(t.metric)?.[1]?.trim() ?? `k6 ${t.metric.replace(/\{.*$/, '')}`;
  const status: CheckStatus = t.ok === undefined ? 'error' : t.ok ? 'pass' : 'fail';
  const instances = t.instances.map((i) => ({ file: i.file, verdict: i.ok ? 'ok' : 'failed', value: i.value === undefined ? null : round(i.value), source: i.source }));
  return result(
    'slo',
    route,
    status,
    `k6 threshold ${t.metric}: ${t.expression} ${status === 'pass' ? 'met' : status === 'fail' ? 'FAILED' : 'not judged'}: ${t.reason}`,
    { metric: t.metric, threshold: t.expression },
    { mergedValue: t.mergedValue === undefined ? null : round(t.mergedValue), mergedExact: t.mergedExact, instances },
    { id: `slo:k6 ${t.metric} ${t.expression}` },
  );
}
