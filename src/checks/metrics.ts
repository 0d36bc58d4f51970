import { openCloudWatch, type CloudWatchConnection, type CloudWatchReader } from '../cloudwatch/client.js';
import { CloudWatchError, toCloudWatchError } from '../cloudwatch/errors.js';
import { fetchMetrics, type FetchedMetrics, type FetchWindow, type UnavailableGroup } from '../cloudwatch/fetch.js';
import { pollUntil, REAL_CLOCK, type PollClock } from '../cloudwatch/poll.js';
import { API_SCOPE, describeApi, GROUP_LABEL, planQueries, type MetricQuery } from '../cloudwatch/queries.js';
import { MINUTE_MS, minuteOf, type MinuteLedger } from '../engine/minute-ledger.js';
import type { MetricsPolicy, Policy } from '../policy/types.js';
import { describeWindow, isoMinute, percent } from './metrics/format.js';
import { byMinute, evaluateMetrics, isSettled, reconcile, totals, type ReconcileOptions } from './metrics/reconcile.js';
import { renderDetails, renderPullDetails } from './metrics/render.js';
import type { CheckResult, CheckStatus, EvidenceItem } from './types.js';
import type { LegacyCheck } from './legacy-adapter.js';

/**
 * The `metrics` check's runner: pulls CloudWatch for the run's minutes and reconciles them with
 * the client's ledger. The bounds and verdict rules are in metrics/reconcile.ts; the report
 * section in metrics/render.ts.
 */
export * from './metrics/reconcile.js';
export { describeWindow };
// ---------------------------------------------------------------------------------------------
// Running it

/** What the CLI passes down: flags, and for the demo its emulator's credentials. */
export interface MetricsSettings {
  region?: string;
  profile?: string;
  endpoint?: string;
  /** --metrics-wait, seconds; default the policy's waitSec. */
  waitSec?: number;
  credentials?: CloudWatchConnection['credentials'];
  maxAttempts?: number;
  /** MaxDatapoints per page (tests force pagination). */
  maxDatapoints?: number;
  /** Ask for latency percentiles (default true; where the endpoint cannot answer them, only they are lost). */
  percentiles?: boolean;
  poll?: { firstDelayMs?: number; maxDelayMs?: number };
  clock?: PollClock;
  /** Opens the CloudWatch reader; default openCloudWatch (the AWS SDK). */
  open?: (connection: CloudWatchConnection) => Promise<CloudWatchReader>;
}

export interface MetricsCheckArgs {
  policy: Policy & { metrics: MetricsPolicy };
  ledger: MinuteLedger;
  settings: MetricsSettings;
  progress: (line: string) => void;
}

/** TEMPORARY registry entry until metrics moves to the CheckDefinition contract. */
export const metricsLegacy: LegacyCheck<'metrics'> = {
  legacy: true,
  kind: 'metrics',
  phase: 'after-run',
  instances: (policy) => (policy.metrics ? [{ route: metricsRouteId(policy.metrics), idSuffixes: [''] }] : []),
  run: async (ctx) => {
    const policy = ctx.policy;
    if (!policy.metrics || !ctx.ledger) throw new Error('the metrics check needs the policy\'s metrics block and the run\'s ledger');
    const args = { policy: { ...policy, metrics: policy.metrics }, ledger: ctx.ledger, settings: ctx.metrics ?? {}, progress: ctx.progress };
    return [await runMetricsCheck(args)];
  },
};

/** The check id's route part: `gatecheck-demo/demo`. */
export function metricsRouteId(metrics: MetricsPolicy): string {
  const { api } = metrics.cloudwatch;
  return `${api.type === 'REST' ? api.name : api.id}/${api.stage}`;
}

