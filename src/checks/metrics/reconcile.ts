import { API_SCOPE, type MetricQuery, type MetricRole } from '../../cloudwatch/queries.js';
import type { FetchedMetrics, UnavailableGroup } from '../../cloudwatch/fetch.js';
import { emptyCounts, WS_CONNECT, WS_MESSAGE, type MinuteCounts, type MinuteSnapshot } from '../../engine/minute-ledger.js';
import type { MetricsTolerance } from '../../policy/types.js';
import type { FindingDraft } from '../contract.js';
import type { CheckStatus } from '../types.js';
import { metricsFindings } from './graded.js';
import { clock, fmt } from '../../util/format.js';

/**
 * The `metrics` check: after every other check, the gateway's own CloudWatch metrics for the
 * run's minutes are laid next to what the client saw in the same minutes (engine/minute-ledger).
 *
 * For each minute and each counter, CloudWatch's value must fall in [lower, upper]:
 *
 *   tol(c)  = max(countAbsolute, ⌈countRelative · c⌉)
 *   edgeOut = requests of this minute that may be filed in a neighbour (within clockSkewMs of an edge)
 *   edgeIn  = requests of the neighbours that may be filed in this one
 *
 *   Count     lower = completed − 429s − WAF blocks − edgeOut − tol     upper = completed + transport errors + edgeIn + tol
 *   4XXError  lower = 4xx − 429s − WAF blocks − edgeOut − tol           upper = 4xx + transport errors + edgeIn + tol
 *   5XXError  lower = 5xx − edgeOut − tol                               upper = 5xx + transport errors + edgeIn + tol
 *   WAF Blocked lower = blocks − edgeOut − tol (Rule ALL; 0 for one rule)  upper = 4xx + transport errors + edgeIn + tol
 *
 * 429s may be missing: AWS documents that "excessive" 429s can be left out of the metrics.
 * WAF blocks may be missing from AWS/ApiGateway: whether a request the web ACL blocked reaches
 * API Gateway's metrics is not documented, so it is allowed either way. A transport error (a
 * timeout, a reset) may have been answered and counted by the gateway, so it widens the upper
 * bound only.
 *
 * Below the lower bound (a deficit) the gateway's metrics miss traffic that did happen: alarms
 * and dashboards built on them are blind to it. That is a `fail` with a `medium` finding, so it
 * fails the gate at `--fail-on medium` and passes the default one with the finding listed (for
 * 5XXError, which AWS also says may be incomplete, `inconclusive`; graded.ts has the severities).
 * Above the upper bound (an excess) CloudWatch saw requests gatecheck did not send: someone else
 * shares the stage, so nothing can be concluded: `inconclusive`, never `pass`, never `fail` (the
 * gateway did nothing wrong).
 *
 * Latency: CloudWatch's Latency runs from the gateway receiving the request to it answering;
 * the client's (here: socket hand-off to response head, not from the schedule) adds the network
 * and TLS both ways. The network share is estimated as max(0, client p50 − CloudWatch p50), so
 * the gateway's p99 should be about client p99 − network. CloudWatch p99 above client p99 +
 * max(latencyMs, latencyRelative · client p99) is impossible for the same requests (other
 * traffic): `inconclusive`. Far below is information (time spent outside the gateway).
 *
 * Missing minutes (the client was busy, CloudWatch has no datapoint after the wait) make the
 * check `inconclusive`; no datapoint at all is `error` (wrong name, stage or Region; metrics
 * off), as is any failure to call CloudWatch. No data is never a pass.
 *
 * An endpoint that cannot serve a query group (moto and LocalStack fail on percentiles) leaves
 * its metrics unreconciled, named in every verdict. Without percentiles Count, 4XX and 5XX are
 * still what the check is for, so they decide (the latency comparison is one refinement among
 * them); without the web ACL's metrics, which the policy asked for, the check is `inconclusive`;
 * without the counts there is nothing to reconcile (`error`, decided in metrics/check.ts).
 *
 * WebSocket APIs (ReconcileOptions.websocket) are reconciled with the ledger's WebSocket lane,
 * by the same minutes, edges, tolerance and verdict rules, on their own counters (c = upgrades,
 * m = messages, as engine/minute-ledger.ts files them):
 *
 *   ConnectCount  lower = c opened (101) − edgeOut − tol                  upper = c answered + c no answer + edgeIn + tol
 *   MessageCount  lower = m answered by the route − edgeOut − tol
 *                 upper = 2 · (m answered + m no answer) + c answered + c no answer + edgeIn + tol
 *   ClientError   lower = c refused (4xx but 429) − edgeOut − tol
 *                 upper = c 4xx + m throttled (429) + c, m no answer + edgeIn + tol
 *
 * AWS documents ConnectCount as the messages sent to the $connect route integration (a refused
 * upgrade may or may not count), MessageCount as the messages sent to the API "either from or to
 * the client" (so an echoed answer may count twice, and the $connect itself may count), and
 * ClientError as the 4xx the gateway answered before the integration: refused upgrades must be
 * there; throttled messages may be left out like HTTP's "excessive" 429s. A message that closed
 * the socket (1009) or got no answer widens the upper bounds only.
 */
