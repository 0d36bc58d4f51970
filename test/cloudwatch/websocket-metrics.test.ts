/**
 * CloudWatch for WebSocket APIs: the ledger's WebSocket lane (upgrades and messages filed by what
 * answered them), the ConnectCount / MessageCount / ClientError bounds and verdicts (pure, tables),
 * the policy's `websocketApi`, and the reference gateway's emulator answering those metrics from
 * its WebSocket recorder through the real AWS SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsApis } from '../../src/checks/metrics/check.js';
import { evaluateMetrics, reconcile, wsMinuteBounds, type CloudWatchMinute } from '../../src/checks/metrics/reconcile.js';
import { MinuteLedger, MINUTE_MS, WS_CONNECT, WS_MESSAGE, wsStatus, type MinuteSnapshot } from '../../src/engine/minute-ledger.js';
import type { Observation } from '../../src/engine/observation.js';
import { startCloudWatchEndpoint, type CloudWatchEndpointHandle } from '../../src/gateway/cloudwatch-endpoint.js';
import { MetricsRecorder } from '../../src/gateway/metrics-recorder.js';
import { parsePolicy } from '../../src/policy/load.js';
import { DEFAULT_METRICS_TOLERANCE } from '../../src/policy/types.js';
import { API_NAME, emulatorSettings, markdownOf, metricsPolicy, pastMinute, REGION, runMetricsCheck, STAGE } from './helpers.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const WS_ID = 'w1b2c3d4e5';
const THROTTLED = '{"message":"Too Many Requests","connectionId":"abc=","requestId":"r-1"}';
const INTERNAL = '{"message":"Internal server error","connectionId":"abc=","requestId":"r-2"}';

type Kind = 'open' | 'refused' | 'echo' | 'throttled' | 'internal' | 'closed' | 'timeout' | 'not-sent' | 'http';

/** One observation as ws-client.ts (or the HTTP client, for `http`) publishes it. */
function observation(kind: Kind, atMs: number): Observation {
  const base = { probe: 'ws-test', path: '/ws', intendedAtMs: atMs, sentAtMs: atMs, doneAtMs: atMs + 3, headers: {} };
  const url = 'ws://127.0.0.1/ws';
  const message = { event: 'message' as const, url, connection: 0, bytes: 20, frames: 1 };
  switch (kind) {
    case 'open':
      return { ...base, method: 'GET', status: 101, ws: { event: 'connect', url } };
    case 'refused':
      return { ...base, method: 'GET', status: 403, bodySnippet: '{"message":"Forbidden"}', ws: { event: 'connect', url } };
    case 'echo':
      return { ...base, method: 'WS', bodySnippet: '{"action":"echo","message":"hi"}', ws: { ...message, answer: 'frame' } };
    case 'throttled':
      return { ...base, method: 'WS', bodySnippet: THROTTLED, ws: { ...message, answer: 'frame' } };
    case 'internal':
      return { ...base, method: 'WS', bodySnippet: INTERNAL, ws: { ...message, answer: 'frame' } };
    case 'closed':
      return { ...base, method: 'WS', ws: { ...message, answer: 'close', closeCode: 1009 } };
    case 'timeout':
      return { ...base, method: 'WS', error: 'timeout', ws: { ...message, answer: 'none' } };
    case 'not-sent':
      return { ...base, method: 'WS', error: 'socket closed', ws: { ...message, answer: 'none' } };
    case 'http':
      return { ...base, method: 'GET', path: '/api/items', status: 200 };
  }
}

/** A ledger fed `counts` of each kind per minute, 20–40 s into the minute (no edges), run clock = epoch. */
function ledgerOf(minutes: Array<{ minuteStartMs: number; traffic: Partial<Record<Kind, number>> }>): MinuteLedger {
  const ledger = new MinuteLedger({ toEpochMs: (ms) => ms, clockSkewMs: 1_000 });
  for (const { minuteStartMs, traffic } of minutes) {
    const all = Object.entries(traffic).flatMap(([kind, n]) => Array.from({ length: n }, () => kind as Kind));
    all.forEach((kind, i) => ledger.add(observation(kind, minuteStartMs + 20_000 + (i * 20_000) / all.length)));
  }
  return ledger;
}

