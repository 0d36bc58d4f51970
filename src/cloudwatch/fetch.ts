import type { GetMetricDataCommandInput, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchReader } from './client.js';
import { CloudWatchError, endpointCannotServe, type CloudWatchErrorCode } from './errors.js';
import { metricLabel, type MetricQuery, type MetricRole, type QueryGroup } from './queries.js';

/**
 * One complete GetMetricData read: every query, every page. CloudWatch answers at most
 * 100,800 datapoints (or MaxDatapoints) per call and says "more" with `NextToken` and
 * `StatusCode: PartialData`; the pages are followed until no token is left, and the
 * datapoints of each query are merged by minute.
 *
 * Each query group (queries.ts) is read in its own calls. A group the endpoint cannot serve
 * (errors.ts, endpointCannotServe) is reported unavailable with the endpoint's error and the
 * other groups are still read; any other failure, or no group read at all, throws.
 */

/** Most queries per call (a GetMetricData limit). */
export const MAX_QUERIES_PER_CALL = 500;
/** Guard against a token that never ends. 100 pages of 100,800 datapoints is ten million. */
const MAX_PAGES = 100;

export interface FetchWindow {
  /** Epoch ms, a multiple of 60,000. */
  startMs: number;
  /** Epoch ms, exclusive, a multiple of 60,000. */
  endMs: number;
}

export interface FetchedMetrics {
  /** Query id → minute start (epoch ms) → value. */
  series: Map<string, Map<number, number>>;
  /** Queries CloudWatch could not answer in full (`PartialData` with no token left, `Forbidden`, `InternalError`), with the reason. */
  incomplete: Array<{ id: string; status: string }>;
  /** Groups the endpoint could not answer: their queries have no datapoints here. */
  unavailable: UnavailableGroup[];
  /** CloudWatch's own messages (`MaxQueryTimeRangeExceed`...), deduplicated. */
  messages: string[];
  /** GetMetricData calls made (one per page). */
  pages: number;
  /** HTTP attempts the SDK made in all, its retries included. */
  attempts: number;
}

/** A query group the endpoint could not answer, and why: "not available from this endpoint". */
export interface UnavailableGroup {
  group: QueryGroup;
  /** `Latency p50`, `Latency p99`...: its metrics, each once. */
  metrics: string[];
  roles: MetricRole[];
  code: CloudWatchErrorCode;
  awsCode?: string;
  /** The endpoint's error, as CloudWatchError words it. */
  error: string;
}

export interface FetchOptions {
  /** MaxDatapoints per page (tests force small pages). Default: CloudWatch's own (100,800). */
  maxDatapoints?: number;
  /** Groups an earlier poll found unavailable: not asked again (an endpoint does not learn percentiles between polls), still reported. */
  skip?: readonly UnavailableGroup[];
}

/** Reads every query over the window with 60 s periods, oldest datapoint first, one group after the other. */
export async function fetchMetrics(
  reader: CloudWatchReader,
  queries: readonly MetricQuery[],
  window: FetchWindow,
  options: FetchOptions = {},
): Promise<FetchedMetrics> {
  const series = new Map(queries.map((q) => [q.id, new Map<number, number>()]));
  const out: FetchedMetrics = { series, incomplete: [], unavailable: [], messages: [], pages: 0, attempts: 0 };
  const lastStatus = new Map<string, string>();
  const groups = groupQueries(queries);
  let firstFailure: CloudWatchError | undefined;
  for (const [group, members] of groups) {
    const known = options.skip?.find((u) => u.group === group);
    if (known) {
      out.unavailable.push(known);
      continue;
    }
    try {
      await fetchGroup(reader, members, window, options, out, lastStatus);
    } catch (error) {
      if (!(error instanceof CloudWatchError) || !endpointCannotServe(error)) throw error;
      firstFailure ??= error;
      out.attempts += error.attempts ?? 1;
      out.unavailable.push(unavailableOf(group, members, error));
      // Pages read before the failure are dropped: half a group would read as missing minutes.
      for (const query of members) {
        out.series.set(query.id, new Map());
        lastStatus.delete(query.id);
      }
    }
  }
  if (groups.size > 0 && out.unavailable.length === groups.size) {
    throw firstFailure ?? new CloudWatchError(out.unavailable[0]!.code, out.unavailable[0]!.error, out.unavailable[0]!.awsCode);
  }
  for (const [id, status] of lastStatus) {
    if (status === 'Complete') continue;
    out.incomplete.push({ id, status: status === 'PartialData' ? 'PartialData with no NextToken left' : status });
  }
  return out;
}

