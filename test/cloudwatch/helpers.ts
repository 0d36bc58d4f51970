import { qualifyFindings } from '../../src/checks/findings.js';
import { MinuteLedger, MINUTE_MS } from '../../src/engine/minute-ledger.js';
import type { Observation } from '../../src/engine/observation.js';
import { startCloudWatchEndpoint, type CloudWatchEndpointHandle } from '../../src/gateway/cloudwatch-endpoint.js';
import { MetricsRecorder } from '../../src/gateway/metrics-recorder.js';
import { withMetricsFlags, type MetricsSettings } from '../../src/checks/metrics/cloudwatch-read.js';
import { collectMetrics, metricsCheck, type MetricsCheckArgs } from '../../src/checks/metrics/check.js';
import type { CheckResult } from '../../src/checks/types.js';
import { applyGate, isoDay, type GateLevel } from '../../src/gate/gate.js';
import { renderMetrics } from '../../src/report/render/metrics.js';
import { isWafBlock } from '../../src/checks/waf/check.js';
import { DEFAULT_LIMITS, DEFAULT_METRICS_TOLERANCE, type MetricsPolicy, type Policy } from '../../src/policy/types.js';

export const API_NAME = 'gatecheck-test';
export const STAGE = 'test';
export const REGION = 'us-east-1';
export const WEB_ACL = 'gatecheck-test-acl';
export const DUMMY_CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret-not-real' };

/** Minutes well in the past, so no test depends on the wall clock's position in the minute. */
export function pastMinute(minutesAgo: number): number {
  return Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - minutesAgo * MINUTE_MS;
}

/** A resolved policy with one WAF-protected route and a metrics block. */
export function metricsPolicy(
  overrides: Partial<MetricsPolicy['cloudwatch']> = {},
  tolerance: Partial<MetricsPolicy['tolerance']> = {},
): Policy & { target: string; metrics: MetricsPolicy } {
  return {
    version: 1,
    target: 'http://127.0.0.1:1',
    vendor: 'aws-rest',
    limits: DEFAULT_LIMITS,
    gate: { failOn: 'high' },
    credentials: {},
    routes: [
      {
        id: 'GET /api/items',
        index: 0,
        name: 'items',
        method: 'GET',
        path: '/api/items',
        waf: {
          blockStatus: [403],
          minBlockRate: 1,
          maxFalsePositiveRate: 0,
          categories: [],
          placements: ['query'],
          encodings: ['plain'],
          exhaustive: false,
        },
      },
    ],
    metrics: {
      cloudwatch: { region: REGION, api: { type: 'REST', name: API_NAME, stage: STAGE, detailed: false }, ...overrides },
      tolerance: { ...DEFAULT_METRICS_TOLERANCE, ...tolerance },
      waitSec: 0,
    },
  };
}

/** One request of a scripted minute: its status (undefined: a transport error) and probe. */
export interface Scripted {
  status?: number;
  probe?: string;
  path?: string;
}

/**
 * The same traffic on both sides: the client's ledger (observations 20–40 s into each minute, so
 * none is near an edge) and the gateway's recorder, unless `gateway` says otherwise per minute.
 */
export interface ScriptedMinute {
  minuteStartMs: number;
  client: Scripted[];
  /** What the gateway recorded, when it differs from what the client saw. */
  gateway?: Scripted[];
}

