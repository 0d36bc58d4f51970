import { openCloudWatch, type CloudWatchReader } from '../../cloudwatch/client.js';
import { CloudWatchError, toCloudWatchError, type CloudWatchErrorCode } from '../../cloudwatch/errors.js';
import type { FetchedMetrics, FetchWindow, UnavailableGroup } from '../../cloudwatch/fetch.js';
import { pollUntil, REAL_CLOCK } from '../../cloudwatch/poll.js';
import { API_SCOPE, describeApi, planQueries, type MetricQuery } from '../../cloudwatch/queries.js';
import type { MinuteLedger, MinuteSnapshot } from '../../engine/minute-ledger.js';
import type { MetricsPolicy, Policy, RoutePolicy } from '../../policy/types.js';
import type { CheckDefinition, Verdict } from '../contract.js';
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
import { describeWindow, isoMinute } from '../../util/format.js';
import { reconciliationData, totalsData, wsTotalsData, type FailureObserved, type ReconciledObserved } from './observed.js';
import { byMinute, evaluateMetrics, isSettled, reconcile, type Reconciliation, type ReconcileOptions } from './reconcile.js';

/**
 * The `metrics` check: after every other check, the gateway's CloudWatch metrics for the run's
 * minutes are laid next to the client's minute ledger (the maths and the verdict rules are in
 * reconcile.ts). collect reads CloudWatch, polling for late datapoints, and keeps everything it
 * read as JSON notes (the ledger, the series, what the endpoint could not serve, or its error);
 * evaluate reconciles those notes with the policy's tolerances, so `gatecheck judge` can judge a
 * recorded run again without AWS.
 */

export interface MetricsSpec {
  metrics: MetricsPolicy;
}

/** What the run saw, per minute, and the window asked of CloudWatch (none before any traffic). */
interface LedgerNotes {
  ledger: MinuteSnapshot[];
  window?: FetchWindow;
}

/** Everything one read gave, Maps as arrays: query id → [minute start, value] pairs. */
export interface CloudWatchReadNotes {
  cloudwatch: 'read';
  /** The endpoint or Region read (CloudWatchReader.where). */
  where: string;
  queries: MetricQuery[];
  series: Record<string, Array<[number, number]>>;
  incomplete: FetchedMetrics['incomplete'];
  unavailable: UnavailableGroup[];
  messages: string[];
  pages: number;
  attempts: number;
  polls: number;
  waitedMs: number;
  /** False when the wait ran out before every minute was in. */
  settled: boolean;
}

export interface CloudWatchFailureNotes {
  cloudwatch: 'failed';
  where: string;
  error: { code: CloudWatchErrorCode; message: string; awsCode?: string; attempts?: number };
}

export type MetricsNotes = LedgerNotes & ({ cloudwatch: 'not-called' } | CloudWatchReadNotes | CloudWatchFailureNotes);

export type MetricsObserved = Record<string, never> | FailureObserved | ReconciledObserved;

/** What collect needs besides the spec: the run's ledger, the CLI's settings, a progress line. */
export interface MetricsCheckArgs {
  policy: Policy & { metrics: MetricsPolicy };
  ledger: MinuteLedger;
  settings: MetricsSettings;
  progress: (line: string) => void;
}

export const metricsCheck: CheckDefinition<'metrics', MetricsSpec, MetricsObserved, MetricsNotes> = {
  kind: 'metrics',
  phase: 'after-run',
  // One instance per API: the policy's `api`, and its WebSocket API when `websocketApi` names one.
  select: (policy) => metricsApis(policy.metrics).map((metrics) => ({ route: metricsRouteId(metrics), idSuffix: '', spec: { metrics } })),
  expected: ({ metrics }) => expectedOf(metrics, {}, metrics.waitSec, 'the minutes of the run (observed.window)'),
  // No request, and the CloudWatch wait comes after the traffic: the run's caps do not bound it (--metrics-wait does).
  plan: () => ({ requests: 0, durationMs: 0, needsIdleBucket: false }),
  collect: async (ctx, { metrics }) => {
    if (!ctx.ledger) throw new Error("the metrics check needs the run's minute ledger");
    return collectMetrics({ policy: { ...ctx.policy, metrics }, ledger: ctx.ledger, settings: ctx.metrics ?? {}, progress: ctx.progress });
  },
  evaluate: ({ metrics }, { notes }, policy) => evaluateMetricsNotes(metrics, policy.routes, notes),
};