/** The metrics check after a run. Never throws: CloudWatch trouble is an `error` verdict. */
export async function runMetricsCheck(args: MetricsCheckArgs): Promise<CheckResult> {
  const startedMs = Date.now();
  const { metrics } = args.policy;
  const source = metrics.cloudwatch;
  const waitSec = args.settings.waitSec ?? metrics.waitSec;
  const client = args.ledger.snapshot();
  const window = args.ledger.window();
  const base = baseResult(metrics, startedMs);
  const expected = expectedOf(metrics, args.settings, waitSec, window);
  if (!window || client.every((m) => m.completed === 0)) {
    return base('error', 'no request got an answer during the run: nothing to reconcile', expected, {}, [], undefined);
  }

  let reader: CloudWatchReader | undefined;
  try {
    reader = await (args.settings.open ?? openCloudWatch)(connectionOf(source, args.settings));
    const queries = planQueries(source, reader.region, { percentiles: args.settings.percentiles ?? true, routes: args.policy.routes });
    const options: ReconcileOptions = {
      tolerance: metrics.tolerance,
      names: source.api.type === 'HTTP' ? { error4xx: '4xx', error5xx: '5xx' } : { error4xx: '4XXError', error5xx: '5XXError' },
    };
    const readGroups = groupedReader(reader, queries, window, args.settings);
    const read = async () => {
      const fetched = await readGroups();
      const routeMinutes = source.api.detailed ? new Map(args.policy.routes.map((r) => [`${r.method} ${r.path}`, byMinute(fetched, queries, `${r.method} ${r.path}`)])) : undefined;
      // A web ACL the endpoint could not read is named as unavailable, not as "no datapoint: check its name".
      const wafRead = source.waf && !fetched.unavailable.some((u) => u.group === 'waf');
      const extra = { ...(wafRead ? { waf: { rule: source.waf!.rule } } : {}), ...(routeMinutes ? { routeMinutes } : {}) };
      const reconciliation = reconcile(client, byMinute(fetched, queries, API_SCOPE), { ...options, ...extra });
      return { fetched, reconciliation };
    };
    args.progress(`metrics: GetMetricData for ${describeApi(source)} at ${reader.where}, waiting up to ${waitSec} s for late datapoints`);
    const outcome = await pollUntil(
      read,
      (v) => source.api.type === 'WEBSOCKET' || isSettled(v.reconciliation, v.fetched),
      { waitMs: waitSec * 1000, ...args.settings.poll },
      args.settings.clock ?? REAL_CLOCK,
      (poll, v) => args.progress(`metrics: poll ${poll}: ${v.reconciliation.comparedMinutes}/${client.length} minute(s) with data, ${v.reconciliation.findings.length} finding(s)`),
    );
    const { fetched, reconciliation } = outcome.value;
    const waited = outcome.settled ? '' : ` (after ${outcome.polls} poll${outcome.polls === 1 ? '' : 's'} over ${Math.round(outcome.waitedMs / 1000)} s)`;
    const incomplete = fetched.incomplete.map((i) => `${i.id} ${i.status}`);
    const clientCompleted = client.reduce((s, m) => s + m.completed, 0);
    const api = describeApi(source);
    const context = { source: api, window: describeWindow(window), waited, incomplete, clientCompleted, unavailable: fetched.unavailable };
    let verdict = evaluateMetrics(reconciliation, context);
    if (source.api.type === 'WEBSOCKET') {
      // No Count here: ConnectCount and MessageCount are the API's datapoints.
      const wsData = [...byMinute(fetched, queries, API_SCOPE).values()].some((m) => m.connectCount !== undefined || m.messageCount !== undefined);
      verdict = wsData
        ? { status: 'inconclusive', summary: 'gatecheck sends no WebSocket traffic, so there is nothing to reconcile; the metrics are shown below' }
        : { status: 'error', summary: `CloudWatch has no datapoint for ${describeApi(source)} in ${describeWindow(window)}${waited}: check the API id, the stage and the Region` };
    }
    const t = totals(reconciliation.rows);
    const observed = {
      minutes: client.length,
      comparedMinutes: reconciliation.comparedMinutes,
      missingMinutes: reconciliation.findings.filter((f) => f.kind === 'missing' && f.minuteStartMs !== undefined).map((f) => isoMinute(f.minuteStartMs!)),
      client: { answered: t.client.completed, status4xx: t.client.status4xx, status429: t.client.status429, status5xx: t.client.status5xx, transportErrors: t.client.transportErrors, wafBlocks: t.client.wafBlocks },
      cloudwatch: source.waf ? t.cw : { count: t.cw.count, error4xx: t.cw.error4xx, error5xx: t.cw.error5xx },
      findings: reconciliation.findings.map((f) => `${f.kind}: ${f.text}`),
      polls: outcome.polls,
      waitedSec: Math.round(outcome.waitedMs / 100) / 10,
      pages: fetched.pages,
      sdkAttempts: fetched.attempts,
      ...unavailableData(fetched.unavailable),
      ...(fetched.messages.length ? { messages: fetched.messages } : {}),
    };
    const calls = `${outcome.polls} poll(s), last one ${fetched.pages} page(s), ${fetched.attempts} HTTP attempt(s) by the SDK`;
    const evidence = [
      callEvidence(reader.where, calls, verdict.status),
      ...fetched.unavailable.map((u) => gapEvidence(reader!.where, u)),
    ];
    return base(verdict.status, verdict.summary, expected, observed, evidence, renderDetails(reconciliation, fetched, queries, metrics, source.api.type === 'WEBSOCKET'));
  } catch (error) {
    const failure = error instanceof CloudWatchError ? error : toCloudWatchError(error, source.endpoint ?? 'CloudWatch');
    return base('error', `metrics not verified: ${failure.message}`, expected, { error: failure.code, ...(failure.awsCode ? { awsCode: failure.awsCode } : {}), ...(failure.attempts ? { sdkAttempts: failure.attempts } : {}) }, [callEvidence(reader?.where ?? source.endpoint ?? 'CloudWatch', failure.message, 'error', failure.awsCode ?? failure.code)], undefined);
  } finally {
    reader?.close();
  }
}

