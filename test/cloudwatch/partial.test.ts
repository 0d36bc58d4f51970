/**
 * A CloudWatch that serves only part of what gatecheck asks (moto and LocalStack answer 500 to any
 * call holding a percentile): the reference gateway's emulator fails chosen query groups over
 * loopback, and the real SDK, fetch, check and pull go through it. A group the endpoint cannot
 * serve costs only its own metrics, named; a genuine failure, or no group read, stays an error.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runMetricsPull } from '../../src/checks/metrics/pull.js';
import { openCloudWatch } from '../../src/cloudwatch/client.js';
import { fetchMetrics } from '../../src/cloudwatch/fetch.js';
import { planQueries } from '../../src/cloudwatch/queries.js';
import { MINUTE_MS } from '../../src/engine/minute-ledger.js';
import type { EmulatorBehaviour } from '../../src/gateway/cloudwatch-endpoint.js';
import {
  DUMMY_CREDENTIALS,
  emulatorSettings,
  markdownOf,
  metricsPolicy,
  pastMinute,
  REGION,
  repeat,
  runMetricsCheck,
  scriptTraffic,
  startEmulator,
  statsPerCall,
  WEB_ACL,
} from './helpers.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const PERCENTILES = / p\d+$/; // `AWS/ApiGateway Latency p99`
const AS_MOTO: EmulatorBehaviour['failQueries'] = { pattern: PERCENTILES, error: 'InternalFailure' };
const WITH_WAF = { waf: { webAcl: WEB_ACL, rule: 'ALL' } };

let emu: Awaited<ReturnType<typeof startEmulator>>;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(() => emu.endpoint.close());
afterEach(() => {
  emu.recorder.clear();
  emu.wafRecorder.clear();
  emu.endpoint.requests.length = 0;
  Object.assign(emu.endpoint.behaviour, { withholdFromMs: undefined, failQueries: undefined });
});

const WAF_BLOCK = { status: 403, probe: 'waf.sqli' };

/** Two busy minutes, with 429s, a 5xx and WAF blocks, seen alike by the client and the gateway. */
function twoMinutes() {
  const minutes = [pastMinute(3), pastMinute(2)];
  const ledger = scriptTraffic(
    [
      { minuteStartMs: minutes[0]!, client: [...repeat(30, { status: 200 }), ...repeat(6, { status: 429 }), ...repeat(4, WAF_BLOCK)] },
      { minuteStartMs: minutes[1]!, client: [...repeat(20, { status: 200 }), ...repeat(1, { status: 502 })] },
    ],
    emu.recorder,
    emu.wafRecorder,
  );
  return { minutes, ledger };
}

/** Two attempts a call: the SDK retries a 500 once, so a failing group is quick. */
const settings = (extra: Parameters<typeof emulatorSettings>[1] = {}) => emulatorSettings(emu.endpoint, { maxAttempts: 2, ...extra });