// ---------------------------------------------------------------------------------------------
// Data

/** CloudWatch's numbers for one minute, by role (undefined: no datapoint). */
export type CloudWatchMinute = Partial<Record<MetricRole, number>>;

export type DiscrepancyKind = 'deficit' | 'deficit5xx' | 'excess' | 'missing' | 'latency-excess' | 'latency-outside';

/**
 * One place where CloudWatch and the client disagree, or could not be compared. Internal to the
 * reconciliation: the check's graded findings (metricsFindings) group these by kind, metric and scope.
 */
export interface Discrepancy {
  kind: DiscrepancyKind;
  /** Minute start (epoch ms), or undefined for a whole-window (per-route) one. */
  minuteStartMs?: number;
  /** `*` or a route key. */
  scope: string;
  /** `Count`, `4XXError`, `Latency p99`... */
  metric: string;
  text: string;
}

export interface Bounds {
  client: number;
  lower: number;
  upper: number;
  cloudwatch?: number;
}

/** The counters reconciled per minute: HTTP/REST ones, then the WebSocket ones. */
export type HttpCounterKey = 'count' | 'error4xx' | 'error5xx' | 'wafBlocked';
export type WsCounterKey = 'connectCount' | 'messageCount' | 'clientError';
export type CounterKey = HttpCounterKey | WsCounterKey;

export interface MinuteRow {
  minuteStartMs: number;
  client: MinuteSnapshot;
  cloudwatch: CloudWatchMinute;
  /** Count, 4xx, 5xx, WAF bounds (WebSocket: ConnectCount, MessageCount, ClientError); undefined without a datapoint. */
  bounds: Partial<Record<CounterKey, Bounds>>;
  state: 'match' | 'deficit' | 'excess' | 'missing' | 'idle';
}

export interface RouteRow {
  route: string;
  client: MinuteCounts;
  bounds: Partial<Record<'count' | 'error4xx' | 'error5xx', Bounds>>;
}

export interface Reconciliation {
  rows: MinuteRow[];
  routes: RouteRow[];
  discrepancies: Discrepancy[];
  /** Minutes where CloudWatch had data and the numbers were compared. */
  comparedMinutes: number;
  /** True when CloudWatch has at least one datapoint of the API's request count. */
  anyData: boolean;
}

