import type { FetchWindow } from '../../cloudwatch/fetch.js';
import type { MetricRole } from '../../cloudwatch/queries.js';
import type { AnyMetricsObserved, CloudWatchMinuteData, MetricsMinuteData, MetricsRouteData } from '../../checks/metrics/observed.js';
import type { Bounds, CloudWatchMinute } from '../../checks/metrics/reconcile.js';
import type { CheckResult } from '../../checks/types.js';
import { clock, fmt } from '../../util/format.js';
import { MINUTE_MS } from '../../util/time.js';
import { chartFile, chartImage, type ReportChart, type XyChart } from '../charts.js';
import { escapeHtml, keyValueTable } from './table.js';

/**
 * The metrics check's section: the summary fields as the key/value table, then CloudWatch next
 * to the client per minute (a table with the range each value may take, and a chart: charts/<check>.svg;
 * a WebSocket API's with its own counters), or for the pull CloudWatch's minutes alone.
 */

/** Observed fields this renderer draws as tables and charts, kept out of the key/value table. */
const DRAWN = new Set(['perMinute', 'perRoute', 'cloudwatchMinutes', 'windowMs', 'notAvailable']);

export function renderMetrics(result: CheckResult): string[] {
  const observed = result.observed as AnyMetricsObserved;
  const summary = Object.fromEntries(Object.entries(result.observed).filter(([key]) => !DRAWN.has(key)));
  const lines = [keyValueTable(summary), ''];
  const notAvailable = new Set(observed.notAvailable ?? []);
  if (observed.cloudwatchMinutes?.length && observed.windowMs) {
    lines.push(...cloudwatchAlone(result, observed.cloudwatchMinutes, observed.windowMs, notAvailable), '');
  } else if (observed.perMinute && observed.perMinute.length > 0 && observed.apiType === 'WEBSOCKET') {
    lines.push(...wsReconciliation(observed, observed.perMinute), '');
  } else if (observed.perMinute && observed.perMinute.length > 0) {
    const clockSkewMs = typeof result.expected.clockSkewMs === 'number' ? result.expected.clockSkewMs : undefined;
    lines.push(...reconciliation(result, observed.perMinute, notAvailable, clockSkewMs), '');
  }
  return lines;
}

const STATE_MARK: Record<MetricsMinuteData['state'], string> = {
  match: '✅ match',
  deficit: '❌ short',
  excess: '❔ excess',
  missing: '⏳ missing',
  idle: '— idle',
};

function reconciliation(
  result: CheckResult,
  rows: MetricsMinuteData[],
  notAvailable: Set<MetricRole>,
  clockSkewMs: number | undefined,
): string[] {
  const observed = result.observed as AnyMetricsObserved;
  const waf = observed.cloudwatch?.wafBlocked !== undefined;
  const cw = cwCell(notAvailable);
  const shown = shownMinutes(rows);
  const header = [
    'Minute (UTC)',
    'Answered (client)',
    'Count (CW)',
    '4xx / 429 (client)',
    '4XX (CW)',
    '5xx (client)',
    '5XX (CW)',
    ...(waf ? ['WAF blocks (client / CW)'] : []),
    'p50 ms (client / CW)',
    'p99 ms (client / CW)',
    'Result',
  ];
  const range = (b: Bounds | undefined) => (b ? ` [${b.lower}–${b.upper}]` : '');
  const body = shown.map((row) => {
    const c = row.client;
    const v = row.cloudwatch;
    return [
      clock(row.minuteStartMs),
      `${c.completed}${c.transportErrors ? ` (+${c.transportErrors} no answer)` : ''}`,
      `${fmt(v.count)}${range(row.bounds.count)}`,
      `${c.status4xx} / ${c.status429}`,
      `${fmt(v.error4xx)}${range(row.bounds.error4xx)}`,
      String(c.status5xx),
      `${fmt(v.error5xx)}${range(row.bounds.error5xx)}`,
      ...(waf ? [`${c.wafBlocks} / ${cw(v, 'wafBlocked')}`] : []),
      `${fmt(c.p50Ms ?? undefined)} / ${cw(v, 'latencyP50')}`,
      `${fmt(c.p99Ms ?? undefined)} / ${cw(v, 'latencyP99')}`,
      STATE_MARK[row.state],
    ];
  });
  const skew = clockSkewMs === undefined ? 'the clock skew' : `${clockSkewMs} ms`;
  const lines = [
    '**CloudWatch vs client, per minute**',
    '',
    table([header, ...body]),
    '',
    "_[lower–upper]: the range CloudWatch's value may take given what the client saw (429s and WAF blocks may be missing from " +
      `AWS metrics; requests within ${skew} of a minute edge may be counted in the neighbour minute; transport errors may have ` +
      'been counted). Client latency runs from the socket hand-off to the response head, so it includes the network; ' +
      "CloudWatch's does not._",
    '',
    ...unavailableLines(observed),
    ...routeLines(observed.perRoute ?? []),
  ];
  const lead = 'latency-outside: ';
  const outside = (observed.findings ?? []).filter((f) => f.startsWith(lead)).map((f) => f.slice(lead.length));
  if (outside.length) lines.push(...outside.map((text) => `- ${text}`), '');
  if (observed.messages?.length) lines.push(`CloudWatch messages: ${observed.messages.join('; ')}`, '');
  lines.push(...metricsCharts(result).map(chartImage));
  return lines;
}