/**
 * The metrics block once per API it names: as written, and for `websocketApi` as a WEBSOCKET
 * `api` of its own (no web ACL: AWS WAF does not protect WebSocket APIs), sharing the rest.
 */
export function metricsApis(metrics: MetricsPolicy | undefined): MetricsPolicy[] {
  if (!metrics) return [];
  const { websocketApi, waf: _waf, ...shared } = metrics.cloudwatch;
  if (!websocketApi) return [metrics];
  const { websocketApi: _ws, ...main } = metrics.cloudwatch;
  const ws: MetricsPolicy = {
    ...metrics,
    cloudwatch: { ...shared, api: { type: 'WEBSOCKET', id: websocketApi.id, stage: websocketApi.stage, detailed: false } },
  };
  return [{ ...metrics, cloudwatch: main }, ws];
}

/** Reads CloudWatch for the ledger's window, polling until the reconciliation settles or the wait ends. Never throws. */
export async function collectMetrics(args: MetricsCheckArgs): Promise<MetricsNotes> {
  const { metrics } = args.policy;
  const source = metrics.cloudwatch;
  const waitSec = args.settings.waitSec ?? metrics.waitSec;
  // A WebSocket API is reconciled with the ledger's WebSocket lane: its upgrades and messages.
  const lane = source.api.type === 'WEBSOCKET' ? 'websocket' : 'http';
  const ledger = args.ledger.snapshot(lane);
  const window = args.ledger.window(lane);
  if (!window || ledger.every((m) => m.completed === 0)) return { ledger, ...(window ? { window } : {}), cloudwatch: 'not-called' };
  let reader: CloudWatchReader | undefined;
  try {
    reader = await (args.settings.open ?? openCloudWatch)(connectionOf(source, args.settings));
    const queries = planQueries(source, reader.region, { percentiles: args.settings.percentiles ?? true, routes: args.policy.routes });
    const readGroups = groupedReader(reader, queries, window, args.settings);
    const read = async () => {
      const fetched = await readGroups();
      return { fetched, reconciliation: reconcileRead(metrics, args.policy.routes, ledger, queries, fetched) };
    };
    args.progress(`metrics: GetMetricData for ${describeApi(source)} at ${reader.where}, waiting up to ${waitSec} s for late datapoints`);
    const outcome = await pollUntil(
      read,
      (v) => isSettled(v.reconciliation, v.fetched),
      { waitMs: waitSec * 1000, ...args.settings.poll },
      args.settings.clock ?? REAL_CLOCK,
      (poll, v) => {
        const { comparedMinutes, discrepancies } = v.reconciliation;
        const off = `${discrepancies.length} discrepanc${discrepancies.length === 1 ? 'y' : 'ies'}`;
        args.progress(`metrics: poll ${poll}: ${comparedMinutes}/${ledger.length} minute(s) with data, ${off}`);
      },
    );
    const { fetched } = outcome.value;
    const series = Object.fromEntries([...fetched.series.entries()].map(([id, points]) => [id, [...points.entries()]]));
    const { incomplete, unavailable, messages, pages, attempts } = fetched;
    const polled = { polls: outcome.polls, waitedMs: outcome.waitedMs, settled: outcome.settled };
    const got = { where: reader.where, queries, series, incomplete, unavailable, messages, pages, attempts, ...polled };
    return { ledger, window, cloudwatch: 'read', ...got };
  } catch (error) {
    const failure = error instanceof CloudWatchError ? error : toCloudWatchError(error, source.endpoint ?? 'CloudWatch');
    const { code, message, awsCode, attempts } = failure;
    const detail = { code, message, ...(awsCode !== undefined ? { awsCode } : {}), ...(attempts !== undefined ? { attempts } : {}) };
    return { ledger, window, cloudwatch: 'failed', where: reader?.where ?? source.endpoint ?? 'CloudWatch', error: detail };
  } finally {
    reader?.close();
  }
}