describe('query groups: one GetMetricData call each', () => {
  it('a percentile group the endpoint answers with 500 is unavailable alone; counts and WAF are read; a later poll skips it', async () => {
    const { minutes } = twoMinutes();
    emu.endpoint.behaviour.failQueries = AS_MOTO;
    const reader = await openCloudWatch({ region: REGION, endpoint: emu.endpoint.url, credentials: DUMMY_CREDENTIALS, maxAttempts: 2 });
    const queries = planQueries(metricsPolicy(WITH_WAF).metrics.cloudwatch, REGION);
    const window = { startMs: minutes[0]!, endMs: minutes[1]! + MINUTE_MS };
    const fetched = await fetchMetrics(reader, queries, window);

    expect([...fetched.series.get('count_api')!.values()]).toEqual([40, 21]);
    expect([...fetched.series.get('wafBlocked_waf')!.values()]).toEqual([4]);
    expect(fetched.series.get('lat99_api')!.size).toBe(0);
    expect(fetched.unavailable).toEqual([
      {
        group: 'percentiles',
        metrics: ['Latency p50', 'Latency p99', 'IntegrationLatency p99'],
        roles: ['latencyP50', 'latencyP99', 'integrationLatencyP99'],
        code: 'Service',
        awsCode: 'InternalFailure',
        error: expect.stringMatching(/^CloudWatch answered 500 \(InternalFailure\) after 2 attempts at http:\/\/127\.0\.0\.1:\d+: /),
      },
    ]);
    // Counts, the percentile call and its retry, WAF; pages counts answers, attempts every try.
    expect(statsPerCall(emu.endpoint)).toEqual([
      ['Sum', 'Sum', 'Sum'],
      ['p50', 'p99', 'p99'],
      ['p50', 'p99', 'p99'],
      ['Sum', 'Sum'],
    ]);
    expect(fetched).toMatchObject({ pages: 2, attempts: 4, incomplete: [] });

    emu.endpoint.requests.length = 0;
    const again = await fetchMetrics(reader, queries, window, { skip: fetched.unavailable });
    reader.close();
    expect(statsPerCall(emu.endpoint)).toEqual([
      ['Sum', 'Sum', 'Sum'],
      ['Sum', 'Sum'],
    ]);
    expect(again.unavailable).toEqual(fetched.unavailable);
  });

  it('no group read → throws the first failure, as a single call did', async () => {
    emu.endpoint.behaviour.failQueries = { pattern: /./, error: 'InternalFailure' };
    const reader = await openCloudWatch({ region: REGION, endpoint: emu.endpoint.url, credentials: DUMMY_CREDENTIALS, maxAttempts: 1 });
    const queries = planQueries(metricsPolicy(WITH_WAF).metrics.cloudwatch, REGION);
    await expect(fetchMetrics(reader, queries, { startMs: pastMinute(3), endMs: pastMinute(1) })).rejects.toMatchObject({
      code: 'Service',
      message: expect.stringMatching(/^CloudWatch answered 500 \(InternalFailure\) at .*: cannot compute AWS\/ApiGateway Count Sum/),
    });
    reader.close();
    expect(statsPerCall(emu.endpoint).length).toBe(3); // every group was tried
  });
});

