import type { FetchedMetrics, FetchWindow, UnavailableGroup } from '../../cloudwatch/fetch.js';
import { API_SCOPE, GROUP_LABEL, type MetricQuery, type MetricRole } from '../../cloudwatch/queries.js';
import { MINUTE_MS } from '../../engine/minute-ledger.js';
import type { MetricsPolicy } from '../../policy/types.js';
import { mermaidXyChart } from '../../report/charts.js';
import { clock, fmt } from './format.js';
import { byMinute, type Bounds, type CloudWatchMinute, type MinuteRow, type Reconciliation } from './reconcile.js';

// ---------------------------------------------------------------------------------------------
// Rendering: a table per minute and a chart, in the check's `details`

const STATE_MARK: Record<MinuteRow['state'], string> = { match: '✅ match', deficit: '❌ short', excess: '❔ excess', missing: '⏳ missing', idle: '— idle' };

export function renderDetails(r: Reconciliation, fetched: FetchedMetrics, queries: readonly MetricQuery[], metrics: MetricsPolicy, websocket: boolean): string {
  if (websocket) return renderPullDetails(byMinute(fetched, queries, API_SCOPE), { startMs: r.rows[0]!.minuteStartMs, endMs: r.rows[r.rows.length - 1]!.minuteStartMs + MINUTE_MS }, 'WEBSOCKET');
  const waf = metrics.cloudwatch.waf !== undefined;
  const cw = cwCell(fetched.unavailable);
  // Minutes of the window where nothing happened on either side say nothing: left out of the table and chart.
  const shown = r.rows.filter((row) => row.state !== 'idle' || row.client.transportErrors > 0);
  const header = ['Minute (UTC)', 'Answered (client)', 'Count (CW)', '4xx / 429 (client)', '4XX (CW)', '5xx (client)', '5XX (CW)', ...(waf ? ['WAF blocks (client / CW)'] : []), 'p50 ms (client / CW)', 'p99 ms (client / CW)', 'Result'];
  const rows = shown.map((row) => {
    const c = row.client;
    const v = row.cloudwatch;
    const range = (b: Bounds | undefined) => (b ? ` [${b.lower}–${b.upper}]` : '');
    return [
      clock(row.minuteStartMs),
      `${c.completed}${c.transportErrors ? ` (+${c.transportErrors} no answer)` : ''}`,
      `${fmt(v.count)}${range(row.bounds.count)}`,
      `${c.status4xx} / ${c.status429}`,
      `${fmt(v.error4xx)}${range(row.bounds.error4xx)}`,
      String(c.status5xx),
      `${fmt(v.error5xx)}${range(row.bounds.error5xx)}`,
      ...(waf ? [`${c.wafBlocks} / ${cw(v, 'wafBlocked')}`] : []),
      `${fmt(c.latency.p50Ms)} / ${cw(v, 'latencyP50')}`,
      `${fmt(c.latency.p99Ms)} / ${cw(v, 'latencyP99')}`,
      STATE_MARK[row.state],
    ];
  });
  const lines = [
    '**CloudWatch vs client, per minute**',
    '',
    table([header, ...rows]),
    '',
    `_[lower–upper]: the range CloudWatch's value may take given what the client saw (429s and WAF blocks may be missing from AWS metrics; requests within ${metrics.tolerance.clockSkewMs} ms of a minute edge may be counted in the neighbour minute; transport errors may have been counted). Client latency runs from the socket hand-off to the response head, so it includes the network; CloudWatch's does not._`,
    '',
  ];
  lines.push(...unavailableLines(fetched.unavailable));
  if (r.routes.length) {
    lines.push('**Per route (detailed metrics, minutes with data)**', '', table([['Route', 'Answered (client)', 'Count (CW)', '4xx (client)', '4XX (CW)', '5xx (client)', '5XX (CW)'], ...r.routes.map((route) => [`\`${route.route}\``, String(route.client.completed), `${fmt(route.bounds.count?.cloudwatch)}${route.bounds.count ? ` [${route.bounds.count.lower}–${route.bounds.count.upper}]` : ''}`, String(route.client.status4xx), fmt(route.bounds.error4xx?.cloudwatch), String(route.client.status5xx), fmt(route.bounds.error5xx?.cloudwatch)])]), '');
  }
  const info = r.findings.filter((f) => f.kind === 'latency-outside');
  if (info.length) lines.push(...info.map((f) => `- ${f.text}`), '');
  if (fetched.messages.length) lines.push(`CloudWatch messages: ${fetched.messages.join('; ')}`, '');
  lines.push(
    mermaidXyChart({
      title: 'Requests per minute: client (bars) vs CloudWatch Count (line)',
      xLabel: 'minute (UTC)',
      xTicks: shown.map((row) => clock(row.minuteStartMs)),
      yLabel: 'requests',
      series: [
        { type: 'bar', name: 'answered, seen by the client', values: shown.map((row) => row.client.completed) },
        { type: 'line', name: 'CloudWatch Count', values: shown.map((row) => row.cloudwatch.count ?? 0) },
      ],
    }),
  );
  return lines.join('\n');
}

/** The pull table's columns after the counts, in order. */
const LATER_COLUMNS: MetricRole[] = ['latencyP50', 'latencyP99', 'integrationLatencyP99', 'wafBlocked'];

export function renderPullDetails(
  minutes: Map<number, CloudWatchMinute>,
  window: FetchWindow,
  type: string,
  unavailable: readonly UnavailableGroup[] = [],
): string {
  const ticks: number[] = [];
  for (let m = window.startMs; m < window.endMs; m += MINUTE_MS) ticks.push(m);
  const ws = type === 'WEBSOCKET';
  const header = ws ? ['Minute (UTC)', 'ConnectCount', 'MessageCount', 'ClientError', 'IntegrationError', 'ExecutionError'] : ['Minute (UTC)', 'Count', '4XX', '5XX', 'Latency p50 ms', 'Latency p99 ms', 'IntegrationLatency p99 ms', 'WAF blocked'];
  const shown = ticks.filter((m) => minutes.has(m));
  const cw = cwCell(unavailable);
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
    ...unavailableLines(unavailable),
    mermaidXyChart({
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
    }),
  ].join('\n');
}

/** A CloudWatch cell: `n/a` for a metric the endpoint could not serve, so it never reads as "no datapoint". */
function cwCell(unavailable: readonly UnavailableGroup[]): (minute: CloudWatchMinute, role: MetricRole) => string {
  const missing = new Set(unavailable.flatMap((u) => u.roles));
  return (minute, role) => (missing.has(role) ? 'n/a' : fmt(minute[role]));
}

function unavailableLines(unavailable: readonly UnavailableGroup[]): string[] {
  if (unavailable.length === 0) return [];
  // The endpoint's words may hold HTML (moto answers a 500 page): shown, never interpreted.
  const items = unavailable.map((u) => `- ${u.metrics.join(', ')} (${GROUP_LABEL[u.group]}): ${escapeHtml(u.error)}`);
  return ['**Not available from this endpoint** (n/a above; not reconciled):', '', ...items, ''];
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function table(rows: string[][]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return [`| ${rows[0]!.map(cell).join(' | ')} |`, `| ${rows[0]!.map(() => '---').join(' | ')} |`, ...rows.slice(1).map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}