export interface ReconcileOptions {
  tolerance: MetricsTolerance;
  /** Names of the counters in this API type (`4XXError` for REST, `4xx` for HTTP). */
  names: { error4xx: string; error5xx: string };
  /** The web ACL is reconciled (a `waf` block in the policy). */
  waf?: { rule: string };
  /** Detailed metrics: per-route CloudWatch minutes, keyed by route key. */
  routeMinutes?: Map<string, Map<number, CloudWatchMinute>>;
  /** A WebSocket API: the client minutes are the ledger's WebSocket lane, the counters wsMinuteBounds'. */
  websocket?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Maths (pure)

export function countTolerance(tolerance: MetricsTolerance, client: number): number {
  return Math.max(tolerance.countAbsolute, Math.ceil(tolerance.countRelative * client));
}

/** The [lower, upper] range CloudWatch's counters may take for one minute (see the file comment). */
export function minuteBounds(
  m: MinuteCounts,
  prev: MinuteCounts | undefined,
  next: MinuteCounts | undefined,
  tolerance: MetricsTolerance,
  wafRule?: string,
): Record<'count' | 'error4xx' | 'error5xx' | 'wafBlocked', Omit<Bounds, 'cloudwatch'>> {
  const edgeOut = m.edgePrev + m.edgeNext;
  const edgeIn = (prev?.edgeNext ?? 0) + (next?.edgePrev ?? 0);
  const range = (client: number, mayBeMissing: number, lowerBase = client) => {
    const tol = countTolerance(tolerance, client);
    return { client, lower: Math.max(0, lowerBase - mayBeMissing - edgeOut - tol), upper: client + m.transportErrors + edgeIn + tol };
  };
  const wafLower = wafRule === undefined || wafRule === 'ALL' ? m.wafBlocks : 0;
  const waf = range(m.status4xx, 0, wafLower);
  return {
    count: range(m.completed, m.status429 + m.wafBlocks),
    error4xx: range(m.status4xx, m.status429 + m.wafBlocks),
    error5xx: range(m.status5xx, 0),
    wafBlocked: { ...waf, client: m.wafBlocks },
  };
}

/** The [lower, upper] range of a WebSocket API's counters for one minute (see the file comment). */
export function wsMinuteBounds(
  m: MinuteSnapshot,
  prev: MinuteSnapshot | undefined,
  next: MinuteSnapshot | undefined,
  tolerance: MetricsTolerance,
): Record<WsCounterKey, Omit<Bounds, 'cloudwatch'>> {
  const route = (s: MinuteSnapshot | undefined, key: string) => s?.routes[key] ?? emptyCounts();
  const c = route(m, WS_CONNECT);
  const msg = route(m, WS_MESSAGE);
  const edgeOut = (r: MinuteCounts) => r.edgePrev + r.edgeNext;
  const edgeIn = (key: string) => route(prev, key).edgeNext + route(next, key).edgePrev;
  const range = (client: number, lowerOut: number, upper: number) => {
    const tol = countTolerance(tolerance, client);
    return { client, lower: Math.max(0, client - lowerOut - tol), upper: upper + tol };
  };
  const opened = c.completed - c.status4xx - c.status5xx;
  const refused = c.status4xx - c.status429;
  const connectSeen = c.completed + c.transportErrors + edgeIn(WS_CONNECT);
  const messagesSeen = msg.completed + msg.transportErrors + edgeIn(WS_MESSAGE);
  const noAnswer = c.transportErrors + msg.transportErrors;
  return {
    connectCount: range(opened, edgeOut(c), connectSeen),
    messageCount: range(msg.status2xx, edgeOut(msg), 2 * messagesSeen + connectSeen),
    clientError: range(refused, edgeOut(c), c.status4xx + msg.status429 + noAnswer + edgeIn(WS_CONNECT) + edgeIn(WS_MESSAGE)),
  };
}

/** Lays CloudWatch's minutes next to the client's; pure, so the maths is tested with tables. */
export function reconcile(
  client: readonly MinuteSnapshot[],
  cloudwatch: ReadonlyMap<number, CloudWatchMinute>,
  options: ReconcileOptions,
): Reconciliation {
  const { tolerance, names } = options;
  const discrepancies: Discrepancy[] = [];
  const rows: MinuteRow[] = [];
  let comparedMinutes = 0;
  const websocket = options.websocket === true;
  // A WebSocket API publishes no Count: ConnectCount or MessageCount is its datapoint.
  const hasData = (m: CloudWatchMinute) =>
    websocket ? m.connectCount !== undefined || m.messageCount !== undefined : m.count !== undefined;
  const anyData = [...cloudwatch.values()].some(hasData);
  // A web ACL with no datapoint at all (neither blocked nor allowed) is a wrong name or Region, not a deficit.
  const wafData = [...cloudwatch.values()].some((m) => m.wafBlocked !== undefined || m.wafAllowed !== undefined);
  const waf = options.waf && wafData ? options.waf : undefined;
  if (options.waf && !wafData && client.some((m) => m.wafBlocks > 0)) {
    discrepancies.push({
      kind: 'missing',
      scope: 'waf',
      metric: 'BlockedRequests',
      text:
        'no AWS/WAFV2 datapoint for the web ACL, though the client saw WAF blocks: ' +
        'check metrics.cloudwatch.waf.webAcl and the Region (regional web ACLs only)',
    });
  }

  client.forEach((m, i) => {
    const cw = cloudwatch.get(m.minuteStartMs) ?? {};
    const ranges = websocket
      ? wsMinuteBounds(m, client[i - 1], client[i + 1], tolerance)
      : minuteBounds(m, client[i - 1], client[i + 1], tolerance, waf?.rule);
    const row: MinuteRow = { minuteStartMs: m.minuteStartMs, client: m, cloudwatch: cw, bounds: {}, state: 'match' };
    rows.push(row);
    const at = clock(m.minuteStartMs);
    if (!hasData(cw)) {
      const expected = 'count' in ranges ? ranges.count.lower : Math.max(ranges.connectCount.lower, ranges.messageCount.lower);
      if (expected > 0) {
        row.state = 'missing';
        const seen = websocket
          ? `${m.routes[WS_CONNECT]?.completed ?? 0} upgrade(s) and ${m.routes[WS_MESSAGE]?.completed ?? 0} answered message(s)`
          : `${m.completed} request(s)`;
        discrepancies.push({
          kind: 'missing',
          minuteStartMs: m.minuteStartMs,
          scope: API_SCOPE,
          metric: websocket ? 'ConnectCount' : 'Count',
          text: `${at}: no CloudWatch datapoint, though the client completed ${seen}`,
        });
      } else row.state = 'idle';
      return;
    }
    comparedMinutes++;
    const counters: Array<[CounterKey, string, number | undefined]> =
      'count' in ranges
        ? [
            ['count', 'Count', cw.count],
            ['error4xx', names.error4xx, cw.error4xx ?? 0],
            ['error5xx', names.error5xx, cw.error5xx ?? 0],
          ]
        : [
            // A metric with no datapoint in a minute that has others had nothing to count.
            ['connectCount', 'ConnectCount', cw.connectCount ?? 0],
            ['messageCount', 'MessageCount', cw.messageCount ?? 0],
            ['clientError', 'ClientError', cw.clientError ?? 0],
          ];
    if (waf && !websocket) counters.push(['wafBlocked', 'BlockedRequests', cw.wafBlocked ?? 0]);
    for (const [key, metric, value] of counters) {
      const range = (ranges as Partial<Record<CounterKey, Omit<Bounds, 'cloudwatch'>>>)[key]!;
      const bounds: Bounds = { ...range, ...(value !== undefined ? { cloudwatch: value } : {}) };
      row.bounds[key] = bounds;
      const off = judge(bounds, key, metric, `${at}`, API_SCOPE, m.minuteStartMs);
      if (off) {
        discrepancies.push(off);
        if (row.state === 'match') row.state = off.kind === 'excess' ? 'excess' : 'deficit';
      }
    }
    const latency = websocket ? undefined : judgeLatency(m, cw, tolerance, at);
    if (latency) discrepancies.push(latency);
  });

  const routes = reconcileRoutes(client, rows, options, discrepancies);
  return { rows, routes, discrepancies, comparedMinutes, anyData };
}

/** What the client's number in a bound counts, for the discrepancy texts. */
const SEEN: Record<CounterKey, string> = {
  count: 'answered requests',
  error4xx: '4xx answers (429s included)',
  error5xx: '5xx answers',
  wafBlocked: 'WAF blocks',
  connectCount: 'opened WebSocket connections',
  messageCount: 'messages answered by the route',
  clientError: 'refused upgrades',
};

function judge(
  bounds: Bounds,
  key: CounterKey,
  metric: string,
  at: string,
  scope: string,
  minuteStartMs?: number,
): Discrepancy | undefined {
  const value = bounds.cloudwatch;
  if (value === undefined) return undefined;
  const where = minuteStartMs === undefined ? {} : { minuteStartMs };
  const seen = SEEN[key];
  if (value < bounds.lower) {
    const kind: DiscrepancyKind = key === 'error5xx' ? 'deficit5xx' : 'deficit';
    return {
      kind,
      ...where,
      scope,
      metric,
      text:
        `${at}: CloudWatch ${metric} ${fmt(value)} < ${bounds.lower}` +
        `, the least the client's ${bounds.client} ${seen} allow` +
        `${key === 'error5xx' ? ' (AWS says some 5xx may be missing from metrics)' : ''}`,
    };
  }
  if (value > bounds.upper) {
    return {
      kind: 'excess',
      ...where,
      scope,
      metric,
      text:
        `${at}: CloudWatch ${metric} ${fmt(value)} > ${bounds.upper}, the most the client's ${bounds.client} ${seen} allow` +
        `: someone else sends traffic to this stage`,
    };
  }
  return undefined;
}

function judgeLatency(m: MinuteSnapshot, cw: CloudWatchMinute, tolerance: MetricsTolerance, at: string): Discrepancy | undefined {
  const { p50Ms, p99Ms, samples } = m.latency;
  if (
    samples < tolerance.minLatencySamples ||
    p50Ms === undefined ||
    p99Ms === undefined ||
    cw.latencyP99 === undefined ||
    cw.latencyP50 === undefined
  )
    return undefined;
  const slack = Math.max(tolerance.latencyMs, tolerance.latencyRelative * p99Ms);
  const networkMs = Math.max(0, p50Ms - cw.latencyP50);
  if (cw.latencyP99 > p99Ms + slack) {
    return {
      kind: 'latency-excess',
      minuteStartMs: m.minuteStartMs,
      scope: API_SCOPE,
      metric: 'Latency p99',
      text:
        `${at}: CloudWatch Latency p99 ${fmt(cw.latencyP99)} ms > ` +
        `client p99 ${fmt(p99Ms)} ms + ${fmt(slack)} ms` +
        `: the gateway cannot take longer than the client waited for the same requests (other traffic on the stage?)`,
    };
  }
  if (cw.latencyP99 < p99Ms - networkMs - slack) {
    return {
      kind: 'latency-outside',
      minuteStartMs: m.minuteStartMs,
      scope: API_SCOPE,
      metric: 'Latency p99',
      text:
        `${at}: client p99 ${fmt(p99Ms)} ms, CloudWatch p99 ${fmt(cw.latencyP99)} ms` +
        `, network ≈ ${fmt(networkMs)} ms` +
        `: the rest of the tail is spent outside the gateway (client, network)`,
    };
  }
  return undefined;
}

/** Detailed metrics: each route's totals over the minutes CloudWatch answered for the API. */
function reconcileRoutes(
  client: readonly MinuteSnapshot[],
  rows: MinuteRow[],
  options: ReconcileOptions,
  discrepancies: Discrepancy[],
): RouteRow[] {
  if (!options.routeMinutes) return [];
  const compared = new Set(rows.filter((r) => r.state !== 'missing' && r.state !== 'idle').map((r) => r.minuteStartMs));
  const out: RouteRow[] = [];
  for (const [route, minutes] of options.routeMinutes) {
    const counts = emptyCounts();
    for (const m of client) if (compared.has(m.minuteStartMs) && m.routes[route]) addCounts(counts, m.routes[route]);
    const sum = (role: MetricRole) =>
      [...minutes.entries()].filter(([minute]) => compared.has(minute)).reduce((s, [, v]) => s + (v[role] ?? 0), 0);
    const hasAny = [...minutes.keys()].some((minute) => compared.has(minute));
    // Per route the window's edges are inside the window (it is widened by the skew), so no edge slack.
    const ranges = minuteBounds({ ...counts, edgePrev: 0, edgeNext: 0 }, undefined, undefined, options.tolerance);
    const row: RouteRow = { route, client: counts, bounds: {} };
    out.push(row);
    if (!hasAny) {
      if (ranges.count.lower > 0)
        discrepancies.push({
          kind: 'missing',
          scope: route,
          metric: 'Count',
          text:
            `${route}: no detailed-metrics datapoint` +
            `, though the client completed ${counts.completed} request(s) (detailed metrics off, or a Resource with path parameters?)`,
        });
      continue;
    }
    for (const [key, metric, role] of [
      ['count', 'Count', 'count'],
      ['error4xx', options.names.error4xx, 'error4xx'],
      ['error5xx', options.names.error5xx, 'error5xx'],
    ] as const) {
      const bounds: Bounds = { ...ranges[key], cloudwatch: sum(role) };
      row.bounds[key] = bounds;
      const off = judge(bounds, key, metric, route, route);
      if (off) discrepancies.push(off);
    }
  }
  return out;
}

/** True when waiting longer could not change the outcome: nothing missing, nothing short. */
export function isSettled(reconciliation: Reconciliation, fetched: FetchedMetrics): boolean {
  if (fetched.incomplete.length > 0) return false;
  return !reconciliation.discrepancies.some((f) => f.kind === 'missing' || f.kind === 'deficit' || f.kind === 'deficit5xx');
}

export interface MetricsVerdict {
  status: CheckStatus;
  summary: string;
  /** The discrepancies graded (graded.ts): a deficit is `medium`, the rest `info`. */
  findings: FindingDraft[];
}

/** What the verdict needs besides the reconciliation. */
export interface VerdictContext {
  source: string;
  window: string;
  waited: string;
  incomplete: string[];
  clientCompleted: number;
  /** Query groups the endpoint could not answer (fetch.ts). */
  unavailable?: readonly UnavailableGroup[];
}

/**
 * The verdict: error without data; inconclusive on anything undecidable (a deficit beside it is
 * still a finding, so a gate at `medium` fails it); fail on a deficit alone; else pass.
 */
export function evaluateMetrics(r: Reconciliation, context: VerdictContext): MetricsVerdict {
  if (context.clientCompleted === 0) {
    return { status: 'error', summary: 'no request got an answer during the run: nothing to reconcile', findings: [] };
  }
  if (!r.anyData) {
    return {
      status: 'error',
      summary:
        `CloudWatch has no datapoint for ${context.source} in ${context.window}${context.waited}` +
        `: check the API name or id, the stage and the Region (and that the stage publishes metrics)`,
      findings: [],
    };
  }
  const of = (kinds: DiscrepancyKind[]) => r.discrepancies.filter((f) => kinds.includes(f.kind));
  const unavailable = context.unavailable ?? [];
  const findings = metricsFindings(r.discrepancies);
  const deficits = of(['deficit']);
  const missed = deficits.length > 0 ? `CloudWatch misses traffic the client saw: ${listed(deficits)}` : '';
  const excess = of(['excess', 'latency-excess']);
  const undecided = [...of(['missing']), ...of(['deficit5xx']), ...excess];
  if (context.incomplete.length > 0)
    undecided.push({ kind: 'missing', scope: API_SCOPE, metric: '', text: `incomplete answer: ${context.incomplete.join(', ')}` });
  const wafGaps = unavailable.filter((u) => u.group === 'waf');
  const gapsOnly = undecided.length === 0 && wafGaps.length > 0;
  for (const u of wafGaps) {
    const metric = u.metrics.join(', ');
    undecided.push({ kind: 'missing', scope: 'waf', metric, text: `${metric} not available from this endpoint (${u.error})` });
  }
  // A deficit is a fail only when nothing else was left undecided: its finding is `medium`, so under
  // the default gate the check passes, and it must not pass over minutes it could not compare.
  if (undecided.length > 0) {
    const lead =
      excess.length > 0
        ? 'CloudWatch saw more than gatecheck sent, so someone else shares the stage'
        : gapsOnly
          ? 'not every metric could be read'
          : 'not every minute could be reconciled';
    const otherGaps = notReconciled(unavailable.filter((u) => u.group !== 'waf'));
    const alsoMissed = missed ? `${missed}; and ` : '';
    return { status: 'inconclusive', summary: `${alsoMissed}${lead}${context.waited}: ${listed(undecided)}${otherGaps}`, findings };
  }
  if (missed) return { status: 'fail', summary: `${missed}${notReconciled(unavailable)}`, findings };
  const gaps = notReconciled(unavailable);
  if (r.rows.some((row) => row.bounds.connectCount)) {
    const w = wsTotals(r.rows);
    const ws = [
      `ConnectCount ${fmt(w.connectCount.cloudwatch)} vs ${w.connectCount.client} opened`,
      `MessageCount ${fmt(w.messageCount.cloudwatch)} vs ${w.messageCount.client} answered by the route`,
      `ClientError ${fmt(w.clientError.cloudwatch)} vs ${w.clientError.client} refused upgrades`,
    ];
    return {
      status: 'pass',
      summary: `CloudWatch agrees with the client in ${r.comparedMinutes} minute(s): ${ws.join(', ')}${gaps}`,
      findings,
    };
  }
  const t = totals(r.rows);
  const parts = [
    `Count ${fmt(t.cw.count)} vs ${t.client.completed} answered`,
    `4xx ${fmt(t.cw.error4xx)} vs ${t.client.status4xx} (${t.client.status429} were 429)`,
    `5xx ${fmt(t.cw.error5xx)} vs ${t.client.status5xx}`,
  ];
  if (r.rows.some((row) => row.bounds.wafBlocked)) parts.push(`WAF blocked ${fmt(t.cw.wafBlocked)} vs ${t.client.wafBlocks}`);
  const agrees = `CloudWatch agrees with the client in ${r.comparedMinutes} minute(s): ${parts.join(', ')}${gaps}`;
  return { status: 'pass', summary: agrees, findings };
}

/** `; not reconciled, not available from this endpoint: Latency p50, Latency p99`, or nothing. */
export function notReconciled(unavailable: readonly UnavailableGroup[]): string {
  const metrics = unavailable.flatMap((u) => u.metrics);
  return metrics.length ? `; not reconciled, not available from this endpoint: ${metrics.join(', ')}` : '';
}

function listed(discrepancies: Discrepancy[]): string {
  const shown = discrepancies.slice(0, 3).map((f) => f.text);
  return shown.join('; ') + (discrepancies.length > 3 ? `; and ${discrepancies.length - 3} more` : '');
}

export function totals(rows: readonly MinuteRow[]): {
  client: MinuteCounts;
  cw: Record<'count' | 'error4xx' | 'error5xx' | 'wafBlocked', number>;
} {
  const client = emptyCounts();
  const cw = { count: 0, error4xx: 0, error5xx: 0, wafBlocked: 0 };
  for (const row of rows) {
    if (row.state === 'missing' || row.state === 'idle') continue;
    addCounts(client, row.client);
    cw.count += row.cloudwatch.count ?? 0;
    cw.error4xx += row.cloudwatch.error4xx ?? 0;
    cw.error5xx += row.cloudwatch.error5xx ?? 0;
    cw.wafBlocked += row.cloudwatch.wafBlocked ?? 0;
  }
  return { client, cw };
}

/** A WebSocket API's counters summed over the compared minutes: the client's side and CloudWatch's. */
export function wsTotals(rows: readonly MinuteRow[]): Record<WsCounterKey, { client: number; cloudwatch: number }> {
  const out = {
    connectCount: { client: 0, cloudwatch: 0 },
    messageCount: { client: 0, cloudwatch: 0 },
    clientError: { client: 0, cloudwatch: 0 },
  };
  for (const row of rows) {
    for (const key of Object.keys(out) as WsCounterKey[]) {
      const b = row.bounds[key];
      if (!b) continue;
      out[key].client += b.client;
      out[key].cloudwatch += b.cloudwatch ?? 0;
    }
  }
  return out;
}

/** Query results by scope and minute, by role. */
export function byMinute(fetched: FetchedMetrics, queries: readonly MetricQuery[], scope: string): Map<number, CloudWatchMinute> {
  const out = new Map<number, CloudWatchMinute>();
  for (const query of queries.filter((q) => q.scope === scope)) {
    for (const [minute, value] of fetched.series.get(query.id) ?? []) {
      let m = out.get(minute);
      if (!m) out.set(minute, (m = {}));
      m[query.role] = value;
    }
  }
  return out;
}

export function addCounts(into: MinuteCounts, from: MinuteCounts): void {
  for (const key of Object.keys(into) as Array<keyof MinuteCounts>) into[key] += from[key];
}