describe('metrics check (after a run) against a partial endpoint', () => {
  it('percentiles unavailable: Count, 4XX, 5XX and WAF still reconcile → pass, naming Latency p99 as not reconciled', async () => {
    const { ledger } = twoMinutes();
    emu.endpoint.behaviour.failQueries = AS_MOTO;
    const result = await runMetricsCheck({ policy: metricsPolicy(WITH_WAF), ledger, settings: settings(), progress: () => {} });
    expect(result.status, result.summary).toBe('pass');
    expect(result.summary).toBe(
      'CloudWatch agrees with the client in 2 minute(s): ' +
        'Count 61 vs 61 answered, 4xx 10 vs 10 (6 were 429), 5xx 1 vs 1, WAF blocked 4 vs 4; ' +
        'not reconciled, not available from this endpoint: Latency p50, Latency p99, IntegrationLatency p99',
    );
    expect(result.observed.unavailable).toEqual([
      {
        metrics: ['Latency p50', 'Latency p99', 'IntegrationLatency p99'],
        group: 'percentile statistics',
        code: 'InternalFailure',
        error: expect.stringContaining('CloudWatch answered 500'),
      },
    ]);
    expect(markdownOf(result)).toContain('**Not available from this endpoint** (n/a above; not reconciled):');
    // Minute 1: answered, Count, 4xx / 429, 4XX, 5xx, 5XX, WAF blocks, p50 and p99 (client / CloudWatch), result.
    const range = String.raw`\[\d+–\d+\]`;
    const latency = String.raw`[\d.]+ / n/a`;
    const row = String.raw`\| 40 \| 40 ${range} \| 10 / 6 \| 10 ${range} \| 0 \| 0 ${range} \| 4 / 4 \| ${latency} \| ${latency} \|`;
    expect(markdownOf(result)).toMatch(new RegExp(row));
    expect(result.evidence.map((e) => [e.label, e.outcome])).toEqual([
      ['CloudWatch GetMetricData', 'info'],
      ['CloudWatch GetMetricData, percentile statistics', 'unresolved'],
    ]);
  });

  it('polling for a late minute does not ask the unavailable group again', async () => {
    const { ledger, minutes } = twoMinutes();
    emu.endpoint.behaviour.failQueries = AS_MOTO;
    emu.endpoint.behaviour.withholdFromMs = minutes[1];
    const release = (line: string) => {
      if (line.includes('poll 1:')) emu.endpoint.behaviour.withholdFromMs = undefined;
    };
    const result = await runMetricsCheck({ policy: metricsPolicy(), ledger, settings: settings({ waitSec: 5 }), progress: release });
    expect(result.status, result.summary).toBe('pass');
    expect(result.observed).toMatchObject({ polls: 2, comparedMinutes: 2 });
    // Poll 1: counts, percentiles twice (one retry); poll 2: counts only.
    expect(statsPerCall(emu.endpoint).map((stats) => stats[0])).toEqual(['Sum', 'p50', 'p50', 'Sum']);
  });

  it('the web ACL\'s metrics unavailable → inconclusive, naming them (the policy asked for them), not "check its name"', async () => {
    const { ledger } = twoMinutes();
    emu.endpoint.behaviour.failQueries = { pattern: /^AWS\/WAFV2 /, error: 'InternalFailure' };
    const result = await runMetricsCheck({ policy: metricsPolicy(WITH_WAF), ledger, settings: settings(), progress: () => {} });
    expect(result.status, result.summary).toBe('inconclusive');
    expect(result.summary).toMatch(/^not every metric could be read: WAF BlockedRequests, WAF AllowedRequests not available from this/);
    expect(result.summary).toContain('(CloudWatch answered 500 (InternalFailure)');
    expect(result.summary).not.toMatch(/check metrics\.cloudwatch\.waf\.webAcl/);
    expect(markdownOf(result)).toMatch(/\| 4 \/ n\/a \|/);
  });

  it('counts unavailable (percentiles readable) → error: nothing to reconcile', async () => {
    const { ledger } = twoMinutes();
    emu.endpoint.behaviour.failQueries = { pattern: /^AWS\/ApiGateway .* Sum$/, error: 'InternalFailure' };
    const result = await runMetricsCheck({ policy: metricsPolicy(), ledger, settings: settings(), progress: () => {} });
    expect(result.status).toBe('error');
    const lead = 'metrics not verified: Count, 4XXError, 5XXError not available from this endpoint, so nothing was read: CloudWatch';
    expect(result.summary.startsWith(lead), result.summary).toBe(true);
    expect(result.observed).toMatchObject({ error: 'Service', awsCode: 'InternalFailure' });
  });

  it('every group fails → error, as before grouping', async () => {
    const { ledger } = twoMinutes();
    emu.endpoint.behaviour.failQueries = { pattern: /./, error: 'InternalFailure' };
    const result = await runMetricsCheck({ policy: metricsPolicy(WITH_WAF), ledger, settings: settings(), progress: () => {} });
    expect(result.status).toBe('error');
    expect(result.summary).toMatch(/^metrics not verified: CloudWatch answered 500 \(InternalFailure\) after 2 attempts/);
  });

  it('a genuine failure of the percentile call (Throttling after retries) → error, never a pass with a gap', async () => {
    const { ledger } = twoMinutes();
    emu.endpoint.behaviour.failQueries = { pattern: PERCENTILES, error: 'Throttling' };
    const result = await runMetricsCheck({ policy: metricsPolicy(), ledger, settings: settings(), progress: () => {} });
    expect(result.status).toBe('error');
    expect(result.summary).toMatch(/^metrics not verified: CloudWatch throttled GetMetricData \(Throttling\) after 2 attempts/);
    expect(result.observed).toMatchObject({ error: 'Throttled' });
  });
});

describe('gatecheck metrics (the pull) against a partial endpoint', () => {
  const pull = (fromMs: number) =>
    runMetricsPull({ policy: metricsPolicy(), fromMs, toMs: Date.now(), settings: settings(), progress: () => {} });

  it('percentiles unavailable → pass with the counts shown, Latency n/a and named', async () => {
    const { minutes } = twoMinutes();
    emu.endpoint.behaviour.failQueries = AS_MOTO;
    const result = await pull(minutes[0]!);
    expect(result.status, result.summary).toBe('pass');
    expect(result.summary).toMatch(/reconciled\); not available from this endpoint: Latency p50, Latency p99, IntegrationLatency p99$/);
    expect(markdownOf(result)).toMatch(/\| \d\d:\d\d \| 40 \| 10 \| 0 \| n\/a \| n\/a \| n\/a \| — \|/);
    const unavailable = [{ group: 'percentile statistics', code: 'InternalFailure' }];
    expect(result.observed).toMatchObject({ minutesWithData: 2, unavailable });
  });

  it('every group fails → error', async () => {
    const { minutes } = twoMinutes();
    emu.endpoint.behaviour.failQueries = { pattern: /./, error: 'InternalFailure' };
    const result = await pull(minutes[0]!);
    expect(result.status).toBe('error');
    expect(result.summary).toMatch(/^metrics not read: CloudWatch answered 500 \(InternalFailure\)/);
  });
});
