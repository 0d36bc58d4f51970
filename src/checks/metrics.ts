import { isNotRouted } from './auth/vendor.js';
import { openCloudWatch, type CloudWatchConnection, type CloudWatchReader } from '../cloudwatch/client.js';
import { CloudWatchError, toCloudWatchError } from '../cloudwatch/errors.js';
import { fetchMetrics, type FetchedMetrics, type FetchWindow } from '../cloudwatch/fetch.js';
import { pollUntil, REAL_CLOCK, type PollClock } from '../cloudwatch/poll.js';
import { API_SCOPE, describeApi, planQueries, type MetricQuery, type MetricRole } from '../cloudwatch/queries.js';
import { MINUTE_MS, minuteOf, type MinuteCounts, type MinuteLedger, type MinuteSnapshot } from '../engine/minute-ledger.js';
import type { Observation } from '../engine/observation.js';
import type { MetricsPolicy, MetricsTolerance, Policy } from '../policy/types.js';
import { mermaidXyChart } from '../report/charts.js';
import type { CheckResult, CheckStatus, EvidenceItem } from './types.js';

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
 * and dashboards built on them are blind to it. That is a `fail` (for 5XXError, which AWS also
 * says may be incomplete, `inconclusive`). Above the upper bound (an excess) CloudWatch saw
 * requests gatecheck did not send: someone else shares the stage, so nothing can be concluded:
 * `inconclusive`, never `pass`, never `fail` (the gateway did nothing wrong).
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
 */

// ---------------------------------------------------------------------------------------------
// Data

/** CloudWatch's numbers for one minute, by role (undefined: no datapoint). */
export type CloudWatchMinute = Partial<Record<MetricRole, number>>;

export type FindingKind = 'deficit' | 'deficit5xx' | 'excess' | 'missing' | 'latency-excess' | 'latency-outside';

