import type { FetchWindow } from '../../cloudwatch/fetch.js';
import type { MetricRole } from '../../cloudwatch/queries.js';
import { emptyCounts, WS_CONNECT, WS_MESSAGE, type MinuteCounts, type MinuteSnapshot } from '../../engine/minute-ledger.js';
import type { UnavailableData } from './cloudwatch-read.js';
import {
  addCounts,
  byMinute,
  totals,
  wsTotals,
  type Bounds,
  type CounterKey,
  type CloudWatchMinute,
  type MinuteRow,
  type Reconciliation,
} from './reconcile.js';
import type { FetchedMetrics } from '../../cloudwatch/fetch.js';
import type { MetricQuery } from '../../cloudwatch/queries.js';
import { isoMinute } from '../../util/format.js';

/**
 * report.json's `observed` for the metrics kind, as data: the summary fields a reviewer reads in
 * the key/value table, and the per-minute rows the report renderer (src/report/render/metrics.ts)
 * turns into the table and the chart.
 */

/** One minute of the reconciliation: what the client saw, what CloudWatch said, the range allowed. */
export interface MetricsMinuteData {
  minute: string;
  minuteStartMs: number;
  state: MinuteRow['state'];
  client: Omit<MinuteCounts, 'edgePrev' | 'edgeNext'> & { p50Ms: number | null; p99Ms: number | null };
  cloudwatch: CloudWatchMinute;
  bounds: Partial<Record<CounterKey, Bounds>>;
}

/** A route's totals over the compared minutes (detailed metrics). */
export interface MetricsRouteData {
  route: string;
  client: { answered: number; status4xx: number; status5xx: number };
  bounds: Partial<Record<'count' | 'error4xx' | 'error5xx', Bounds>>;
}

/** CloudWatch's numbers of one minute, alone (the pull). */
export type CloudWatchMinuteData = { minuteStartMs: number } & CloudWatchMinute;

/** The run reconciled with CloudWatch. */
export type ReconciledObserved = {
  minutes: number;
  comparedMinutes: number;
  missingMinutes: string[];
  /** HTTP/REST APIs: the client's requests; WebSocket APIs: its upgrades and messages (WsClientTotals). */
  client: HttpClientTotals | WsClientTotals;
  cloudwatch: Partial<Record<CounterKey, number>>;
  findings: string[];
  polls: number;
  waitedSec: number;
  pages: number;
  sdkAttempts: number;
  unavailable?: UnavailableData[];
  messages?: string[];
  window: string;
  apiType: string;
  perMinute: MetricsMinuteData[];
  perRoute: MetricsRouteData[];
  /** Roles the endpoint could not serve: `n/a` in the tables, never "no datapoint". */
  notAvailable?: MetricRole[];
  /** Reports before WebSocket reconciliation: a WebSocket API's CloudWatch minutes, shown as they were. */
  cloudwatchMinutes?: CloudWatchMinuteData[];
  windowMs?: FetchWindow;
};

export interface HttpClientTotals {
  answered: number;
  status4xx: number;
  status429: number;
  status5xx: number;
  transportErrors: number;
  wafBlocks: number;
}

/** A WebSocket API's client side over the compared minutes (the ledger's WebSocket lane). */
export interface WsClientTotals {
  /** Upgrades answered 101. */
  connectionsOpened: number;
  /** Upgrades refused with a 4xx other than 429 ($connect auth). */
  upgradesRefused: number;
  /** Messages answered by the route. */
  messagesAnswered: number;
  /** Messages refused by the throttle (gateway frames "Too Many Requests"). */
  messagesThrottled: number;
  /** Messages answered by another gateway error frame (Internal server error). */
  messagesErrored: number;
  /** Upgrades and messages without an answer (timeout, reset, a socket closed instead: 1009). */
  noAnswer: number;
}

/** CloudWatch could not be read. */
export type FailureObserved = { error: string; awsCode?: string; sdkAttempts?: number };

