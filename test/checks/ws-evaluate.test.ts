/**
 * The WebSocket checks' pure parts: the policy section, how a message's answer reads, the
 * $connect bypass matrix and the three evaluates on hand-made observations.
 */
import { describe, expect, it } from 'vitest';
import { simulateBucket } from '../../src/checks/throttle/estimate.js';
import { evaluate as evaluateAuth, wsAuthCheck, wsAuthMatrix, type WsAuthNotes } from '../../src/checks/websocket/auth.js';
import { evaluate as evaluateLimits, wsLimitsCheck, type WsLimitsNotes } from '../../src/checks/websocket/limits.js';
import { classifyAnswer, gatewayError, messageText, placeCredential, socketUrl } from '../../src/checks/websocket/socket.js';
import { evaluate as evaluateThrottle, wsThrottleCheck, type WsThrottleNotes } from '../../src/checks/websocket/throttle.js';
import type { Observation, WsRecord } from '../../src/engine/observation.js';
import type { OfferedLoad } from '../../src/engine/paced-run.js';
import { parsePolicy } from '../../src/policy/load.js';
import { PolicyError } from '../../src/policy/errors.js';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl';
const EXPIRED = 'eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2lnbmF0dXJl';

function policyWith(websockets: string) {
  return parsePolicy(
    `version: 1
target: http://gw.test/prod
credentials:
  main: { header: x-api-key, value: main-key-0123456789 }
  token: { header: authorization, scheme: Bearer, value: ${JWT}, kind: jwt, expiredValue: ${EXPIRED} }
routes:
  - { method: GET, path: /health }
websockets:
${websockets}`,
    'policy.yaml',
    { env: {} },
  );
}

const POLICY = policyWith(`  - name: chat
    path: /ws
    auth: { required: true, credential: main }
    throttle: { rateLimit: 50, burstLimit: 10 }
    limits: { maxMessageBytes: 1024 }
    route: { key: echo }
    message: { data: hello }
`);
const ENTRY = POLICY.websockets![0]!;

describe('policy: websockets', () => {
  it('resolves defaults and writes the route key where the selection expression points', () => {
    expect(ENTRY).toMatchObject({
      id: 'WS chat',
      path: '/ws',
      auth: { required: true, credential: 'main', in: 'header', queryParam: 'x-api-key' },
      throttle: { rateLimit: 50, burstLimit: 10, tolerance: 0.1, perConnection: false, connections: 4, probeSeconds: 1 },
      limits: { maxMessageBytes: 1024, frameBytes: 32768 },
      message: { data: 'hello', action: 'echo' },
      routeKey: 'echo',
      routeSelectionExpression: '$request.body.action',
    });
  });

  it('names every problem with its path', () => {
    const bad = () =>
      policyWith(`  - name: a
    url: wss://x.example/prod
    path: /ws
    auth: { required: true }
  - name: a
    path: /ws
    auth: { required: true, credential: nope }
    limits: { maxMessageBytes: 8 }
`);
    expect(bad).toThrow(PolicyError);
    try {
      bad();
    } catch (error) {
      const issues = (error as PolicyError).issues.map((i) => `${i.path}: ${i.message}`);
      expect(issues).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^websockets\[0\]: give exactly one of `url`/),
          expect.stringMatching(/^websockets\[0\]\.auth\.credential: is required when auth\.required/),
          expect.stringMatching(/^websockets\[1\]\.name: duplicates websockets\[0\]/),
          expect.stringMatching(/^websockets\[1\]\.auth\.credential: credential "nope" is not defined/),
          expect.stringMatching(/^websockets\[1\]\.limits\.maxMessageBytes: is smaller than the route template/),
        ]),
      );
    }
  });

  it('rejects a url that is not ws:// or wss:// (schema)', () => {
    expect(() => policyWith('  - { name: a, url: "https://x.example/prod" }\n')).toThrow(/websockets\[0\]\.url/);
  });

  it('selects ws-auth, ws-limits and two ws-throttle instances (one connection, then across)', () => {
    expect(wsAuthCheck.select(POLICY).map((i) => i.route)).toEqual(['WS chat']);
    expect(wsLimitsCheck.select(POLICY).map((i) => i.route)).toEqual(['WS chat']);
    const throttles = wsThrottleCheck.select(POLICY);
    expect(throttles.map((i) => [i.idSuffix, i.spec.connections, i.spec.limits.rateLimit])).toEqual([
      ['', 1, 50],
      [' [4 connections]', 4, 50],
    ]);
    const perConnection = policyWith(`  - name: c
    path: /ws
    throttle: { rateLimit: 5, burstLimit: 2, perConnection: true, connections: 3 }
`);
    // Each connection its own bucket: three together get three times the limits.
    expect(wsThrottleCheck.select(perConnection).map((i) => [i.spec.limits.rateLimit, i.spec.limits.burstLimit])).toEqual([
      [5, 2],
      [15, 6],
    ]);
  });
});

