import type { GetMetricDataCommandInput, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchReader } from './client.js';
import { CloudWatchError } from './errors.js';
import type { MetricQuery } from './queries.js';

/**
 * One complete GetMetricData read: every query, every page. CloudWatch answers at most
 * 100,800 datapoints (or MaxDatapoints) per call and says "more" with `NextToken` and
 * `StatusCode: PartialData`; the pages are followed until no token is left, and the
 * datapoints of each query are merged by minute.
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
  /** CloudWatch's own messages (`MaxQueryTimeRangeExceed`...), deduplicated. */
  messages: string[];
  /** GetMetricData calls made (one per page). */
  pages: number;
  /** HTTP attempts the SDK made in all, its retries included. */
  attempts: number;
}

export interface FetchOptions {
  /** MaxDatapoints per page (tests force small pages). Default: CloudWatch's own (100,800). */
  maxDatapoints?: number;
}

/** Reads every query over the window with 60 s periods, oldest datapoint first. */
export async function fetchMetrics(reader: CloudWatchReader, queries: readonly MetricQuery[], window: FetchWindow, options: FetchOptions = {}): Promise<FetchedMetrics> {
  const out: FetchedMetrics = { series: new Map(queries.map((q) => [q.id, new Map()])), incomplete: [], messages: [], pages: 0, attempts: 0 };
  const lastStatus = new Map<string, string>();
  for (let at = 0; at < queries.length; at += MAX_QUERIES_PER_CALL) {
    const batch = queries.slice(at, at + MAX_QUERIES_PER_CALL);
    const base: GetMetricDataCommandInput = {
      StartTime: new Date(window.startMs),
      EndTime: new Date(window.endMs),
      ScanBy: 'TimestampAscending',
      MetricDataQueries: batch.map(toSdkQuery),
      ...(options.maxDatapoints !== undefined ? { MaxDatapoints: options.maxDatapoints } : {}),
    };
    const seenTokens = new Set<string>();
    let token: string | undefined;
    do {
      if (out.pages >= MAX_PAGES) throw new CloudWatchError('BadResponse', `GetMetricData still had a NextToken after ${MAX_PAGES} pages`);
      const page = await reader.getMetricData(token === undefined ? base : { ...base, NextToken: token });
      out.pages++;
      out.attempts += page.$metadata.attempts ?? 1;
      for (const result of page.MetricDataResults ?? []) {
        const series = result.Id === undefined ? undefined : out.series.get(result.Id);
        if (!series) throw new CloudWatchError('BadResponse', `GetMetricData answered for query "${String(result.Id)}", which was not asked`);
        const timestamps = result.Timestamps ?? [];
        const values = result.Values ?? [];
        if (timestamps.length !== values.length) throw new CloudWatchError('BadResponse', `GetMetricData answered ${timestamps.length} timestamps but ${values.length} values for query "${result.Id}"`);
        timestamps.forEach((timestamp, i) => {
          const minuteStartMs = Math.floor(timestamp.getTime() / 60_000) * 60_000;
          // Pages never overlap; should a datapoint come twice, the later page wins.
          series.set(minuteStartMs, values[i]!);
        });
        lastStatus.set(result.Id!, result.StatusCode ?? 'Complete');
        for (const message of result.Messages ?? []) addMessage(out.messages, `${result.Id}: ${message.Code ?? ''} ${message.Value ?? ''}`.trim());
      }
      for (const message of page.Messages ?? []) addMessage(out.messages, `${message.Code ?? ''} ${message.Value ?? ''}`.trim());
      token = page.NextToken || undefined;
      if (token !== undefined) {
        if (seenTokens.has(token)) throw new CloudWatchError('BadResponse', 'GetMetricData sent the same NextToken twice');
        seenTokens.add(token);
      }
    } while (token !== undefined);
  }
  for (const [id, status] of lastStatus) {
    if (status !== 'Complete') out.incomplete.push({ id, status: status === 'PartialData' ? 'PartialData with no NextToken left' : status });
  }
  return out;
}

function toSdkQuery(query: MetricQuery): MetricDataQuery {
  return {
    Id: query.id,
    MetricStat: {
      Metric: { Namespace: query.namespace, MetricName: query.metricName, Dimensions: query.dimensions.map((d) => ({ Name: d.name, Value: d.value })) },
      Period: query.periodSec,
      Stat: query.stat,
    },
    ReturnData: true,
  };
}

function addMessage(messages: string[], message: string): void {
  if (message && !messages.includes(message)) messages.push(message);
}