export interface Finding {
  kind: FindingKind;
  /** Minute start (epoch ms), or undefined for a whole-window (per-route) finding. */
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

export interface MinuteRow {
  minuteStartMs: number;
  client: MinuteSnapshot;
  cloudwatch: CloudWatchMinute;
  /** Count, 4xx, 5xx, WAF bounds; undefined when CloudWatch has no datapoint for the minute. */
  bounds: Partial<Record<'count' | 'error4xx' | 'error5xx' | 'wafBlocked', Bounds>>;
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
  findings: Finding[];
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
}

// ---------------------------------------------------------------------------------------------
// Maths (pure)

export function countTolerance(tolerance: MetricsTolerance, client: number): number {
  return Math.max(tolerance.countAbsolute, Math.ceil(tolerance.countRelative * client));
}

/** The [lower, upper] range CloudWatch's counters may take for one minute (see the file comment). */
export function minuteBounds(m: MinuteCounts, prev: MinuteCounts | undefined, next: MinuteCounts | undefined, tolerance: MetricsTolerance, wafRule?: string): Record<'count' | 'error4xx' | 'error5xx' | 'wafBlocked', Omit<Bounds, 'cloudwatch'>> {
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

/** Lays CloudWatch's minutes next to the client's; pure, so the maths is tested with tables. */
export function reconcile(client: readonly MinuteSnapshot[], cloudwatch: ReadonlyMap<number, CloudWatchMinute>, options: ReconcileOptions): Reconciliation {
  const { tolerance, names } = options;
  const findings: Finding[] = [];
  const rows: MinuteRow[] = [];
  let comparedMinutes = 0;
  const anyData = [...cloudwatch.values()].some((m) => m.count !== undefined);
  // A web ACL with no datapoint at all (neither blocked nor allowed) is a wrong name or Region, not a deficit.
  const wafData = [...cloudwatch.values()].some((m) => m.wafBlocked !== undefined || m.wafAllowed !== undefined);
  const waf = options.waf && wafData ? options.waf : undefined;
  if (options.waf && !wafData && client.some((m) => m.wafBlocks > 0)) {
    findings.push({ kind: 'missing', scope: 'waf', metric: 'BlockedRequests', text: 'no AWS/WAFV2 datapoint for the web ACL, though the client saw WAF blocks: check metrics.cloudwatch.waf.webAcl and the Region (regional web ACLs only)' });
  }

  client.forEach((m, i) => {
    const cw = cloudwatch.get(m.minuteStartMs) ?? {};
    const ranges = minuteBounds(m, client[i - 1], client[i + 1], tolerance, waf?.rule);
    const row: MinuteRow = { minuteStartMs: m.minuteStartMs, client: m, cloudwatch: cw, bounds: {}, state: 'match' };
    rows.push(row);
    const at = clock(m.minuteStartMs);
    if (cw.count === undefined) {
      if (ranges.count.lower > 0) {
        row.state = 'missing';
        findings.push({ kind: 'missing', minuteStartMs: m.minuteStartMs, scope: API_SCOPE, metric: 'Count', text: `${at}: no CloudWatch datapoint, though the client completed ${m.completed} request(s)` });
      } else row.state = 'idle';
      return;
    }
    comparedMinutes++;
    const counters: Array<['count' | 'error4xx' | 'error5xx' | 'wafBlocked', string, number | undefined]> = [
      ['count', 'Count', cw.count],
      ['error4xx', names.error4xx, cw.error4xx ?? 0],
      ['error5xx', names.error5xx, cw.error5xx ?? 0],
    ];
    if (waf) counters.push(['wafBlocked', 'BlockedRequests', cw.wafBlocked ?? 0]);
    for (const [key, metric, value] of counters) {
      const bounds: Bounds = { ...ranges[key], ...(value !== undefined ? { cloudwatch: value } : {}) };
      row.bounds[key] = bounds;
      const finding = judge(bounds, key, metric, `${at}`, API_SCOPE, m.minuteStartMs);
      if (finding) {
        findings.push(finding);
        if (row.state === 'match') row.state = finding.kind === 'excess' ? 'excess' : 'deficit';
      }
    }
    const latency = judgeLatency(m, cw, tolerance, at);
    if (latency) findings.push(latency);
  });

  const routes = reconcileRoutes(client, rows, options, findings);
  return { rows, routes, findings, comparedMinutes, anyData };
}

function judge(bounds: Bounds, key: string, metric: string, at: string, scope: string, minuteStartMs?: number): Finding | undefined {
  const value = bounds.cloudwatch;
  if (value === undefined) return undefined;
  const where = minuteStartMs === undefined ? {} : { minuteStartMs };
  const seen = key === 'wafBlocked' ? 'WAF blocks' : key === 'count' ? 'answered requests' : key === 'error4xx' ? '4xx answers (429s included)' : '5xx answers';
  if (value < bounds.lower) {
    const kind: FindingKind = key === 'error5xx' ? 'deficit5xx' : 'deficit';
    return { kind, ...where, scope, metric, text: `${at}: CloudWatch ${metric} ${fmt(value)} < ${bounds.lower}, the least the client's ${bounds.client} ${seen} allow${key === 'error5xx' ? ' (AWS says some 5xx may be missing from metrics)' : ''}` };
  }
  if (value > bounds.upper) {
    return { kind: 'excess', ...where, scope, metric, text: `${at}: CloudWatch ${metric} ${fmt(value)} > ${bounds.upper}, the most the client's ${bounds.client} ${seen} allow: someone else sends traffic to this stage` };
  }
  return undefined;
}

function judgeLatency(m: MinuteSnapshot, cw: CloudWatchMinute, tolerance: MetricsTolerance, at: string): Finding | undefined {
  const { p50Ms, p99Ms, samples } = m.latency;
  if (samples < tolerance.minLatencySamples || p50Ms === undefined || p99Ms === undefined || cw.latencyP99 === undefined || cw.latencyP50 === undefined) return undefined;
  const slack = Math.max(tolerance.latencyMs, tolerance.latencyRelative * p99Ms);
  const networkMs = Math.max(0, p50Ms - cw.latencyP50);
  if (cw.latencyP99 > p99Ms + slack) {
    return { kind: 'latency-excess', minuteStartMs: m.minuteStartMs, scope: API_SCOPE, metric: 'Latency p99', text: `${at}: CloudWatch Latency p99 ${fmt(cw.latencyP99)} ms > client p99 ${fmt(p99Ms)} ms + ${fmt(slack)} ms: the gateway cannot take longer than the client waited for the same requests (other traffic on the stage?)` };
  }
  if (cw.latencyP99 < p99Ms - networkMs - slack) {
    return { kind: 'latency-outside', minuteStartMs: m.minuteStartMs, scope: API_SCOPE, metric: 'Latency p99', text: `${at}: client p99 ${fmt(p99Ms)} ms, CloudWatch p99 ${fmt(cw.latencyP99)} ms, network ≈ ${fmt(networkMs)} ms: the rest of the tail is spent outside the gateway (client, network)` };
  }
  return undefined;
}

/** Detailed metrics: each route's totals over the minutes CloudWatch answered for the API. */
function reconcileRoutes(client: readonly MinuteSnapshot[], rows: MinuteRow[], options: ReconcileOptions, findings: Finding[]): RouteRow[] {
  if (!options.routeMinutes) return [];
  const compared = new Set(rows.filter((r) => r.state !== 'missing' && r.state !== 'idle').map((r) => r.minuteStartMs));
  const out: RouteRow[] = [];
  for (const [route, minutes] of options.routeMinutes) {
    const counts = zeroCounts();
    for (const m of client) if (compared.has(m.minuteStartMs) && m.routes[route]) addCounts(counts, m.routes[route]!);
    const sum = (role: MetricRole) => [...minutes.entries()].filter(([minute]) => compared.has(minute)).reduce((s, [, v]) => s + (v[role] ?? 0), 0);
    const hasAny = [...minutes.keys()].some((minute) => compared.has(minute));
    // Per route the window's edges are inside the window (it is widened by the skew), so no edge slack.
    const ranges = minuteBounds({ ...counts, edgePrev: 0, edgeNext: 0 }, undefined, undefined, options.tolerance);
    const row: RouteRow = { route, client: counts, bounds: {} };
    out.push(row);
    if (!hasAny) {
      if (ranges.count.lower > 0) findings.push({ kind: 'missing', scope: route, metric: 'Count', text: `${route}: no detailed-metrics datapoint, though the client completed ${counts.completed} request(s) (detailed metrics off, or a Resource with path parameters?)` });
      continue;
    }
    for (const [key, metric, role] of [['count', 'Count', 'count'], ['error4xx', options.names.error4xx, 'error4xx'], ['error5xx', options.names.error5xx, 'error5xx']] as const) {
      const bounds: Bounds = { ...ranges[key], cloudwatch: sum(role) };
      row.bounds[key] = bounds;
      const finding = judge(bounds, key, metric, route, route);
      if (finding) findings.push(finding);
    }
  }
  return out;
}

/** True when waiting longer could not change the outcome: nothing missing, nothing short. */
export function isSettled(reconciliation: Reconciliation, fetched: FetchedMetrics): boolean {
  if (fetched.incomplete.length > 0) return false;
  return !reconciliation.findings.some((f) => f.kind === 'missing' || f.kind === 'deficit' || f.kind === 'deficit5xx');
}

export interface MetricsVerdict {
  status: CheckStatus;
  summary: string;
}

/** The verdict: error without data, fail on a deficit, inconclusive on anything undecidable. */
export function evaluateMetrics(r: Reconciliation, context: { source: string; window: string; waited: string; incomplete: string[]; clientCompleted: number }): MetricsVerdict {
  if (context.clientCompleted === 0) return { status: 'error', summary: 'no request got an answer during the run: nothing to reconcile' };
  if (!r.anyData) {
    return { status: 'error', summary: `CloudWatch has no datapoint for ${context.source} in ${context.window}${context.waited}: check the API name or id, the stage and the Region (and that the stage publishes metrics)` };
  }
  const of = (kinds: FindingKind[]) => r.findings.filter((f) => kinds.includes(f.kind));
  const deficits = of(['deficit']);
  if (deficits.length > 0) return { status: 'fail', summary: `CloudWatch misses traffic the client saw: ${listed(deficits)}` };
  const excess = of(['excess', 'latency-excess']);
  const undecided = [...of(['missing']), ...of(['deficit5xx']), ...excess];
  if (context.incomplete.length > 0) undecided.push({ kind: 'missing', scope: API_SCOPE, metric: '', text: `incomplete answer: ${context.incomplete.join(', ')}` });
  if (undecided.length > 0) {
    const lead = excess.length > 0 ? 'CloudWatch saw more than gatecheck sent, so someone else shares the stage' : 'not every minute could be reconciled';
    return { status: 'inconclusive', summary: `${lead}${context.waited}: ${listed(undecided)}` };
  }
  const t = totals(r.rows);
  const parts = [`Count ${fmt(t.cw.count)} vs ${t.client.completed} answered`, `4xx ${fmt(t.cw.error4xx)} vs ${t.client.status4xx} (${t.client.status429} were 429)`, `5xx ${fmt(t.cw.error5xx)} vs ${t.client.status5xx}`];
  if (r.rows.some((row) => row.bounds.wafBlocked)) parts.push(`WAF blocked ${fmt(t.cw.wafBlocked)} vs ${t.client.wafBlocks}`);
  return { status: 'pass', summary: `CloudWatch agrees with the client in ${r.comparedMinutes} minute(s): ${parts.join(', ')}` };
}

function listed(findings: Finding[]): string {
  const shown = findings.slice(0, 3).map((f) => f.text);
  return shown.join('; ') + (findings.length > 3 ? `; and ${findings.length - 3} more` : '');
}

export function totals(rows: readonly MinuteRow[]): { client: MinuteCounts; cw: Record<'count' | 'error4xx' | 'error5xx' | 'wafBlocked', number> } {
  const client = zeroCounts();
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
  /** Ask for latency percentiles (default true; moto cannot answer them). */
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

/**
 * The block statuses a WAF probe's answer is judged by, for the ledger's WAF-block tally: the
 * route is the one whose path the probe's path starts with (path placements add a segment), and
 * a "routed nowhere" refusal (AWS: 403 Missing Authentication Token) is never a WAF block.
 */
export function wafBlockStatusFor(policy: Policy): (observation: Observation) => readonly number[] | undefined {
  const routes = policy.routes.filter((r) => r.waf).sort((a, b) => b.path.length - a.path.length);
  return (o) => {
    if (!o.probe.startsWith('waf.')) return undefined;
    const path = o.path.split('?')[0]!;
    const route = routes.find((r) => r.method === o.method && (path === r.path || path.startsWith(`${r.path.replace(/\/+$/, '')}/`)));
    if (!route || isNotRouted(policy.vendor, o)) return undefined;
    return route.waf!.blockStatus;
  };
}

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
      ...(source.waf ? { waf: { rule: source.waf.rule } } : {}),
    };
    const read = async () => {
      const fetched = await fetchMetrics(reader!, queries, window, args.settings.maxDatapoints !== undefined ? { maxDatapoints: args.settings.maxDatapoints } : {});
      const routeMinutes = source.api.detailed ? new Map(args.policy.routes.map((r) => [`${r.method} ${r.path}`, byMinute(fetched, queries, `${r.method} ${r.path}`)])) : undefined;
      const reconciliation = reconcile(client, byMinute(fetched, queries, API_SCOPE), { ...options, ...(routeMinutes ? { routeMinutes } : {}) });
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
    let verdict = evaluateMetrics(reconciliation, { source: describeApi(source), window: describeWindow(window), waited, incomplete, clientCompleted: client.reduce((s, m) => s + m.completed, 0) });
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
      ...(fetched.messages.length ? { messages: fetched.messages } : {}),
    };
    const evidence = [callEvidence(reader.where, `${outcome.polls} poll(s), last one ${fetched.pages} page(s), ${fetched.attempts} HTTP attempt(s) by the SDK`, verdict.status)];
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
    const outcome = await pollUntil(() => fetchMetrics(reader!, queries, window, args.settings.maxDatapoints !== undefined ? { maxDatapoints: args.settings.maxDatapoints } : {}), hasData, { waitMs: waitSec * 1000, ...args.settings.poll }, args.settings.clock ?? REAL_CLOCK);
    const fetched = outcome.value;
    const minutes = byMinute(fetched, queries, API_SCOPE);
    const found = hasData(fetched);
    const status: CheckStatus = found ? 'pass' : 'error';
    const summary = found
      ? `CloudWatch has ${minutes.size} minute(s) of data for ${describeApi(source)} in ${describeWindow(window)} (metrics only: nothing reconciled)`
      : `CloudWatch has no datapoint for ${describeApi(source)} in ${describeWindow(window)}: check the API name or id, the stage and the Region (and that there was traffic)`;
    const observed = { minutesWithData: minutes.size, pages: fetched.pages, sdkAttempts: fetched.attempts, polls: outcome.polls, ...(fetched.incomplete.length ? { incomplete: fetched.incomplete.map((i) => `${i.id} ${i.status}`) } : {}), ...(fetched.messages.length ? { messages: fetched.messages } : {}) };
    return base(status, summary, expected, observed, [callEvidence(reader.where, `${fetched.pages} page(s), ${fetched.attempts} HTTP attempt(s)`, status)], found ? renderPullDetails(minutes, window, source.api.type) : undefined);
  } catch (error) {
    const failure = error instanceof CloudWatchError ? error : toCloudWatchError(error, source.endpoint ?? 'CloudWatch');
    return base('error', `metrics not read: ${failure.message}`, expected, { error: failure.code, ...(failure.awsCode ? { awsCode: failure.awsCode } : {}) }, [callEvidence(reader?.where ?? source.endpoint ?? 'CloudWatch', failure.message, 'error', failure.awsCode ?? failure.code)], undefined);
  } finally {
    reader?.close();
  }
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

// ---------------------------------------------------------------------------------------------
// Rendering: a table per minute and a chart, in the check's `details`

const STATE_MARK: Record<MinuteRow['state'], string> = { match: '✅ match', deficit: '❌ short', excess: '❔ excess', missing: '⏳ missing', idle: '— idle' };

function renderDetails(r: Reconciliation, fetched: FetchedMetrics, queries: readonly MetricQuery[], metrics: MetricsPolicy, websocket: boolean): string {
  if (websocket) return renderPullDetails(byMinute(fetched, queries, API_SCOPE), { startMs: r.rows[0]!.minuteStartMs, endMs: r.rows[r.rows.length - 1]!.minuteStartMs + MINUTE_MS }, 'WEBSOCKET');
  const waf = metrics.cloudwatch.waf !== undefined;
  // Minutes of the window where nothing happened on either side say nothing: left out of the table and chart.
  const shown = r.rows.filter((row) => row.state !== 'idle' || row.client.transportErrors > 0);
  const header = ['Minute (UTC)', 'Answered (client)', 'Count (CW)', '4xx / 429 (client)', '4XX (CW)', '5xx (client)', '5XX (CW)', ...(waf ? ['WAF blocks (client / CW)'] : []), 'p50 ms (client / CW)', 'p99 ms (client / CW)', 'Result'];
  const rows = shown.map((row) => {
    const c = row.client;
    const cw = row.cloudwatch;
    const range = (b: Bounds | undefined) => (b ? ` [${b.lower}–${b.upper}]` : '');
    return [
      clock(row.minuteStartMs),
      `${c.completed}${c.transportErrors ? ` (+${c.transportErrors} no answer)` : ''}`,
      `${fmt(cw.count)}${range(row.bounds.count)}`,
      `${c.status4xx} / ${c.status429}`,
      `${fmt(cw.error4xx)}${range(row.bounds.error4xx)}`,
      String(c.status5xx),
      `${fmt(cw.error5xx)}${range(row.bounds.error5xx)}`,
      ...(waf ? [`${c.wafBlocks} / ${fmt(cw.wafBlocked)}`] : []),
      `${fmt(c.latency.p50Ms)} / ${fmt(cw.latencyP50)}`,
      `${fmt(c.latency.p99Ms)} / ${fmt(cw.latencyP99)}`,
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

function renderPullDetails(minutes: Map<number, CloudWatchMinute>, window: FetchWindow, type: string): string {
  const ticks: number[] = [];
  for (let m = window.startMs; m < window.endMs; m += MINUTE_MS) ticks.push(m);
  const ws = type === 'WEBSOCKET';
  const header = ws ? ['Minute (UTC)', 'ConnectCount', 'MessageCount', 'ClientError', 'IntegrationError', 'ExecutionError'] : ['Minute (UTC)', 'Count', '4XX', '5XX', 'Latency p50 ms', 'Latency p99 ms', 'IntegrationLatency p99 ms', 'WAF blocked'];
  const shown = ticks.filter((m) => minutes.has(m));
  const rows = shown.map((m) => {
    const v = minutes.get(m)!;
    return ws
      ? [clock(m), fmt(v.connectCount), fmt(v.messageCount), fmt(v.clientError), fmt(v.integrationError), fmt(v.executionError)]
      : [clock(m), fmt(v.count), fmt(v.error4xx), fmt(v.error5xx), fmt(v.latencyP50), fmt(v.latencyP99), fmt(v.integrationLatencyP99), fmt(v.wafBlocked)];
  });
  return [
    `**CloudWatch, per minute (${shown.length} of ${ticks.length} minutes have data)**`,
    '',
    table([header, ...rows]),
    '',
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

function table(rows: string[][]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return [`| ${rows[0]!.map(cell).join(' | ')} |`, `| ${rows[0]!.map(() => '---').join(' | ')} |`, ...rows.slice(1).map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

function zeroCounts(): MinuteCounts {
  return { completed: 0, status2xx: 0, status4xx: 0, status429: 0, status5xx: 0, transportErrors: 0, wafBlocks: 0, edgePrev: 0, edgeNext: 0 };
}

function addCounts(into: MinuteCounts, from: MinuteCounts): void {
  for (const key of Object.keys(into) as Array<keyof MinuteCounts>) into[key] += from[key];
}

function percent(share: number): string {
  return `${Math.round(share * 10_000) / 100}%`;
}

function fmt(value: number | undefined): string {
  if (value === undefined) return '—';
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** `10:41` (UTC). */
function clock(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 16);
}

function isoMinute(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 16) + 'Z';
}

export function describeWindow(window: FetchWindow): string {
  const start = new Date(window.startMs).toISOString();
  const end = new Date(window.endMs).toISOString();
  return `${start.slice(0, 10)} ${start.slice(11, 16)}–${start.slice(0, 10) === end.slice(0, 10) ? '' : `${end.slice(0, 10)} `}${end.slice(11, 16)} UTC`;
}
