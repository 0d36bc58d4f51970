import type { CloudWatchConnection, CloudWatchReader } from '../../cloudwatch/client.js';
import { CloudWatchError } from '../../cloudwatch/errors.js';
import { fetchMetrics, type FetchedMetrics, type FetchWindow, type UnavailableGroup } from '../../cloudwatch/fetch.js';
import type { PollClock } from '../../cloudwatch/poll.js';
import { describeApi, GROUP_LABEL, type MetricQuery } from '../../cloudwatch/queries.js';
import type { MetricsPolicy, Policy } from '../../policy/types.js';
import type { CheckStatus, EvidenceItem } from '../types.js';
import { describeWindow, percent } from '../../util/format.js';

/**
 * What the metrics check (after a run) and `gatecheck metrics` (the pull) share: the CLI's
 * CloudWatch settings, the grouped reader, and the evidence and report data of a read.
 */

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

/**
 * --region, --endpoint-url and --metrics-wait override the policy's metrics block, as --target
 * overrides its target: the check's expected column then says what was really asked.
 */
export function withMetricsFlags<P extends Policy>(policy: P, settings: MetricsSettings | undefined): P {
  if (!policy.metrics || !settings) return policy;
  const { cloudwatch } = policy.metrics;
  return {
    ...policy,
    metrics: {
      ...policy.metrics,
      cloudwatch: {
        ...cloudwatch,
        ...(settings.region !== undefined ? { region: settings.region } : {}),
        ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
      },
      waitSec: settings.waitSec ?? policy.metrics.waitSec,
    },
  };
}

/** The check id's route part: `gatecheck-demo/demo`. */
export function metricsRouteId(metrics: MetricsPolicy): string {
  const { api } = metrics.cloudwatch;
  return `${api.type === 'REST' ? api.name : api.id}/${api.stage}`;
}

/**
 * One read per poll, group by group (cloudwatch/fetch.ts). A group found unavailable is not asked
 * again on later polls. Without the counts group there is nothing to reconcile or show: that
 * failure is thrown, so the check is an `error` naming the endpoint's answer.
 */
export function groupedReader(
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

/** report.json's record of a query group the endpoint could not serve, with its own error. */
export interface UnavailableData {
  metrics: string[];
  group: string;
  code: string;
  error: string;
}

export function unavailableData(unavailable: readonly UnavailableGroup[]): { unavailable?: UnavailableData[] } {
  if (unavailable.length === 0) return {};
  const data = (u: UnavailableGroup) => ({ metrics: u.metrics, group: GROUP_LABEL[u.group], code: u.awsCode ?? u.code, error: u.error });
  return { unavailable: unavailable.map(data) };
}

export function gapEvidence(where: string, u: UnavailableGroup): EvidenceItem {
  const note = `${u.metrics.join(', ')} not available from this endpoint: ${u.error}`;
  return { ...callEvidence(where, note, 'error', u.awsCode ?? u.code), label: `CloudWatch GetMetricData, ${GROUP_LABEL[u.group]}` };
}

export function connectionOf(source: MetricsPolicy['cloudwatch'], settings: MetricsSettings): CloudWatchConnection {
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

/** What the policy asks of CloudWatch, for the report's expected column; `window` when it is known beforehand. */
export function expectedOf(
  metrics: MetricsPolicy,
  settings: MetricsSettings,
  waitSec: number,
  window: FetchWindow | string,
): Record<string, unknown> {
  const source = metrics.cloudwatch;
  const t = metrics.tolerance;
  return {
    source: `AWS/ApiGateway ${describeApi(source)}${source.waf ? `; AWS/WAFV2 WebACL=${source.waf.webAcl}, Rule=${source.waf.rule}` : ''}`,
    region: settings.region ?? source.region ?? '(SDK default)',
    ...((settings.endpoint ?? source.endpoint) ? { endpoint: settings.endpoint ?? source.endpoint } : {}),
    window: typeof window === 'string' ? window : describeWindow(window),
    periodSec: 60,
    waitSec,
    ...(source.api.type === 'WEBSOCKET'
      ? {
          countRange:
            'ConnectCount ≥ sockets opened, MessageCount ≥ messages answered by the route, ClientError ≥ refused upgrades ' +
            '(each − edge − tol; upper bounds in docs/cloudwatch.md); ' +
            `tol = max(${t.countAbsolute}, ${percent(t.countRelative)} of client)`,
        }
      : {
          countRange:
            'client − 429s − WAF blocks − edge − tol ≤ CloudWatch ≤ client + transport errors + edge + tol; ' +
            `tol = max(${t.countAbsolute}, ${percent(t.countRelative)} of client)`,
          latency:
            `CloudWatch p99 ≤ client p99 + max(${t.latencyMs} ms, ${percent(t.latencyRelative)}); ` +
            `minutes with ≥ ${t.minLatencySamples} answers`,
        }),
    clockSkewMs: t.clockSkewMs,
  };
}

export function callEvidence(where: string, note: string, status: CheckStatus, error?: string): EvidenceItem {
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