const T0 = 1_764_460_800_000; // a minute start
const options = { tolerance: DEFAULT_METRICS_TOLERANCE, names: { error4xx: '4XXError', error5xx: '5XXError' }, websocket: true };
/** One busy minute: 4 sockets opened, 2 upgrades refused, 30 messages echoed, 7 throttled. */
const traffic = { open: 4, refused: 2, echo: 30, throttled: 7 };
const context = { source: 'WEBSOCKET API', window: 'w', waited: '', incomplete: [], clientCompleted: 1 };

describe('the minute ledger: a WebSocket lane', () => {
  it('files each outcome by the status API Gateway would log; messages never sent are left out', () => {
    expect(
      (['open', 'refused', 'echo', 'throttled', 'internal', 'closed', 'timeout', 'not-sent'] as const).map((k) =>
        wsStatus(observation(k, 0)),
      ),
    ).toEqual([101, 403, 200, 429, 500, undefined, undefined, 'not-sent']);
    // A route that answers with a `message` field of its own is not a gateway frame.
    expect(wsStatus({ ...observation('echo', 0), bodySnippet: '{"message":"Too Many Requests"}' })).toBe(200);
  });

  it('keeps WebSocket traffic out of the HTTP minutes and counts it in its own, per $connect and $message', () => {
    const ledger = ledgerOf([
      {
        minuteStartMs: T0,
        traffic: { http: 5, open: 4, refused: 2, echo: 30, throttled: 7, internal: 1, closed: 1, timeout: 1, 'not-sent': 3 },
      },
    ]);
    const http = ledger.snapshot();
    expect(http.map((m) => m.completed)).toEqual([5]);
    const ws = ledger.snapshot('websocket');
    expect(ws.map((m) => m.minuteStartMs)).toEqual([T0]);
    expect(ws[0]!.routes[WS_CONNECT]).toMatchObject({ completed: 6, status4xx: 2, transportErrors: 0 });
    expect(ws[0]!.routes[WS_MESSAGE]).toMatchObject({ completed: 38, status2xx: 30, status429: 7, status5xx: 1, transportErrors: 2 });
    expect(ledger.size).toBe(5 + 6 + 40);
    expect(ledger.window('websocket')).toEqual({ startMs: T0, endMs: T0 + MINUTE_MS });
  });
});