/** `gatecheck metrics`: CloudWatch alone. */
export type PullObserved = {
  minutesWithData: number;
  pages: number;
  sdkAttempts: number;
  polls: number;
  incomplete?: string[];
  messages?: string[];
  unavailable?: UnavailableData[];
  apiType: string;
  window: string;
  windowMs: FetchWindow;
  cloudwatchMinutes: CloudWatchMinuteData[];
  notAvailable?: MetricRole[];
};

/** What every metrics result's observed may hold, for the renderer. */
export type AnyMetricsObserved = Partial<ReconciledObserved> & Partial<PullObserved> & Partial<FailureObserved>;

/** The data part of observed: per-minute and per-route rows. */
export function reconciliationData(r: Reconciliation): Pick<ReconciledObserved, 'perMinute' | 'perRoute'> {
  return {
    perMinute: r.rows.map((row) => ({
      minute: isoMinute(row.minuteStartMs),
      minuteStartMs: row.minuteStartMs,
      state: row.state,
      client: clientData(row.client),
      cloudwatch: row.cloudwatch,
      bounds: row.bounds,
    })),
    perRoute: r.routes.map((route) => ({
      route: route.route,
      client: { answered: route.client.completed, status4xx: route.client.status4xx, status5xx: route.client.status5xx },
      bounds: route.bounds,
    })),
  };
}

function clientData(m: MinuteSnapshot): MetricsMinuteData['client'] {
  const { completed, status2xx, status4xx, status429, status5xx, transportErrors, wafBlocks } = m;
  const latency = { p50Ms: m.latency.p50Ms ?? null, p99Ms: m.latency.p99Ms ?? null };
  return { completed, status2xx, status4xx, status429, status5xx, transportErrors, wafBlocks, ...latency };
}

/** CloudWatch's API-wide minutes, oldest first. */
export function cloudwatchMinutes(fetched: FetchedMetrics, queries: readonly MetricQuery[], scope: string): CloudWatchMinuteData[] {
  const minutes = [...byMinute(fetched, queries, scope).entries()].sort(([a], [b]) => a - b);
  return minutes.map(([minuteStartMs, values]) => ({ minuteStartMs, ...values }));
}

/** The summary totals of a WebSocket API over the compared minutes. */
export function wsTotalsData(r: Reconciliation): Pick<ReconciledObserved, 'client' | 'cloudwatch'> {
  const connect = emptyCounts();
  const message = emptyCounts();
  for (const row of r.rows) {
    if (row.state === 'missing' || row.state === 'idle') continue;
    addCounts(connect, row.client.routes[WS_CONNECT] ?? emptyCounts());
    addCounts(message, row.client.routes[WS_MESSAGE] ?? emptyCounts());
  }
  const w = wsTotals(r.rows);
  return {
    client: {
      connectionsOpened: connect.completed - connect.status4xx - connect.status5xx,
      upgradesRefused: connect.status4xx - connect.status429,
      messagesAnswered: message.status2xx,
      messagesThrottled: message.status429,
      messagesErrored: message.status5xx,
      noAnswer: connect.transportErrors + message.transportErrors,
    },
    cloudwatch: { connectCount: w.connectCount.cloudwatch, messageCount: w.messageCount.cloudwatch, clientError: w.clientError.cloudwatch },
  };
}

/** The summary totals over the compared minutes. */
export function totalsData(r: Reconciliation, waf: boolean): Pick<ReconciledObserved, 'client' | 'cloudwatch'> {
  const t = totals(r.rows);
  const { completed: answered, status4xx, status429, status5xx, transportErrors, wafBlocks } = t.client;
  return {
    client: { answered, status4xx, status429, status5xx, transportErrors, wafBlocks },
    cloudwatch: waf ? t.cw : { count: t.cw.count, error4xx: t.cw.error4xx, error5xx: t.cw.error5xx },
  };
}