/** A WebSocket API's minutes: upgrades and messages the client saw next to ConnectCount, MessageCount, ClientError. */
function wsReconciliation(observed: AnyMetricsObserved, rows: MetricsMinuteData[]): string[] {
  const header = [
    'Minute (UTC)',
    'Opened / refused upgrades (client)',
    'ConnectCount (CW)',
    'Messages answered / throttled (client)',
    'MessageCount (CW)',
    'ClientError (CW)',
    'IntegrationError / ExecutionError (CW)',
    'Result',
  ];
  const range = (b: Bounds | undefined) => (b ? ` [${b.lower}–${b.upper}]` : '');
  const body = shownMinutes(rows).map((row) => {
    const v = row.cloudwatch;
    const b = row.bounds;
    // The lane's 429s are the throttled messages (an upgrade refused with 429 is rare and counts here too).
    const throttled = row.client.status429;
    return [
      clock(row.minuteStartMs),
      `${b.connectCount?.client ?? '—'} / ${b.clientError?.client ?? '—'}`,
      `${fmt(v.connectCount)}${range(b.connectCount)}`,
      `${b.messageCount?.client ?? '—'} / ${throttled}`,
      `${fmt(v.messageCount)}${range(b.messageCount)}`,
      `${fmt(v.clientError)}${range(b.clientError)}`,
      `${fmt(v.integrationError)} / ${fmt(v.executionError)}`,
      STATE_MARK[row.state],
    ];
  });
  return [
    '**CloudWatch vs client (WebSocket API), per minute**',
    '',
    table([header, ...body]),
    '',
    "_[lower–upper]: the range CloudWatch's value may take given what the client saw: a refused upgrade may or may not " +
      'count in ConnectCount; MessageCount counts messages "from or to the client", so up to twice the messages; throttled ' +
      'messages may be missing from ClientError, as excessive 429s are. IntegrationError and ExecutionError are shown, not reconciled._',
    '',
    ...unavailableLines(observed),
  ];
}

function routeLines(routes: MetricsRouteData[]): string[] {
  if (routes.length === 0) return [];
  const counted = (b: Bounds | undefined) => `${fmt(b?.cloudwatch)}${b ? ` [${b.lower}–${b.upper}]` : ''}`;
  const header = ['Route', 'Answered (client)', 'Count (CW)', '4xx (client)', '4XX (CW)', '5xx (client)', '5XX (CW)'];
  const rows = routes.map((r) => [
    `\`${r.route}\``,
    String(r.client.answered),
    counted(r.bounds.count),
    String(r.client.status4xx),
    fmt(r.bounds.error4xx?.cloudwatch),
    String(r.client.status5xx),
    fmt(r.bounds.error5xx?.cloudwatch),
  ]);
  return ['**Per route (detailed metrics, minutes with data)**', '', table([header, ...rows]), ''];
}

/** The pull table's columns after the counts, in order. */
const LATER_COLUMNS: MetricRole[] = ['latencyP50', 'latencyP99', 'integrationLatencyP99', 'wafBlocked'];

function cloudwatchAlone(result: CheckResult, data: CloudWatchMinuteData[], window: FetchWindow, notAvailable: Set<MetricRole>): string[] {
  const observed = result.observed as AnyMetricsObserved;
  const minutes = new Map(data.map((m) => [m.minuteStartMs, m]));
  const ticks = windowMinutes(window);
  const ws = observed.apiType === 'WEBSOCKET';
  const header = ws
    ? ['Minute (UTC)', 'ConnectCount', 'MessageCount', 'ClientError', 'IntegrationError', 'ExecutionError']
    : ['Minute (UTC)', 'Count', '4XX', '5XX', 'Latency p50 ms', 'Latency p99 ms', 'IntegrationLatency p99 ms', 'WAF blocked'];
  const shown = ticks.filter((m) => minutes.has(m));
  const cw = cwCell(notAvailable);
  const rows = shown.map((m) => {
    const v = minutes.get(m)!;
    return ws
      ? [clock(m), fmt(v.connectCount), fmt(v.messageCount), fmt(v.clientError), fmt(v.integrationError), fmt(v.executionError)]
      : [clock(m), fmt(v.count), fmt(v.error4xx), fmt(v.error5xx), ...LATER_COLUMNS.map((role) => cw(v, role))];
  });
  return [
    `**CloudWatch, per minute (${shown.length} of ${ticks.length} minutes have data)**`,
    '',
    table([header, ...rows]),
    '',
    ...unavailableLines(observed),
    ...metricsCharts(result).map(chartImage),
  ];
}