export function scriptTraffic(minutes: ScriptedMinute[], recorder: MetricsRecorder, wafRecorder?: MetricsRecorder): MinuteLedger {
  const ledger = new MinuteLedger({
    toEpochMs: (ms) => ms, // the run clock is the epoch here
    // metricsPolicy's one route has a WAF blocking with 403: its check tags the `waf.*` probes below.
    isWafBlock: (o) => isWafBlock(metricsPolicy(), o),
    clockSkewMs: 1_000,
  });
  for (const minute of minutes) {
    minute.client.forEach((r, i) => {
      const sentAtMs = minute.minuteStartMs + 20_000 + (i * 20_000) / Math.max(1, minute.client.length);
      const observation: Observation = {
        probe: r.probe ?? 'slo',
        method: 'GET',
        path: r.path ?? '/api/items',
        intendedAtMs: sentAtMs,
        sentAtMs,
        doneAtMs: sentAtMs + 5 + (i % 10),
        headers: {},
        ...(r.status !== undefined ? { status: r.status } : { error: 'ECONNRESET' }),
        ...(r.probe?.startsWith('waf.') ? { check: 'waf:GET /api/items' } : {}),
      };
      ledger.add(observation);
    });
    (minute.gateway ?? minute.client).forEach((r, i) => {
      if (r.status === undefined) return;
      const at = minute.minuteStartMs + 20_000 + i;
      recorder.record(at, `GET ${r.path ?? '/api/items'}`, r.status, 3 + (i % 5));
      if (wafRecorder && r.probe?.startsWith('waf.'))
        wafRecorder.record(at, r.status === 403 ? 'SQLi_QUERYARGUMENTS' : '(allowed)', r.status === 403 ? 403 : 200, 0);
    });
  }
  return ledger;
}

export function repeat(n: number, item: Scripted): Scripted[] {
  return Array.from({ length: n }, () => ({ ...item }));
}

export async function startEmulator(
  options: { pageSize?: number; waf?: boolean } = {},
): Promise<{ endpoint: CloudWatchEndpointHandle; recorder: MetricsRecorder; wafRecorder: MetricsRecorder }> {
  const recorder = new MetricsRecorder();
  const wafRecorder = new MetricsRecorder();
  const endpoint = await startCloudWatchEndpoint({
    recorder,
    wafRecorder,
    apiName: API_NAME,
    stage: STAGE,
    region: REGION,
    webAcl: WEB_ACL,
    ...(options.pageSize ? { pageSize: options.pageSize } : {}),
  });
  return { endpoint, recorder, wafRecorder };
}

/** The statistics of each GetMetricData call the endpoint received, in order: one list per call (one per query group). */
export function statsPerCall(endpoint: CloudWatchEndpointHandle): string[][] {
  type Body = { MetricDataQueries: Array<{ MetricStat: { Stat: string } }> };
  return endpoint.requests.map((r) => (JSON.parse(r.body) as Body).MetricDataQueries.map((q) => q.MetricStat.Stat));
}

/** Settings for the emulator: dummy credentials, fast polls, few SDK attempts. */
export function emulatorSettings(endpoint: CloudWatchEndpointHandle, extra: MetricsSettings = {}): MetricsSettings {
  return {
    endpoint: endpoint.url,
    credentials: DUMMY_CREDENTIALS,
    waitSec: 0,
    poll: { firstDelayMs: 20, maxDelayMs: 50 },
    maxAttempts: 3,
    ...extra,
  };
}

/**
 * The metrics check as a run drives it, without the run: collect (CloudWatch, polling), then the
 * pure evaluate on its notes; the result as report.json carries it, settled by the gate (the
 * default `high`, under which a CloudWatch disagreement, `medium`, passes with its finding listed).
 */
export async function runMetricsCheck(args: MetricsCheckArgs, failOn: GateLevel = 'high'): Promise<CheckResult> {
  const policy = withMetricsFlags(args.policy, args.settings);
  const [instance] = metricsCheck.select(policy);
  const notes = await collectMetrics({ ...args, policy });
  // Through JSON, as a recording keeps them: evaluate must not need anything JSON loses.
  const recorded = JSON.parse(JSON.stringify(notes)) as typeof notes;
  const verdict = metricsCheck.evaluate(instance!.spec, { observations: [], notes: recorded }, policy);
  const expected = metricsCheck.expected(instance!.spec, policy);
  const base = { id: `metrics:${instance!.route}`, kind: 'metrics' as const, route: instance!.route, expected };
  const raw: CheckResult = { ...base, ...verdict, findings: qualifyFindings(base.id, verdict), durationMs: 0, requestsSent: 0 };
  return applyGate([raw], { failOn, today: isoDay(new Date()) }).checks[0]!;
}

/** The report's Markdown for a metrics result (its tables and chart). */
export function markdownOf(result: CheckResult): string {
  return renderMetrics(result).join('\n');
}
