/**
 * The real AWS SDK against the reference gateway's CloudWatch endpoint, over loopback sockets:
 * the wire-protocol tripwire, pagination, PartialData, empty results, late minutes, throttling
 * and access denied, each through gatecheck's own cloudwatch module and metrics check.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openCloudWatch } from '../../src/cloudwatch/client.js';
import { fetchMetrics } from '../../src/cloudwatch/fetch.js';
import { planQueries } from '../../src/cloudwatch/queries.js';
import { MINUTE_MS } from '../../src/engine/minute-ledger.js';
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
  type ScriptedMinute,
} from './helpers.js';

// The SDK warns on Node 20 about its 2027 releases; that is not what these tests are about.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

type Emulator = Awaited<ReturnType<typeof startEmulator>>;
let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(() => emu.endpoint.close());
afterEach(() => {
  emu.recorder.clear();
  emu.wafRecorder.clear();
  emu.endpoint.requests.length = 0;
  Object.assign(emu.endpoint.behaviour, { throttleNext: 0, denyAccess: false, withholdFromMs: undefined });
});

/** Three busy minutes, 3 to 1 minutes ago: 2xx, 429s, 5xx and WAF blocks. */
function threeMinutes(gatewayLoses = 0) {
  const m = [pastMinute(3), pastMinute(2), pastMinute(1)];
  const traffic: ScriptedMinute[] = [
    {
      minuteStartMs: m[0]!,
      client: [
        ...repeat(40, { status: 200 }),
        ...repeat(10, { status: 429 }),
        ...repeat(5, { status: 403, probe: 'waf.sqli' }),
        ...repeat(5, { status: 200, probe: 'waf.benign' }),
      ],
    },
    { minuteStartMs: m[1]!, client: [...repeat(30, { status: 200 }), ...repeat(2, { status: 503 })] },
    { minuteStartMs: m[2]!, client: repeat(25, { status: 200 }) },
  ];
  if (gatewayLoses) traffic[1] = { ...traffic[1]!, gateway: traffic[1]!.client.slice(gatewayLoses) };
  return { minutes: m, ledger: scriptTraffic(traffic, emu.recorder, emu.wafRecorder) };
}