/** Queries by group, in the order the groups first appear (counts first). */
function groupQueries(queries: readonly MetricQuery[]): Map<QueryGroup, MetricQuery[]> {
  const groups = new Map<QueryGroup, MetricQuery[]>();
  for (const query of queries) {
    const members = groups.get(query.group);
    if (members) members.push(query);
    else groups.set(query.group, [query]);
  }
  return groups;
}

function unavailableOf(group: QueryGroup, members: readonly MetricQuery[], error: CloudWatchError): UnavailableGroup {
  return {
    group,
    metrics: [...new Set(members.map(metricLabel))],
    roles: [...new Set(members.map((q) => q.role))],
    code: error.code,
    ...(error.awsCode !== undefined ? { awsCode: error.awsCode } : {}),
    error: error.message,
  };
}

/** Every page of every batch of one group, into `out`. */
async function fetchGroup(
  reader: CloudWatchReader,
  queries: readonly MetricQuery[],
  window: FetchWindow,
  options: FetchOptions,
  out: FetchedMetrics,
  lastStatus: Map<string, string>,
): Promise<void> {
  for (let at = 0; at < queries.length; at += MAX_QUERIES_PER_CALL) {
    const batch = queries.slice(at, at + MAX_QUERIES_PER_CALL);
    const base: GetMetricDataCommandInput = {
      StartTime: new Date(window.startMs),
      EndTime: new Date(window.endMs),
      ScanBy: 'TimestampAscending',
      MetricDataQueries: batch.map(toSdkQuery),
      ...(options.maxDatapoints !== undefined ? { MaxDatapoints: options.maxDatapoints } : {}),
    };
    const asked = new Set(batch.map((q) => q.id));
    const seenTokens = new Set<string>();
    let token: string | undefined;
    do {
      if (out.pages >= MAX_PAGES) throw new CloudWatchError('BadResponse', `GetMetricData still had a NextToken after ${MAX_PAGES} pages`);
      const page = await reader.getMetricData(token === undefined ? base : { ...base, NextToken: token });
      out.pages++;
      out.attempts += page.$metadata.attempts ?? 1;
      for (const result of page.MetricDataResults ?? []) {
        const series = result.Id === undefined || !asked.has(result.Id) ? undefined : out.series.get(result.Id);
        if (!series)
          throw new CloudWatchError('BadResponse', `GetMetricData answered for query "${String(result.Id)}", which was not asked`);
        const timestamps = result.Timestamps ?? [];
        const values = result.Values ?? [];
        if (timestamps.length !== values.length)
          throw new CloudWatchError(
            'BadResponse',
            `GetMetricData answered ${timestamps.length} timestamps but ${values.length} values for query "${result.Id}"`,
          );
        timestamps.forEach((timestamp, i) => {
          const minuteStartMs = Math.floor(timestamp.getTime() / 60_000) * 60_000;
          // Pages never overlap; should a datapoint come twice, the later page wins.
          series.set(minuteStartMs, values[i]!);
        });
        lastStatus.set(result.Id!, result.StatusCode ?? 'Complete');
        for (const message of result.Messages ?? [])
          addMessage(out.messages, `${result.Id}: ${message.Code ?? ''} ${message.Value ?? ''}`.trim());
      }
      for (const message of page.Messages ?? []) addMessage(out.messages, `${message.Code ?? ''} ${message.Value ?? ''}`.trim());
      token = page.NextToken || undefined;
      if (token !== undefined) {
        if (seenTokens.has(token)) throw new CloudWatchError('BadResponse', 'GetMetricData sent the same NextToken twice');
        seenTokens.add(token);
      }
    } while (token !== undefined);
  }
}

function toSdkQuery(query: MetricQuery): MetricDataQuery {
  return {
    Id: query.id,
    MetricStat: {
      Metric: {
        Namespace: query.namespace,
        MetricName: query.metricName,
        Dimensions: query.dimensions.map((d) => ({ Name: d.name, Value: d.value })),
      },
      Period: query.periodSec,
      Stat: query.stat,
    },
    ReturnData: true,
  };
}

function addMessage(messages: string[], message: string): void {
  if (message && !messages.includes(message)) messages.push(message);
}