describe('WebSocket bounds and verdicts', () => {
  const minute = (traffic: Partial<Record<Kind, number>>): MinuteSnapshot[] =>
    ledgerOf([{ minuteStartMs: T0, traffic }]).snapshot('websocket');
  const cw = (values: CloudWatchMinute) => new Map([[T0, values]]);

  it('ConnectCount ⊇ opened, MessageCount between answered and twice everything, ClientError ⊇ refused upgrades', () => {
    const [m] = minute({ open: 4, refused: 2, echo: 30, throttled: 7, timeout: 1 });
    expect(wsMinuteBounds(m!, undefined, undefined, DEFAULT_METRICS_TOLERANCE)).toEqual({
      // tol = max(1, ⌈1% of client⌉)
      connectCount: { client: 4, lower: 3, upper: 6 + 1 },
      messageCount: { client: 30, lower: 29, upper: 2 * 38 + 6 + 1 },
      clientError: { client: 2, lower: 1, upper: 2 + 7 + 1 + 1 },
    });
  });

  it.each([
    ['what the gateway counts when it counts everything', { connectCount: 4, messageCount: 37, clientError: 9 }, 'pass', []],
    [
      'MessageCount with the answers counted too ("from or to the client")',
      { connectCount: 6, messageCount: 67, clientError: 2 },
      'pass',
      [],
    ],
    ['throttled messages left out of ClientError (like excessive 429s)', { connectCount: 4, messageCount: 30, clientError: 2 }, 'pass', []],
    [
      'MessageCount short of the answered messages',
      { connectCount: 4, messageCount: 15, clientError: 9 },
      'fail',
      ['deficit:messagecount:api'],
    ],
    [
      'ConnectCount short of the opened sockets',
      { connectCount: 1, messageCount: 37, clientError: 9 },
      'fail',
      ['deficit:connectcount:api'],
    ],
    [
      'ClientError without the refused upgrades',
      { connectCount: 4, messageCount: 37, clientError: 0 },
      'fail',
      ['deficit:clienterror:api'],
    ],
    [
      'MessageCount above anything the client could explain',
      { connectCount: 4, messageCount: 500, clientError: 9 },
      'inconclusive',
      ['excess:messagecount:api'],
    ],
  ] as const)('%s → %s', (_name, values, status, slugs) => {
    const r = reconcile(minute(traffic), cw(values), options);
    const verdict = evaluateMetrics(r, context);
    expect(verdict.status, verdict.summary).toBe(status);
    expect(verdict.findings.map((f) => f.id)).toEqual(slugs);
    if (slugs[0]?.startsWith('deficit')) expect(verdict.findings[0]!.severity).toBe('medium');
    if (status === 'pass') expect(verdict.summary).toMatch(/ConnectCount \d+ vs 4 opened, MessageCount \d+ vs 30 answered by the route/);
  });

  it('a minute with traffic and no WebSocket datapoint is missing (inconclusive); no datapoint at all is an error', () => {
    const two = ledgerOf([
      { minuteStartMs: T0, traffic },
      { minuteStartMs: T0 + MINUTE_MS, traffic: { echo: 10 } },
    ]).snapshot('websocket');
    const partial = evaluateMetrics(reconcile(two, cw({ connectCount: 4, messageCount: 37, clientError: 2 }), options), context);
    expect(partial.status).toBe('inconclusive');
    expect(partial.summary).toMatch(/no CloudWatch datapoint, though the client completed 0 upgrade\(s\) and 10 answered message\(s\)/);
    // HTTP's Count is no WebSocket datapoint.
    expect(evaluateMetrics(reconcile(two, cw({ count: 50 }), options), context).status).toBe('error');
  });
});

describe('the policy: websocketApi beside a REST api', () => {
  const text = (cloudwatch: string) => `version: 1
target: http://127.0.0.1:9
routes: [{ method: GET, path: /health }]
metrics:
  cloudwatch:
    region: us-east-1
${cloudwatch}`;

  it('gives the metrics check one instance per API, the WebSocket one without the web ACL', () => {
    const policy = parsePolicy(
      text(
        `    api: { type: REST, name: shop, stage: prod }\n    waf: { webAcl: shop-acl }\n    websocketApi: { id: ${WS_ID}, stage: prod }`,
      ),
      'p.yaml',
      { env: {} },
    );
    const apis = metricsApis(policy.metrics);
    expect(apis.map((m) => [m.cloudwatch.api.type, m.cloudwatch.api.name ?? m.cloudwatch.api.id, m.cloudwatch.waf?.webAcl])).toEqual([
      ['REST', 'shop', 'shop-acl'],
      ['WEBSOCKET', WS_ID, undefined],
    ]);
    expect(apis.every((m) => m.cloudwatch.websocketApi === undefined && m.cloudwatch.region === 'us-east-1')).toBe(true);
  });

  it('refuses websocketApi beside an api that is already the WebSocket one, naming the field', () => {
    expect(() =>
      parsePolicy(
        text(`    api: { type: WEBSOCKET, id: ${WS_ID}, stage: prod }\n    websocketApi: { id: ${WS_ID}, stage: prod }`),
        'p.yaml',
        { env: {} },
      ),
    ).toThrow(/metrics\.cloudwatch\.websocketApi: is for a second, WebSocket API/);
    expect(() =>
      parsePolicy(text(`    api: { type: REST, name: shop, stage: prod }\n    websocketApi: { id: NOPE, stage: prod }`), 'p.yaml', {
        env: {},
      }),
    ).toThrow(/metrics\.cloudwatch\.websocketApi\.id/);
  });
});