/** The reconciliation of one read: the API's minutes, the web ACL's when it was read, each route's with detailed metrics. */
function reconcileRead(
  metrics: MetricsPolicy,
  routes: readonly RoutePolicy[],
  ledger: readonly MinuteSnapshot[],
  queries: readonly MetricQuery[],
  fetched: FetchedMetrics,
): Reconciliation {
  const source = metrics.cloudwatch;
  const options: ReconcileOptions = {
    tolerance: metrics.tolerance,
    names: source.api.type === 'HTTP' ? { error4xx: '4xx', error5xx: '5xx' } : { error4xx: '4XXError', error5xx: '5XXError' },
    ...(source.api.type === 'WEBSOCKET' ? { websocket: true } : {}),
  };
  const key = (r: RoutePolicy) => `${r.method} ${r.path}`;
  const routeMinutes = source.api.detailed ? new Map(routes.map((r) => [key(r), byMinute(fetched, queries, key(r))])) : undefined;
  // A web ACL the endpoint could not read is named as unavailable, not as "no datapoint: check its name".
  const wafRead = source.waf && !fetched.unavailable.some((u) => u.group === 'waf');
  const extra = { ...(wafRead ? { waf: { rule: source.waf!.rule } } : {}), ...(routeMinutes ? { routeMinutes } : {}) };
  return reconcile(ledger, byMinute(fetched, queries, API_SCOPE), { ...options, ...extra });
}

/** Pure: the verdict on what collect noted, with the policy's tolerances. */
export function evaluateMetricsNotes(
  metrics: MetricsPolicy,
  routes: readonly RoutePolicy[],
  notes: MetricsNotes,
): Verdict<MetricsObserved> {
  if (notes.cloudwatch === 'not-called') {
    return {
      status: 'error',
      summary: 'no request got an answer during the run: nothing to reconcile',
      observed: {},
      evidence: [],
      findings: [],
    };
  }
  if (notes.cloudwatch === 'failed') {
    const { code, message, awsCode, attempts } = notes.error;
    const observed: FailureObserved = { error: code, ...(awsCode ? { awsCode } : {}), ...(attempts ? { sdkAttempts: attempts } : {}) };
    const evidence = [callEvidence(notes.where, message, 'error', awsCode ?? code)];
    return { status: 'error', summary: `metrics not verified: ${message}`, observed, evidence, findings: [] };
  }
  return evaluateRead(metrics, routes, notes.ledger, notes.window!, notes);
}

function evaluateRead(
  metrics: MetricsPolicy,
  routes: readonly RoutePolicy[],
  ledger: MinuteSnapshot[],
  window: FetchWindow,
  read: CloudWatchReadNotes,
): Verdict<ReconciledObserved> {
  const source = metrics.cloudwatch;
  const websocket = source.api.type === 'WEBSOCKET';
  const fetched: FetchedMetrics = { ...read, series: new Map(Object.entries(read.series).map(([id, points]) => [id, new Map(points)])) };
  const reconciliation = reconcileRead(metrics, routes, ledger, read.queries, fetched);
  const waited = read.settled ? '' : ` (after ${read.polls} poll${read.polls === 1 ? '' : 's'} over ${Math.round(read.waitedMs / 1000)} s)`;
  const api = describeApi(source);
  const context = {
    source: api,
    window: describeWindow(window),
    waited,
    incomplete: read.incomplete.map((i) => `${i.id} ${i.status}`),
    clientCompleted: ledger.reduce((s, m) => s + m.completed, 0),
    unavailable: read.unavailable,
  };
  const verdict = evaluateMetrics(reconciliation, context);
  const missing = reconciliation.discrepancies.filter((f) => f.kind === 'missing' && f.minuteStartMs !== undefined);
  const observed: ReconciledObserved = {
    minutes: ledger.length,
    comparedMinutes: reconciliation.comparedMinutes,
    missingMinutes: missing.map((f) => isoMinute(f.minuteStartMs!)),
    ...(websocket ? wsTotalsData(reconciliation) : totalsData(reconciliation, source.waf !== undefined)),
    findings: reconciliation.discrepancies.map((f) => `${f.kind}: ${f.text}`),
    polls: read.polls,
    waitedSec: Math.round(read.waitedMs / 100) / 10,
    pages: read.pages,
    sdkAttempts: read.attempts,
    ...unavailableData(read.unavailable),
    ...(read.messages.length ? { messages: read.messages } : {}),
    window: context.window,
    apiType: source.api.type,
    ...reconciliationData(reconciliation),
    ...(read.unavailable.length ? { notAvailable: [...new Set(read.unavailable.flatMap((u) => u.roles))] } : {}),
  };
  const calls = `${read.polls} poll(s), last one ${read.pages} page(s), ${read.attempts} HTTP attempt(s) by the SDK`;
  const evidence = [callEvidence(read.where, calls, verdict.status), ...read.unavailable.map((u) => gapEvidence(read.where, u))];
  return { status: verdict.status, summary: verdict.summary, observed, evidence, findings: verdict.findings };
}