describe('socket pieces', () => {
  it('derives the socket URL from the target, or takes the entry URL', () => {
    expect(socketUrl('http://gw.test/prod', { path: '/ws' })).toBe('ws://gw.test/prod/ws');
    expect(socketUrl('https://gw.test', { path: '/ws' })).toBe('wss://gw.test/ws');
    expect(socketUrl('http://ignored', { url: 'wss://abc.execute-api.eu-west-1.amazonaws.com/prod' })).toBe(
      'wss://abc.execute-api.eu-west-1.amazonaws.com/prod',
    );
  });

  it('places the credential in its header or the query', () => {
    const main = POLICY.credentials.main!;
    expect(placeCredential(ENTRY, 'ws://gw.test/ws', main)).toEqual({
      url: 'ws://gw.test/ws',
      headers: { 'x-api-key': 'main-key-0123456789' },
    });
    const query = { ...ENTRY, auth: { ...ENTRY.auth!, in: 'query' as const, queryParam: 'token' } };
    expect(placeCredential(query, 'ws://gw.test/ws', main)).toEqual({ url: 'ws://gw.test/ws?token=main-key-0123456789', headers: {} });
  });

  it('pads a message to exactly the size asked', () => {
    expect(Buffer.byteLength(messageText(ENTRY, 1024))).toBe(1024);
    expect(Buffer.byteLength(messageText(ENTRY, 1025))).toBe(1025);
    expect(JSON.parse(messageText(ENTRY))).toEqual({ data: 'hello', action: 'echo' });
  });

  it.each([
    ['{"message": "Too Many Requests", "connectionId":"L0SM9cOFvHcCIhw=", "requestId":"L0SM9FsRvHcF3mw="}', 'throttled'],
    ['{"message":"Limit Exceeded","connectionId":"a","requestId":"b"}', 'throttled'],
    ['{"requestId":"b","message":"Rate exceeded"}', 'throttled'],
    ['{"message":"Forbidden","connectionId":"a","requestId":"b"}', 'gateway-error'],
    ['{"message":"Internal server error","connectionId":"a","requestId":"b"}', 'gateway-error'],
    // A route answer that happens to have a `message` field is the route's answer, not the gateway's.
    ['{"message":"Too Many Requests in chat today"}', 'accepted'],
    ['{"data":"hello","action":"echo"}', 'accepted'],
    ['plain text', 'accepted'],
    // A snippet cut short still reads by its shape.
    ['{"message":"Too Many Requests","connectionId":"abc', 'throttled'],
  ])('a frame %s is %s', (frame, expected) => {
    expect(classifyAnswer(message('m', 0, { answer: 'frame' }, frame))).toBe(expected);
  });

  it('a close is closed, a timeout unanswered', () => {
    expect(classifyAnswer(message('m', 0, { answer: 'close', closeCode: 1009 }))).toBe('closed');
    expect(classifyAnswer({ ...message('m', 0, { answer: 'none' }), error: 'timeout' })).toBe('unanswered');
    expect(gatewayError('not json')).toBeUndefined();
  });
});

function connectObs(probe: string, status: number | undefined, error?: string): Observation {
  return {
    probe,
    method: 'GET',
    path: '/ws',
    intendedAtMs: 0,
    sentAtMs: 0,
    doneAtMs: 2,
    headers: {},
    ...(status !== undefined ? { status } : {}),
    ...(error ? { error } : {}),
    ws: { event: 'connect', url: 'ws://gw.test/ws' },
  };
}