/** Minutes of the window where nothing happened on either side say nothing: left out of the table and chart. */
function shownMinutes(rows: MetricsMinuteData[]): MetricsMinuteData[] {
  return rows.filter((row) => row.state !== 'idle' || row.client.transportErrors > 0);
}

function windowMinutes(window: FetchWindow): number[] {
  const ticks: number[] = [];
  for (let m = window.startMs; m < window.endMs; m += MINUTE_MS) ticks.push(m);
  return ticks;
}

/** The metrics check's chart: client vs CloudWatch per minute, or CloudWatch's minutes alone. */
export function metricsCharts(result: CheckResult): ReportChart[] {
  const observed = result.observed as AnyMetricsObserved;
  const chart =
    observed.cloudwatchMinutes?.length && observed.windowMs
      ? cloudwatchChart(observed.cloudwatchMinutes, observed.windowMs, observed.apiType === 'WEBSOCKET')
      : observed.perMinute?.length
        ? observed.apiType === 'WEBSOCKET'
          ? wsChart(shownMinutes(observed.perMinute))
          : reconciliationChart(shownMinutes(observed.perMinute))
        : undefined;
  return chart ? [{ file: chartFile(result.id), alt: `metrics ${result.route}`, chart }] : [];
}

function reconciliationChart(shown: MetricsMinuteData[]): XyChart {
  return {
    title: 'Requests per minute: client (bars) vs CloudWatch Count (line)',
    xLabel: 'minute (UTC)',
    xTicks: shown.map((row) => clock(row.minuteStartMs)),
    yLabel: 'requests',
    series: [
      { type: 'bar', name: 'answered, seen by the client', values: shown.map((row) => row.client.completed) },
      { type: 'line', name: 'CloudWatch Count', values: shown.map((row) => row.cloudwatch.count ?? 0) },
    ],
  };
}

function wsChart(shown: MetricsMinuteData[]): XyChart {
  return {
    title: 'WebSocket messages per minute: answered by the route, client (bars) vs CloudWatch MessageCount (line)',
    xLabel: 'minute (UTC)',
    xTicks: shown.map((row) => clock(row.minuteStartMs)),
    yLabel: 'messages',
    series: [
      { type: 'bar', name: 'answered, seen by the client', values: shown.map((row) => row.bounds.messageCount?.client ?? 0) },
      { type: 'line', name: 'CloudWatch MessageCount', values: shown.map((row) => row.cloudwatch.messageCount ?? 0) },
    ],
  };
}

function cloudwatchChart(data: CloudWatchMinuteData[], window: FetchWindow, ws: boolean): XyChart {
  const minutes = new Map(data.map((m) => [m.minuteStartMs, m]));
  const ticks = windowMinutes(window);
  return {
    title: ws ? 'ConnectCount per minute' : 'CloudWatch Count (bars) and 4XX (line) per minute',
    xLabel: 'minute (UTC)',
    xTicks: ticks.map(clock),
    yLabel: ws ? 'connections' : 'requests',
    series: ws
      ? [{ type: 'bar', name: 'ConnectCount', values: ticks.map((m) => minutes.get(m)?.connectCount ?? 0) }]
      : [
          { type: 'bar', name: 'Count', values: ticks.map((m) => minutes.get(m)?.count ?? 0) },
          { type: 'line', name: '4XX', values: ticks.map((m) => minutes.get(m)?.error4xx ?? 0) },
        ],
  };
}

/** A CloudWatch cell: `n/a` for a metric the endpoint could not serve, so it never reads as "no datapoint". */
function cwCell(notAvailable: Set<MetricRole>): (minute: CloudWatchMinute, role: MetricRole) => string {
  return (minute, role) => (notAvailable.has(role) ? 'n/a' : fmt(minute[role]));
}

function unavailableLines(observed: AnyMetricsObserved): string[] {
  const unavailable = observed.unavailable ?? [];
  if (unavailable.length === 0) return [];
  // The endpoint's words may hold HTML (moto answers a 500 page): shown, never interpreted.
  const items = unavailable.map((u) => `- ${u.metrics.join(', ')} (${u.group}): ${escapeHtml(u.error)}`);
  return ['**Not available from this endpoint** (n/a above; not reconciled):', '', ...items, ''];
}

function table(rows: string[][]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const [head, ...body] = rows;
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(head!), `| ${head!.map(() => '---').join(' | ')} |`, ...body.map(line)].join('\n');
}
