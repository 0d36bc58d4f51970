import { openCloudWatch, type CloudWatchReader } from '../../cloudwatch/client.js';
import { CloudWatchError, toCloudWatchError } from '../../cloudwatch/errors.js';
import type { FetchedMetrics, FetchWindow, UnavailableGroup } from '../../cloudwatch/fetch.js';
import { pollUntil, REAL_CLOCK } from '../../cloudwatch/poll.js';
import { API_SCOPE, describeApi, planQueries } from '../../cloudwatch/queries.js';
import { MINUTE_MS, minuteOf } from '../../engine/minute-ledger.js';
import type { MetricsPolicy, Policy } from '../../policy/types.js';
import type { CheckResult, CheckStatus, EvidenceItem } from '../types.js';
import {
  callEvidence,
  connectionOf,
  expectedOf,
  gapEvidence,
  groupedReader,
  metricsRouteId,
  unavailableData,
  type MetricsSettings,
} from './cloudwatch-read.js';
import { describeWindow } from '../../util/format.js';
import type { FindingDraft } from '../contract.js';
import { finding, qualifyFindings, slugPart } from '../findings.js';
import { cloudwatchMinutes, type PullObserved } from './observed.js';

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
 * is `error`, like a failed call. Not a run's check: there is nothing to record or judge again.
 */
export async function runMetricsPull(args: MetricsPullArgs): Promise<CheckResult> {
  const startedMs = Date.now();
  const { metrics } = args.policy;
  const source = metrics.cloudwatch;
  const window: FetchWindow = { startMs: minuteOf(args.fromMs), endMs: minuteOf(args.toMs - 1) + MINUTE_MS };
  const waitSec = args.settings.waitSec ?? 0;
  const reconciliation = 'none: `gatecheck metrics` sends no traffic (use `run` to reconcile)';
  const expected = { ...expectedOf(metrics, args.settings, waitSec, window), reconciliation };
  const result = (
    status: CheckStatus,
    summary: string,
    observed: Record<string, unknown>,
    evidence: EvidenceItem[],
    findings: FindingDraft[] = [],
  ): CheckResult => {
    const route = metricsRouteId(metrics);
    const id = `metrics:${route}`;
    const spent = { durationMs: Date.now() - startedMs, requestsSent: 0 };
    return {
      id,
      kind: 'metrics',
      route,
      status,
      summary,
      expected,
      observed,
      evidence,
      findings: qualifyFindings(id, { findings }),
      ...spent,
    };
  };
  let reader: CloudWatchReader | undefined;
  try {
    reader = await (args.settings.open ?? openCloudWatch)(connectionOf(source, args.settings));
    const queries = planQueries(source, reader.region, { percentiles: args.settings.percentiles ?? true, routes: args.policy.routes });
    const primary = source.api.type === 'WEBSOCKET' ? 'connectCount' : 'count';
    const hasData = (f: FetchedMetrics) =>
      queries.some((q) => q.role === primary && q.scope === API_SCOPE && (f.series.get(q.id)?.size ?? 0) > 0);
    args.progress(`metrics: GetMetricData for ${describeApi(source)} at ${reader.where}, ${describeWindow(window)}`);
    const schedule = { waitMs: waitSec * 1000, ...args.settings.poll };
    const read = groupedReader(reader, queries, window, args.settings);
    const outcome = await pollUntil(read, hasData, schedule, args.settings.clock ?? REAL_CLOCK);
    const fetched = outcome.value;
    const minutes = cloudwatchMinutes(fetched, queries, API_SCOPE);
    const found = hasData(fetched);
    const status: CheckStatus = found ? 'pass' : 'error';
    const where = `${describeApi(source)} in ${describeWindow(window)}`;
    const summary = found
      ? `CloudWatch has ${minutes.length} minute(s) of data for ${where} (metrics only: nothing reconciled)`
      : `CloudWatch has no datapoint for ${where}: check the API name or id, the stage and the Region (and that there was traffic)`;
    const observed: PullObserved = {
      minutesWithData: minutes.length,
      pages: fetched.pages,
      sdkAttempts: fetched.attempts,
      polls: outcome.polls,
      ...(fetched.incomplete.length ? { incomplete: fetched.incomplete.map((i) => `${i.id} ${i.status}`) } : {}),
      ...(fetched.messages.length ? { messages: fetched.messages } : {}),
      ...unavailableData(fetched.unavailable),
      apiType: source.api.type,
      window: describeWindow(window),
      windowMs: window,
      cloudwatchMinutes: minutes,
      ...(fetched.unavailable.length ? { notAvailable: [...new Set(fetched.unavailable.flatMap((u) => u.roles))] } : {}),
    };
    const call = callEvidence(reader.where, `${fetched.pages} page(s), ${fetched.attempts} HTTP attempt(s)`, status);
    const evidence = [call, ...fetched.unavailable.map((u) => gapEvidence(reader!.where, u))];
    const gaps = fetched.unavailable.flatMap((u) => u.metrics);
    const named = found && gaps.length ? `${summary}; not available from this endpoint: ${gaps.join(', ')}` : summary;
    return result(status, named, observed, evidence, found ? pullFindings(describeApi(source), minutes.length, fetched.unavailable) : []);
  } catch (error) {
    const failure = error instanceof CloudWatchError ? error : toCloudWatchError(error, source.endpoint ?? 'CloudWatch');
    const observed = { error: failure.code, ...(failure.awsCode ? { awsCode: failure.awsCode } : {}) };
    const where = reader?.where ?? source.endpoint ?? 'CloudWatch';
    const evidence = [callEvidence(where, failure.message, 'error', failure.awsCode ?? failure.code)];
    return result('error', `metrics not read: ${failure.message}`, observed, evidence);
  } finally {
    reader?.close();
  }
}

/**
 * What a pull learned, as `info` findings (nothing here can fail: no data is an error, and with
 * no client traffic nothing is reconciled): that the API publishes metrics here, and each query
 * group the endpoint could not serve.
 */
function pullFindings(api: string, minutes: number, unavailable: readonly UnavailableGroup[]): FindingDraft[] {
  const published = finding(
    'published',
    'info',
    `CloudWatch publishes metrics for ${api}`,
    `${minutes} minute(s) with data in the window; nothing reconciled (\`gatecheck metrics\` sends no traffic)`,
    [0],
  );
  const gaps = unavailable.map((u, i) =>
    finding(`not-available:${slugPart(u.group)}`, 'info', `${u.metrics.join(', ')} not available from this endpoint`, u.error, [i + 1]),
  );
  return [published, ...gaps];
}