function message(probe: string, atMs: number, ws: Partial<WsRecord>, body?: string): Observation {
  return {
    probe,
    method: 'WS',
    path: '/ws',
    intendedAtMs: atMs,
    sentAtMs: atMs,
    doneAtMs: atMs + 1,
    headers: {},
    ...(body !== undefined ? { bodySnippet: body } : {}),
    ws: { event: 'message', url: 'ws://gw.test/ws', connection: 0, ...ws },
  };
}

describe('ws-auth', () => {
  const main = POLICY.credentials.main!;
  it('builds the matrix that applies: header key → query is the wrong place', () => {
    const { control, cases, skipped } = wsAuthMatrix(ENTRY, 'ws://gw.test/ws', main, 'wrong-value');
    expect(control.where.headers).toEqual({ 'x-api-key': main.value });
    expect(cases.map((c) => c.case)).toEqual(['missing', 'empty', 'wrong', 'truncated', 'wrong-place']);
    expect(cases.find((c) => c.case === 'wrong-place')!.where).toEqual({ url: `ws://gw.test/ws?x-api-key=${main.value}`, headers: {} });
    expect(skipped).toEqual([]);
  });

  it('a JWT credential in the query adds the expired and unsigned tokens; the wrong place is its header', () => {
    const entry = { ...ENTRY, auth: { required: true, credential: 'token', in: 'query' as const, queryParam: 'token' } };
    const { cases } = wsAuthMatrix(entry, 'ws://gw.test/ws', POLICY.credentials.token!, 'wrong');
    expect(cases.map((c) => c.case)).toEqual(['missing', 'empty', 'wrong', 'truncated', 'wrong-place', 'expired-jwt', 'jwt-no-signature']);
    expect(cases.find((c) => c.case === 'wrong-place')!.where).toEqual({
      url: 'ws://gw.test/ws',
      headers: { authorization: `Bearer ${JWT}` },
    });
    expect(cases.find((c) => c.case === 'expired-jwt')!.where.url).toBe(`ws://gw.test/ws?token=${EXPIRED}`);
  });

  const spec = { entry: ENTRY };
  const cases = ['control', 'missing', 'wrong'];
  const notes: WsAuthNotes = { cases: cases.map((c) => ({ probe: `ws-auth.${c}`, case: c, label: c })), skipped: [] };

  it('passes when every bad way in is refused on the upgrade', () => {
    const v = evaluateAuth(
      spec,
      { observations: [connectObs('ws-auth.control', 101), connectObs('ws-auth.missing', 403), connectObs('ws-auth.wrong', 401)], notes },
      POLICY,
    );
    expect(v.status).toBe('pass');
    expect(v.findings).toEqual([]);
    expect(v.evidence.map((e) => e.url)).toEqual(['ws://gw.test/ws', 'ws://gw.test/ws', 'ws://gw.test/ws']);
  });

  it('an opened socket is a critical bypass finding named by its case', () => {
    const v = evaluateAuth(
      spec,
      { observations: [connectObs('ws-auth.control', 101), connectObs('ws-auth.missing', 101), connectObs('ws-auth.wrong', 403)], notes },
      POLICY,
    );
    expect(v.status).toBe('fail');
    expect(v.findings.map((f) => [f.id, f.severity])).toEqual([['bypass:missing', 'critical']]);
    expect(v.evidence[v.findings[0]!.evidence[0]!]!.outcome).toBe('violation');
  });

  it('a refused positive control is an error (cannot verify), never a pass', () => {
    const v = evaluateAuth(
      spec,
      { observations: [connectObs('ws-auth.control', 403), connectObs('ws-auth.missing', 403), connectObs('ws-auth.wrong', 403)], notes },
      POLICY,
    );
    expect(v.status).toBe('error');
    expect(v.summary).toMatch(/positive control did not open a socket \(403\)/);
  });

  it('a 5xx or a reset is inconclusive, not a refusal', () => {
    const v = evaluateAuth(
      spec,
      {
        observations: [
          connectObs('ws-auth.control', 101),
          connectObs('ws-auth.missing', 502),
          connectObs('ws-auth.wrong', undefined, 'ECONNRESET'),
        ],
        notes,
      },
      POLICY,
    );
    expect(v.status).toBe('inconclusive');
    expect(v.observed.unresolved).toEqual(['missing', 'wrong']);
  });
});