describe('wire protocol tripwire: what the installed SDK sends', () => {
  it('is awsJson1_0 (POST /, x-amz-target, epoch-second timestamps), SigV4-signed, in a version ≥ 3.949', async () => {
    const version = (
      JSON.parse(readFileSync(new URL('../../node_modules/@aws-sdk/client-cloudwatch/package.json', import.meta.url), 'utf8')) as {
        version: string;
      }
    ).version;
    const [major, minor] = version.split('.').map(Number) as [number, number];
    expect(major === 3 && minor >= 949, `@aws-sdk/client-cloudwatch ${version}`).toBe(true);

    const reader = await openCloudWatch({ region: REGION, endpoint: emu.endpoint.url, credentials: DUMMY_CREDENTIALS });
    const window = { startMs: pastMinute(5), endMs: pastMinute(0) };
    await fetchMetrics(reader, planQueries(metricsPolicy().metrics.cloudwatch, REGION), window);
    reader.close();

    const [seen] = emu.endpoint.requests;
    expect(seen).toBeDefined();
    expect(seen!.method).toBe('POST');
    expect(seen!.url).toBe('/');
    expect(seen!.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(seen!.headers['x-amz-target']).toBe('GraniteServiceVersion20100801.GetMetricData');
    expect(seen!.headers['x-amzn-query-mode']).toBe('true');
    expect(seen!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/monitoring\/aws4_request/);
    const body = JSON.parse(seen!.body) as Record<string, unknown>;
    // Epoch seconds as JSON numbers: not ISO strings (a protocol change), not milliseconds.
    expect(body.StartTime).toBe(window.startMs / 1000);
    expect(body.EndTime).toBe(window.endMs / 1000);
    expect(body.ScanBy).toBe('TimestampAscending');
    // One call per query group: the plain statistics, then the percentiles (queries.ts).
    expect(statsPerCall(emu.endpoint)).toEqual([
      ['Sum', 'Sum', 'Sum'],
      ['p50', 'p99', 'p99'],
    ]);
  });

  it('reads epoch-second timestamps back as Dates on the right minutes', async () => {
    const { minutes } = threeMinutes();
    const reader = await openCloudWatch({ region: REGION, endpoint: emu.endpoint.url, credentials: DUMMY_CREDENTIALS });
    const queries = planQueries(metricsPolicy().metrics.cloudwatch, REGION);
    const fetched = await fetchMetrics(reader, queries, { startMs: minutes[0]!, endMs: minutes[2]! + MINUTE_MS });
    reader.close();
    expect([...fetched.series.get('count_api')!.entries()]).toEqual([
      [minutes[0], 60],
      [minutes[1], 32],
      [minutes[2], 25],
    ]);
    expect([...fetched.series.get('e5xx_api')!.values()]).toEqual([0, 2, 0]);
    expect(fetched.series.get('ilat99_api')!.size).toBe(0); // not recorded by the gateway: empty, as on AWS
    expect(fetched.incomplete).toEqual([]);
  });
});

describe('metrics check against the emulator', () => {
  it('reconciles three minutes: Count, 4XX (429s), 5XX and WAF BlockedRequests agree → pass, with a table and a chart', async () => {
    const { ledger } = threeMinutes();
    const policy = metricsPolicy({ waf: { webAcl: WEB_ACL, rule: 'ALL' } });
    const result = await runMetricsCheck({ policy, ledger, settings: emulatorSettings(emu.endpoint), progress: () => {} });
    expect(result.status, result.summary).toBe('pass');
    expect(result.summary).toMatch(
      /agrees with the client in 3 minute\(s\): Count 117 vs 117 answered, 4xx 15 vs 15 \(10 were 429\), 5xx 2 vs 2, WAF blocked 5 vs 5/,
    );
    expect(result).toMatchObject({ id: 'metrics:gatecheck-test/test', kind: 'metrics', route: 'gatecheck-test/test' });
    expect(markdownOf(result)).toContain('| Minute (UTC) | Answered (client) | Count (CW) |');
    expect(markdownOf(result)).toContain('![metrics gatecheck-test/test](charts/metrics-gatecheck-test-test.svg)');
    expect(result.observed).toMatchObject({ comparedMinutes: 3, polls: 1, pages: 3 }); // counts, percentiles, WAF: a call each
  });

  it('follows NextToken through small pages (PartialData), the same answer', async () => {
    const { ledger, minutes } = threeMinutes();
    const result = await runMetricsCheck({
      policy: metricsPolicy(),
      ledger,
      settings: emulatorSettings(emu.endpoint, { maxDatapoints: 2 }),
      progress: () => {},
    });
    expect(result.status, result.summary).toBe('pass');
    // 3 minutes × (Count, 4XX, 5XX) = 9 datapoints, then × (p50, p99) = 6 in the percentile call, 2 a page.
    expect(result.observed).toMatchObject({ pages: 8 });
    const bodies = emu.endpoint.requests.map((r) => JSON.parse(r.body) as { NextToken?: string; MaxDatapoints?: number });
    expect(bodies.map((b) => b.NextToken)).toEqual([undefined, 'page-2', 'page-4', 'page-6', 'page-8', undefined, 'page-2', 'page-4']);
    expect(bodies.every((b) => b.MaxDatapoints === 2)).toBe(true);

    // The wire answer of the first page says PartialData for the query it cut (newest first: CloudWatch's default ScanBy).
    const reader = await openCloudWatch({ region: REGION, endpoint: emu.endpoint.url, credentials: DUMMY_CREDENTIALS });
    const page = await reader.getMetricData({
      StartTime: new Date(minutes[0]!),
      EndTime: new Date(minutes[2]! + MINUTE_MS),
      MaxDatapoints: 2,
      MetricDataQueries: [
        {
          Id: 'c',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/ApiGateway',
              MetricName: 'Count',
              Dimensions: [
                { Name: 'ApiName', Value: 'gatecheck-test' },
                { Name: 'Stage', Value: 'test' },
              ],
            },
            Period: 60,
            Stat: 'Sum',
          },
        },
      ],
    });
    reader.close();
    expect(page.MetricDataResults).toEqual([expect.objectContaining({ Id: 'c', StatusCode: 'PartialData', Values: [25, 32] })]);
    expect(page.NextToken).toBe('page-2');
  });

  it('an unknown API name gets empty results → error, never pass', async () => {
    const { ledger } = threeMinutes();
    const policy = metricsPolicy({ api: { type: 'REST', name: 'no-such-api', stage: 'test', detailed: false } });
    const result = await runMetricsCheck({ policy, ledger, settings: emulatorSettings(emu.endpoint), progress: () => {} });
    expect(result.status).toBe('error');
    expect(result.summary).toMatch(
      new RegExp(
        /CloudWatch has no datapoint for REST API ApiName=no-such-api, Stage=test in .* UTC \(after 1 poll over 0 s\): /.source +
          /check the API name or id, the stage and the Region/.source,
      ),
    );
  });

  it("a WebSocket API is reconciled with the run's WebSocket traffic: HTTP requests alone leave nothing to reconcile → error", async () => {
    const { ledger } = threeMinutes();
    const policy = metricsPolicy({ api: { type: 'WEBSOCKET', id: 'w1b2c3d4e5', stage: 'test', detailed: false } });
    const result = await runMetricsCheck({ policy, ledger, settings: emulatorSettings(emu.endpoint), progress: () => {} });
    expect(result.status).toBe('error');
    expect(result.summary).toMatch(/nothing to reconcile/);
  });

  it('late minutes: polls with backoff, then names the minute still missing → inconclusive', async () => {
    const { ledger, minutes } = threeMinutes();
    emu.endpoint.behaviour.withholdFromMs = minutes[2];
    const result = await runMetricsCheck({
      policy: metricsPolicy(),
      ledger,
      settings: emulatorSettings(emu.endpoint, { waitSec: 0.15 }),
      progress: () => {},
    });
    expect(result.status).toBe('inconclusive');
    const hhmm = new Date(minutes[2]!).toISOString().slice(11, 16);
    expect(result.summary).toMatch(/^not every minute could be reconciled \(after \d+ polls over 0 s\): /);
    expect(result.summary).toContain(`${hhmm}: no CloudWatch datapoint, though the client completed 25 request(s)`);
    expect(result.observed).toMatchObject({ missingMinutes: [new Date(minutes[2]!).toISOString().slice(0, 16) + 'Z'] });
    expect((result.observed as { polls: number }).polls).toBeGreaterThanOrEqual(3);
  });

  it('late minutes that arrive while polling → pass', async () => {
    const { ledger, minutes } = threeMinutes();
    emu.endpoint.behaviour.withholdFromMs = minutes[2];
    const releaseAfterFirstPoll = (line: string) => {
      if (line.includes('poll 1:')) emu.endpoint.behaviour.withholdFromMs = undefined;
    };
    const result = await runMetricsCheck({
      policy: metricsPolicy(),
      ledger,
      settings: emulatorSettings(emu.endpoint, { waitSec: 5 }),
      progress: releaseAfterFirstPoll,
    });
    expect(result.status, result.summary).toBe('pass');
    expect(result.observed).toMatchObject({ polls: 2, comparedMinutes: 3 });
  });

  it('a deficit the gateway really has → fail at --fail-on medium, after the wait', async () => {
    const { ledger } = threeMinutes(10); // the gateway's metrics lost 10 answered requests in minute 2
    const args = { policy: metricsPolicy(), ledger, settings: emulatorSettings(emu.endpoint, { waitSec: 0.05 }), progress: () => {} };
    const result = await runMetricsCheck(args, 'medium');
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/CloudWatch misses traffic the client saw: \d\d:\d\d: CloudWatch Count 22 < 31/);
    expect(result.findings.map((f) => [f.id, f.severity, f.disposition])).toEqual([
      ['metrics:gatecheck-test/test#deficit:count:api', 'medium', 'gating'],
    ]);
  });

  it('the same deficit under the default gate (high) → pass, the medium finding listed', async () => {
    const { ledger } = threeMinutes(10);
    const args = { policy: metricsPolicy(), ledger, settings: emulatorSettings(emu.endpoint, { waitSec: 0.05 }), progress: () => {} };
    const result = await runMetricsCheck(args);
    expect(result.status).toBe('pass');
    expect(result.summary).toBe('pass · 1 medium: CloudWatch Count misses traffic the client saw (the API, 1 minute)');
    expect(result.findings.map((f) => [f.id, f.disposition])).toEqual([['metrics:gatecheck-test/test#deficit:count:api', 'below-gate']]);
  });

  it('someone else sharing the stage → inconclusive, saying so', async () => {
    const { ledger, minutes } = threeMinutes();
    for (let i = 0; i < 40; i++) emu.recorder.record(minutes[1]! + 30_000, 'GET /other', 200, 2);
    const result = await runMetricsCheck({ policy: metricsPolicy(), ledger, settings: emulatorSettings(emu.endpoint), progress: () => {} });
    expect(result.status).toBe('inconclusive');
    expect(result.summary).toMatch(/someone else shares the stage.*Count 72 > 33/);
  });
});