describe("the reference gateway's emulator serves a WebSocket API's metrics", () => {
  let endpoint: CloudWatchEndpointHandle;
  const wsRecorder = new MetricsRecorder();
  beforeAll(async () => {
    endpoint = await startCloudWatchEndpoint({
      recorder: new MetricsRecorder(),
      apiName: API_NAME,
      stage: STAGE,
      region: REGION,
      websocket: { apiId: WS_ID, stage: STAGE, recorder: wsRecorder },
    });
  });
  afterAll(() => endpoint.close());

  /** The same traffic on both sides, the gateway's recorder keeping `keep` of each message. */
  function script(keepMessage: (i: number) => boolean) {
    wsRecorder.clear();
    const minuteStartMs = pastMinute(2);
    const ledger = ledgerOf([{ minuteStartMs, traffic }]);
    const at = minuteStartMs + 25_000;
    for (let i = 0; i < 4; i++) wsRecorder.record(at, '$connect', 101, 1);
    for (let i = 0; i < 2; i++) wsRecorder.record(at, '$connect', 403, 1);
    for (let i = 0; i < 30; i++) if (keepMessage(i)) wsRecorder.record(at, '$message', 200, 1);
    for (let i = 0; i < 7; i++) wsRecorder.record(at, '$message', 429, 1);
    return ledger;
  }
  const policy = metricsPolicy({ api: { type: 'WEBSOCKET', id: WS_ID, stage: STAGE, detailed: false } });

  it('a gateway that counts every message passes, with the numbers in the summary and a WebSocket table', async () => {
    const result = await runMetricsCheck({ policy, ledger: script(() => true), settings: emulatorSettings(endpoint), progress: () => {} });
    expect(result.status, result.summary).toBe('pass');
    expect(result.summary).toBe(
      'CloudWatch agrees with the client in 1 minute(s): ConnectCount 4 vs 4 opened, MessageCount 37 vs 30 answered by the route, ' +
        'ClientError 9 vs 2 refused upgrades',
    );
    expect(result.observed).toMatchObject({
      apiType: 'WEBSOCKET',
      client: { connectionsOpened: 4, upgradesRefused: 2, messagesAnswered: 30, messagesThrottled: 7, noAnswer: 0 },
      cloudwatch: { connectCount: 4, messageCount: 37, clientError: 9 },
    });
    const md = markdownOf(result);
    expect(md).toContain('**CloudWatch vs client (WebSocket API), per minute**');
    expect(md).toMatch(/\| 4 \/ 2 \| 4 \[3–7\] \| 30 \/ 7 \| 37 \[29–81\] \| 9 \[1–10\] \| 0 \/ 0 \| ✅ match \|/);
  });

  it('a gateway whose metrics lose half the messages: deficit:messagecount:api, medium', async () => {
    const ledger = script((i) => i % 2 === 0);
    const result = await runMetricsCheck({ policy, ledger, settings: emulatorSettings(endpoint), progress: () => {} }, 'medium');
    expect(result.status, result.summary).toBe('fail');
    expect(result.summary).toMatch(/CloudWatch MessageCount 22 < 29, the least the client's 30 messages answered by the route allow/);
    expect(result.findings.map((f) => [f.id, f.severity])).toEqual([[`metrics:${WS_ID}/${STAGE}#deficit:messagecount:api`, 'medium']]);
  });

  it('answers nothing for another ApiId: no datapoint → error', async () => {
    const other = metricsPolicy({ api: { type: 'WEBSOCKET', id: 'x9y8z7w6v5', stage: STAGE, detailed: false } });
    const result = await runMetricsCheck({
      policy: other,
      ledger: script(() => true),
      settings: emulatorSettings(endpoint),
      progress: () => {},
    });
    expect(result.status).toBe('error');
    expect(result.summary).toMatch(/no datapoint for WEBSOCKET API ApiId=x9y8z7w6v5/);
  });
});