describe('ws-throttle evaluate', () => {
  const [single] = wsThrottleCheck.select(POLICY);
  const spec = single!.spec;
  const OFFERED: OfferedLoad = { ratePerSec: 100, windowRatePerSec: { min: 100, median: 100, max: 100 }, loopDelayMs: { p99: 1, max: 2 } };
  const NOTES: WsThrottleNotes = { paced: { sent: 0, dropped: 0, maxSendLagMs: 1, offered: OFFERED } };
  const THROTTLED = '{"message":"Too Many Requests","connectionId":"c","requestId":"r"}';

  /** A volley at t=0 and a paced phase at `pacedRate` for 1 s, answered by a bucket (or by nothing that throttles). */
  function run(
    bucket: { rate: number; burst: number } | undefined,
    refusal: 'frame' | 'close' = 'frame',
    pacedRate = spec.plan.pacedRatePerSec,
  ): Observation[] {
    const volleyTimes = Array.from({ length: spec.plan.volleySize }, (_, i) => i * 0.01);
    const pacedTimes = Array.from({ length: pacedRate }, (_, i) => 5 + (i * 1000) / pacedRate);
    const times = [...volleyTimes, ...pacedTimes];
    const accepted = bucket ? simulateBucket(times, bucket.rate, bucket.burst) : times.map(() => true);
    return times.map((at, i) => {
      const probe = i < volleyTimes.length ? 'ws-throttle.volley' : 'ws-throttle.paced';
      if (accepted[i]) return message(probe, at, { answer: 'frame' }, '{"data":"hello"}');
      return refusal === 'frame'
        ? message(probe, at, { answer: 'frame' }, THROTTLED)
        : message(probe, at, { answer: 'close', closeCode: 1008 });
    });
  }

  it('a bucket at the policy passes, with the estimate in an info finding', () => {
    const v = evaluateThrottle(spec, { observations: run({ rate: 50, burst: 10 }), notes: NOTES }, POLICY);
    expect(v.status).toBe('pass');
    expect(v.findings.map((f) => [f.id, f.severity])).toEqual([['bucket-measured', 'info']]);
    expect(Math.abs(v.observed.ratePerSec! - 50)).toBeLessThan(2);
    expect(Math.abs(v.observed.burst! - 10)).toBeLessThan(1);
    expect(v.observed.throttleSignal).toEqual({ errorFrame: expect.any(Number), socketClosed: 0 });
    // The report's chart: throttle frames count as throttled, against the configured bucket.
    expect(v.observed.timeline!.throttled.some((n) => n > 0)).toBe(true);
    expect(v.observed.timeline!.bucket).toEqual({ rateLimit: 50, burstLimit: 10 });
  });

  it('no throttling at all is one high no-limit finding', () => {
    const v = evaluateThrottle(spec, { observations: run(undefined), notes: NOTES }, POLICY);
    expect(v.status).toBe('fail');
    expect(v.findings.map((f) => [f.id, f.severity])).toEqual([['no-limit', 'high']]);
    expect(v.summary).not.toMatch(/429/);
  });

  it('a rate twice the policy is rate-too-high', () => {
    const v = evaluateThrottle(spec, { observations: run({ rate: 100, burst: 10 }, 'frame', 150), notes: NOTES }, POLICY);
    expect(v.status).toBe('fail');
    expect(v.findings.map((f) => f.id)).toContain('rate-too-high');
  });

  it('a gateway that closes the socket to throttle is recorded as such (low finding)', () => {
    const v = evaluateThrottle(spec, { observations: run({ rate: 50, burst: 10 }, 'close'), notes: NOTES }, POLICY);
    expect(v.observed.throttleSignal.errorFrame).toBe(0);
    expect(v.observed.throttleSignal.socketClosed).toBeGreaterThan(0);
    expect(v.findings.map((f) => [f.id, f.severity])).toContainEqual(['throttle-closes-socket', 'low']);
  });

  it('a client that offered less than the rate is inconclusive (client-bound), not a pass', () => {
    const v = evaluateThrottle(spec, { observations: run({ rate: 50, burst: 10 }, 'frame', 30), notes: NOTES }, POLICY);
    expect(v.status).toBe('inconclusive');
    expect(v.summary).toMatch(/client-bound/);
  });

  it('unanswered messages beyond 5% are an error, and a socket that did not open too', () => {
    const observations = run({ rate: 50, burst: 10 }).map((o, i) =>
      i % 5 === 0 ? { ...o, bodySnippet: undefined, error: 'timeout', ws: { ...o.ws!, answer: 'none' as const } } : o,
    );
    expect(evaluateThrottle(spec, { observations, notes: NOTES }, POLICY).status).toBe('error');
    expect(evaluateThrottle(spec, { observations: [], notes: { notConnected: 'socket 1 of 1 did not open (403)' } }, POLICY).status).toBe(
      'error',
    );
  });
});