export interface MetricsPullArgs {
  policy: Policy & { metrics: MetricsPolicy };
  /** Epoch ms; rounded out to whole minutes. */
  fromMs: number;
  toMs: number;
  settings: MetricsSettings;
  progress: (line: string) => void;
}

/**
 * `gatecheck metrics`: CloudWatch's numbers alone, with no client traffic to reconcile. pass
 * means "this API's metrics are published and readable here" (datapoints found); no datapoint
 * is `error`, like a failed call.
 */
export async function runMetricsPull(args: MetricsPullArgs): Promise<CheckResult> {
  const startedMs = Date.now();
  const { metrics } = args.policy;
  const source = metrics.cloudwatch;
  const window: FetchWindow = { startMs: minuteOf(args.fromMs), endMs: minuteOf(args.toMs - 1) + MINUTE_MS };
  const base = baseResult(metrics, startedMs);
  const waitSec = args.settings.waitSec ?? 0;
  const expected = { ...expectedOf(metrics, args.settings, waitSec, window), reconciliation: 'none: `gatecheck metrics` sends no traffic (use `run` to reconcile)' };
  let reader: CloudWatchReader | undefined;
  try {
    reader = await (args.settings.open ?? openCloudWatch)(connectionOf(source, args.settings));
    const queries = planQueries(source, reader.region, { percentiles: args.settings.percentiles ?? true, routes: args.policy.routes });
    const primary = source.api.type === 'WEBSOCKET' ? 'connectCount' : 'count';
    const hasData = (f: FetchedMetrics) => queries.some((q) => q.role === primary && q.scope === API_SCOPE && (f.series.get(q.id)?.size ?? 0) > 0);
    args.progress(`metrics: GetMetricData for ${describeApi(source)} at ${reader.where}, ${describeWindow(window)}`);
    const schedule = { waitMs: waitSec * 1000, ...args.settings.poll };
    const read = groupedReader(reader, queries, window, args.settings);
    const outcome = await pollUntil(read, hasData, schedule, args.settings.clock ?? REAL_CLOCK);
    const fetched = outcome.value;
    const minutes = byMinute(fetched, queries, API_SCOPE);
    const found = hasData(fetched);
    const status: CheckStatus = found ? 'pass' : 'error';
    const summary = found
      ? `CloudWatch has ${minutes.size} minute(s) of data for ${describeApi(source)} in ${describeWindow(window)} (metrics only: nothing reconciled)`
      : `CloudWatch has no datapoint for ${describeApi(source)} in ${describeWindow(window)}: check the API name or id, the stage and the Region (and that there was traffic)`;
    const observed = { minutesWithData: minutes.size, pages: fetched.pages, sdkAttempts: fetched.attempts, polls: outcome.polls, ...(fetched.incomplete.length ? { incomplete: fetched.incomplete.map((i) => `${i.id} ${i.status}`) } : {}), ...(fetched.messages.length ? { messages: fetched.messages } : {}) };
    const call = callEvidence(reader.where, `${fetched.pages} page(s), ${fetched.attempts} HTTP attempt(s)`, status);
    const evidence = [call, ...fetched.unavailable.map((u) => gapEvidence(reader!.where, u))];
    const details = found ? renderPullDetails(minutes, window, source.api.type, fetched.unavailable) : undefined;
    const gaps = fetched.unavailable.flatMap((u) => u.metrics);
    const named = found && gaps.length ? `${summary}; not available from this endpoint: ${gaps.join(', ')}` : summary;
    return base(status, named, expected, { ...observed, ...unavailableData(fetched.unavailable) }, evidence, details);
  } catch (error) {
    const failure = error instanceof CloudWatchError ? error : toCloudWatchError(error, source.endpoint ?? 'CloudWatch');
    return base('error', `metrics not read: ${failure.message}`, expected, { error: failure.code, ...(failure.awsCode ? { awsCode: failure.awsCode } : {}) }, [callEvidence(reader?.where ?? source.endpoint ?? 'CloudWatch', failure.message, 'error', failure.awsCode ?? failure.code)], undefined);
  } finally {
    reader?.close();
  }
}