describe('CloudWatch failures become an error verdict, never a crash', () => {
  it('Throttling is retried by the SDK, then succeeds → pass', async () => {
    const { ledger } = threeMinutes();
    emu.endpoint.behaviour.throttleNext = 1;
    const result = await runMetricsCheck({ policy: metricsPolicy(), ledger, settings: emulatorSettings(emu.endpoint), progress: () => {} });
    expect(result.status, result.summary).toBe('pass');
    expect(result.observed).toMatchObject({ sdkAttempts: 3, pages: 2 }); // the counts call retried once, the percentile call
    const attempts = emu.endpoint.requests.map((r) => r.headers['amz-sdk-request']);
    expect(attempts).toEqual(['attempt=1; max=3', 'attempt=2; max=3', 'attempt=1; max=3']);
  });

  it('Throttling that outlasts the retries → error naming it', async () => {
    const { ledger } = threeMinutes();
    emu.endpoint.behaviour.throttleNext = 100;
    const result = await runMetricsCheck({
      policy: metricsPolicy(),
      ledger,
      settings: emulatorSettings(emu.endpoint, { maxAttempts: 2 }),
      progress: () => {},
    });
    expect(result.status).toBe('error');
    expect(result.summary).toMatch(/^metrics not verified: CloudWatch throttled GetMetricData \(Throttling\) after 2 attempts/);
    expect(result.observed).toMatchObject({ error: 'Throttled', awsCode: 'Throttling', sdkAttempts: 2 });
  });

  it('AccessDenied → error naming the IAM permission', async () => {
    const { ledger } = threeMinutes();
    emu.endpoint.behaviour.denyAccess = true;
    const result = await runMetricsCheck({ policy: metricsPolicy(), ledger, settings: emulatorSettings(emu.endpoint), progress: () => {} });
    expect(result.status).toBe('error');
    expect(result.summary).toMatch(
      new RegExp(
        /CloudWatch refused GetMetricData \(AccessDenied\) .*not authorized to perform: cloudwatch:GetMetricData.*/.source +
          /The credentials need the IAM permission cloudwatch:GetMetricData/.source,
      ),
    );
    expect(result.evidence[0]).toMatchObject({ probe: 'metrics.GetMetricData', error: 'AccessDenied', outcome: 'unresolved' });
  });

  it('an endpoint nobody listens on → error, cannot reach', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { ledger } = threeMinutes();
    const result = await runMetricsCheck({
      policy: metricsPolicy(),
      ledger,
      settings: { ...emulatorSettings(emu.endpoint), endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 },
      progress: () => {},
    });
    expect(result.status).toBe('error');
    expect(result.summary).toMatch(/cannot reach CloudWatch at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it('a run whose requests got no answer → error without calling CloudWatch', async () => {
    const ledger = scriptTraffic([{ minuteStartMs: pastMinute(2), client: repeat(3, {}) }], emu.recorder);
    const result = await runMetricsCheck({ policy: metricsPolicy(), ledger, settings: emulatorSettings(emu.endpoint), progress: () => {} });
    expect(result).toMatchObject({ status: 'error', summary: 'no request got an answer during the run: nothing to reconcile' });
    expect(emu.endpoint.requests).toEqual([]);
  });
});