describe('ws-limits evaluate', () => {
  const spec = { entry: ENTRY };
  const NONE: WsLimitsNotes = {};
  const at = (ws: Partial<WsRecord>, body?: string) => message('ws-limits.at-limit', 0, ws, body);
  const over = (ws: Partial<WsRecord>, body?: string) => message('ws-limits.over-limit', 10, ws, body);

  it('passes when the message at the limit is answered and one byte over closes the socket with 1009', () => {
    const v = evaluateLimits(
      spec,
      { observations: [at({ answer: 'frame' }, '{"data":"x"}'), over({ answer: 'close', closeCode: 1009 })], notes: NONE },
      POLICY,
    );
    expect(v.status).toBe('pass');
    expect(v.observed.overLimitCloseCode).toBe(1009);
  });

  it('an oversize message answered by the route fails (high)', () => {
    const v = evaluateLimits(spec, { observations: [at({ answer: 'frame' }, 'x'), over({ answer: 'frame' }, 'x')], notes: NONE }, POLICY);
    expect(v.status).toBe('fail');
    expect(v.findings.map((f) => [f.id, f.severity])).toEqual([['over-limit-accepted', 'high']]);
  });

  it('a message at the limit refused fails; another close code is a low finding', () => {
    const v = evaluateLimits(
      spec,
      { observations: [at({ answer: 'close', closeCode: 1009 }), over({ answer: 'close', closeCode: 1006 })], notes: NONE },
      POLICY,
    );
    expect(v.status).toBe('fail');
    expect(v.findings.map((f) => [f.id, f.severity])).toEqual([
      ['at-limit-refused', 'high'],
      ['over-limit-close-code', 'low'],
    ]);
  });

  it('an idle timeout is verified only when short, and judged from what the probe measured', () => {
    const idle = { ...ENTRY, limits: { frameBytes: 32768, idleTimeoutSec: 5 } };
    const judged = (notes: WsLimitsNotes) => evaluateLimits({ entry: idle }, { observations: [], notes }, POLICY);
    expect(judged({ idle: { waitedMs: 7000 } }).findings.map((f) => f.id)).toEqual(['idle-timeout-not-enforced']);
    expect(judged({ idle: { waitedMs: 5100, closedAfterMs: 5050, closeCode: 1001 } }).status).toBe('pass');
    expect(judged({ idle: { waitedMs: 2000, closedAfterMs: 2000, closeCode: 1001 } }).findings.map((f) => f.id)).toEqual([
      'idle-timeout-too-short',
    ]);
    expect(judged({ idle: { waitedMs: 3000 } }).status).toBe('inconclusive');
    const long = { ...ENTRY, limits: { frameBytes: 32768, idleTimeoutSec: 600 } };
    const v = evaluateLimits({ entry: long }, { observations: [], notes: {} }, POLICY);
    expect(v.observed.idleTimeout).toMatch(/not verified: 600 s does not fit a bounded run/);
  });
});