/**
 * One read per poll, group by group (cloudwatch/fetch.ts). A group found unavailable is not asked
 * again on later polls. Without the counts group there is nothing to reconcile or show: that
 * failure is thrown, so the check is an `error` naming the endpoint's answer.
 */
function groupedReader(
  reader: CloudWatchReader,
  queries: readonly MetricQuery[],
  window: FetchWindow,
  settings: MetricsSettings,
): () => Promise<FetchedMetrics> {
  let skip: readonly UnavailableGroup[] = [];
  const pages = settings.maxDatapoints !== undefined ? { maxDatapoints: settings.maxDatapoints } : {};
  return async () => {
    const fetched = await fetchMetrics(reader, queries, window, { ...pages, skip });
    skip = fetched.unavailable;
    const counts = fetched.unavailable.find((u) => u.group === 'counts');
    if (counts) {
      const message = `${counts.metrics.join(', ')} not available from this endpoint, so nothing was read: ${counts.error}`;
      throw new CloudWatchError(counts.code, message, counts.awsCode);
    }
    return fetched;
  };
}

/** report.json's record of what the endpoint could not serve, with its own error. */
function unavailableData(unavailable: readonly UnavailableGroup[]): Record<string, unknown> {
  if (unavailable.length === 0) return {};
  const data = (u: UnavailableGroup) => ({ metrics: u.metrics, group: GROUP_LABEL[u.group], code: u.awsCode ?? u.code, error: u.error });
  return { unavailable: unavailable.map(data) };
}

function gapEvidence(where: string, u: UnavailableGroup): EvidenceItem {
  const note = `${u.metrics.join(', ')} not available from this endpoint: ${u.error}`;
  return { ...callEvidence(where, note, 'error', u.awsCode ?? u.code), label: `CloudWatch GetMetricData, ${GROUP_LABEL[u.group]}` };
}

function connectionOf(source: MetricsPolicy['cloudwatch'], settings: MetricsSettings): CloudWatchConnection {
  const region = settings.region ?? source.region;
  const endpoint = settings.endpoint ?? source.endpoint;
  return {
    ...(region !== undefined ? { region } : {}),
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(settings.profile !== undefined ? { profile: settings.profile } : {}),
    ...(settings.credentials !== undefined ? { credentials: settings.credentials } : {}),
    ...(settings.maxAttempts !== undefined ? { maxAttempts: settings.maxAttempts } : {}),
  };
}

function baseResult(metrics: MetricsPolicy, startedMs: number) {
  const route = metricsRouteId(metrics);
  return (status: CheckStatus, summary: string, expected: Record<string, unknown>, observed: Record<string, unknown>, evidence: EvidenceItem[], details: string | undefined): CheckResult => ({
    id: `metrics:${route}`,
    kind: 'metrics',
    route,
    status,
    summary,
    expected,
    observed,
    evidence,
    ...(details ? { details } : {}),
    durationMs: Date.now() - startedMs,
    requestsSent: 0,
  });
}

function expectedOf(metrics: MetricsPolicy, settings: MetricsSettings, waitSec: number, window: FetchWindow | undefined): Record<string, unknown> {
  const source = metrics.cloudwatch;
  const t = metrics.tolerance;
  return {
    source: `AWS/ApiGateway ${describeApi(source)}${source.waf ? `; AWS/WAFV2 WebACL=${source.waf.webAcl}, Rule=${source.waf.rule}` : ''}`,
    region: settings.region ?? source.region ?? '(SDK default)',
    ...(settings.endpoint ?? source.endpoint ? { endpoint: settings.endpoint ?? source.endpoint } : {}),
    window: window ? describeWindow(window) : '(no traffic)',
    periodSec: 60,
    waitSec,
    countRange: `client − 429s − WAF blocks − edge − tol ≤ CloudWatch ≤ client + transport errors + edge + tol; tol = max(${t.countAbsolute}, ${percent(t.countRelative)} of client)`,
    latency: `CloudWatch p99 ≤ client p99 + max(${t.latencyMs} ms, ${percent(t.latencyRelative)}); minutes with ≥ ${t.minLatencySamples} answers`,
    clockSkewMs: t.clockSkewMs,
  };
}

function callEvidence(where: string, note: string, status: CheckStatus, error?: string): EvidenceItem {
  return {
    probe: 'metrics.GetMetricData',
    label: 'CloudWatch GetMetricData',
    method: 'POST',
    path: where,
    requestHeaders: { 'x-amz-target': 'GraniteServiceVersion20100801.GetMetricData' },
    ...(error !== undefined ? { error } : {}),
    responseHeaders: {},
    outcome: status === 'error' ? 'unresolved' : 'info',
    note,
  };
}
