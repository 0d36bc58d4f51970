import { describe, expect, it } from 'vitest';
import {
  evaluateMetrics,
  isSettled,
  minuteBounds,
  reconcile,
  type CloudWatchMinute,
  type ReconcileOptions,
} from '../../src/checks/metrics/reconcile.js';
import type { UnavailableGroup } from '../../src/cloudwatch/fetch.js';
import { nextDelayMs, pollUntil, type PollClock } from '../../src/cloudwatch/poll.js';
import { emptyCounts, MINUTE_MS, type MinuteCounts, type MinuteSnapshot } from '../../src/engine/minute-ledger.js';
import { DEFAULT_METRICS_TOLERANCE } from '../../src/policy/types.js';
import { qualifyFindings } from '../../src/checks/findings.js';
import type { CheckResult } from '../../src/checks/types.js';
import { applyGate, type GateLevel } from '../../src/gate/gate.js';

const T = DEFAULT_METRICS_TOLERANCE; // countAbsolute 1, countRelative 1%
const M0 = 1_764_000_000_000 - (1_764_000_000_000 % MINUTE_MS);
const OPTIONS: ReconcileOptions = { tolerance: T, names: { error4xx: '4XXError', error5xx: '5XXError' } };
const FETCHED = { series: new Map(), incomplete: [], unavailable: [], messages: [], pages: 1, attempts: 1 };

function counts(partial: Partial<MinuteCounts>): MinuteCounts {
  return { ...emptyCounts(), ...partial };
}

function minute(i: number, partial: Partial<MinuteCounts>, latency: MinuteSnapshot['latency'] = { samples: 0 }): MinuteSnapshot {
  return { minuteStartMs: M0 + i * MINUTE_MS, ...counts(partial), latency, routes: {} };
}

function cw(entries: Array<[number, CloudWatchMinute]>): Map<number, CloudWatchMinute> {
  return new Map(entries.map(([i, v]) => [M0 + i * MINUTE_MS, v]));
}

const context = { source: 'REST API ApiName=x, Stage=y', window: 'w', waited: '', incomplete: [], clientCompleted: 1 };

describe('minuteBounds: the range CloudWatch may report, per counter', () => {
  it.each([
    // [case, client counts, neighbour edges, expected count lower..upper, 4xx lower..upper]
    ['exact traffic: ±tol (max(1, 1%))', { completed: 200, status2xx: 200 }, {}, [198, 202], [0, 1]],
    [
      '429s and WAF blocks may be missing (lower bound only)',
      { completed: 200, status2xx: 100, status4xx: 100, status429: 80, wafBlocks: 10 },
      {},
      [108, 202],
      [9, 101],
    ],
    [
      'transport errors may have been counted (upper bound only)',
      { completed: 100, status2xx: 100, transportErrors: 7 },
      {},
      [99, 108],
      [0, 8],
    ],
    [
      'requests near an edge may move out (lower) or in from the neighbours (upper)',
      { completed: 100, status2xx: 100, edgePrev: 2, edgeNext: 3 },
      { prevEdgeNext: 4, nextEdgePrev: 5 },
      [94, 110],
      [0, 10],
    ],
  ] as const)('%s', (_name, client, edges, count, e4xx) => {
    const prev = 'prevEdgeNext' in edges ? counts({ edgeNext: edges.prevEdgeNext }) : undefined;
    const next = 'nextEdgePrev' in edges ? counts({ edgePrev: edges.nextEdgePrev }) : undefined;
    const b = minuteBounds(counts(client), prev, next, T);
    expect([b.count.lower, b.count.upper]).toEqual(count);
    expect([b.error4xx.lower, b.error4xx.upper]).toEqual(e4xx);
  });

  it('WAF BlockedRequests: every block the client saw for Rule ALL, none required for one rule', () => {
    const m = counts({ completed: 50, status4xx: 20, wafBlocks: 12 });
    expect(minuteBounds(m, undefined, undefined, T, 'ALL').wafBlocked).toEqual({ client: 12, lower: 11, upper: 21 });
    expect(minuteBounds(m, undefined, undefined, T, 'SQLiRule').wafBlocked.lower).toBe(0);
  });
});

describe('reconcile + evaluateMetrics', () => {
  const busy = [minute(0, { completed: 100, status2xx: 90, status4xx: 10, status429: 4 }), minute(1, { completed: 50, status2xx: 50 })];

  it('passes when CloudWatch agrees within the bounds, minute by minute', () => {
    const r = reconcile(
      busy,
      cw([
        [0, { count: 100, error4xx: 10, error5xx: 0 }],
        [1, { count: 50, error4xx: 0, error5xx: 0 }],
      ]),
      OPTIONS,
    );
    expect(r.discrepancies).toEqual([]);
    expect(r.comparedMinutes).toBe(2);
    expect(evaluateMetrics(r, { ...context, clientCompleted: 150 })).toMatchObject({
      status: 'pass',
      summary: expect.stringMatching(/^CloudWatch agrees with the client in 2 minute\(s\): Count 150 vs 150 answered/),
    });
    expect(isSettled(r, FETCHED)).toBe(true);
  });

  it('passes when only 429s are missing from CloudWatch (AWS drops excessive ones)', () => {
    const r = reconcile(
      busy,
      cw([
        [0, { count: 96, error4xx: 6 }],
        [1, { count: 50 }],
      ]),
      OPTIONS,
    );
    expect(evaluateMetrics(r, context).status).toBe('pass');
  });

  it('fails on a deficit beyond 429s and tolerance: CloudWatch misses real traffic', () => {
    const r = reconcile(
      busy,
      cw([
        [0, { count: 80, error4xx: 10 }],
        [1, { count: 50 }],
      ]),
      OPTIONS,
    );
    const verdict = evaluateMetrics(r, context);
    expect(verdict.status).toBe('fail');
    expect(verdict.summary).toMatch(/CloudWatch misses traffic the client saw: \d\d:\d\d: CloudWatch Count 80 < 95/);
    expect(isSettled(r, FETCHED)).toBe(false); // a deficit may still be late data: keep polling
  });

  it('is inconclusive (never fail, never pass) when CloudWatch counts more: someone else shares the stage', () => {
    const r = reconcile(
      busy,
      cw([
        [0, { count: 130, error4xx: 10 }],
        [1, { count: 50 }],
      ]),
      OPTIONS,
    );
    const verdict = evaluateMetrics(r, context);
    expect(verdict.status).toBe('inconclusive');
    expect(verdict.summary).toMatch(/someone else shares the stage/);
    expect(isSettled(r, FETCHED)).toBe(true); // waiting cannot remove an excess
  });

  it('names the minutes still missing, and is inconclusive', () => {
    const r = reconcile(busy, cw([[0, { count: 100, error4xx: 10 }]]), OPTIONS);
    expect(r.rows.map((row) => row.state)).toEqual(['match', 'missing']);
    const verdict = evaluateMetrics(r, { ...context, waited: ' (after 9 polls over 240 s)' });
    expect(verdict).toMatchObject({ status: 'inconclusive' });
    expect(verdict.summary).toMatch(
      new RegExp(
        /not every minute could be reconciled \(after 9 polls over 240 s\): /.source +
          /\d\d:\d\d: no CloudWatch datapoint, though the client completed 50/.source,
      ),
    );
  });

  it('errors without any datapoint, and without any answered request: no data is never a pass', () => {
    expect(evaluateMetrics(reconcile(busy, new Map(), OPTIONS), context)).toMatchObject({
      status: 'error',
      summary: expect.stringMatching(/no datapoint for REST API ApiName=x, Stage=y in w: check the API name/),
    });
    expect(evaluateMetrics(reconcile([minute(0, {})], cw([[0, { count: 3 }]]), OPTIONS), { ...context, clientCompleted: 0 }).status).toBe(
      'error',
    );
  });

  it('treats a 5xx deficit as inconclusive (AWS may leave some 5xx out)', () => {
    const r = reconcile([minute(0, { completed: 40, status5xx: 40 })], cw([[0, { count: 40, error5xx: 30 }]]), OPTIONS);
    expect(r.discrepancies.map((f) => f.kind)).toEqual(['deficit5xx']);
    expect(evaluateMetrics(r, context).status).toBe('inconclusive');
  });

  it('reconciles WAF BlockedRequests when the web ACL has datapoints, and flags a web ACL without any', () => {
    const waf = { ...OPTIONS, waf: { rule: 'ALL' } };
    const client = [minute(0, { completed: 30, status2xx: 20, status4xx: 10, wafBlocks: 10 })];
    expect(
      evaluateMetrics(reconcile(client, cw([[0, { count: 30, error4xx: 10, wafBlocked: 10, wafAllowed: 20 }]]), waf), context).status,
    ).toBe('pass');
    expect(
      evaluateMetrics(reconcile(client, cw([[0, { count: 30, error4xx: 10, wafBlocked: 2, wafAllowed: 28 }]]), waf), context).status,
    ).toBe('fail');
    const noAcl = reconcile(client, cw([[0, { count: 30, error4xx: 10 }]]), waf);
    expect(noAcl.discrepancies.map((f) => f.kind)).toEqual(['missing']);
    expect(evaluateMetrics(noAcl, context).summary).toMatch(/no AWS\/WAFV2 datapoint for the web ACL/);
  });

  it('compares Latency p99 net of the network: above the client is inconclusive, far below is information', () => {
    const lat = (p50Ms: number, p99Ms: number) => [minute(0, { completed: 100, status2xx: 100 }, { samples: 100, p50Ms, p99Ms })];
    // client p99 100 ms, slack max(25, 25%) = 25 ms
    expect(reconcile(lat(20, 100), cw([[0, { count: 100, latencyP50: 10, latencyP99: 90 }]]), OPTIONS).discrepancies).toEqual([]);
    const excess = reconcile(lat(20, 100), cw([[0, { count: 100, latencyP50: 10, latencyP99: 130 }]]), OPTIONS);
    expect(excess.discrepancies.map((f) => f.kind)).toEqual(['latency-excess']);
    expect(evaluateMetrics(excess, context).status).toBe('inconclusive');
    // network ≈ 20 − 10 = 10 ms; 100 − 10 − 25 = 65 > 40: the tail is outside the gateway
    const outside = reconcile(lat(20, 100), cw([[0, { count: 100, latencyP50: 10, latencyP99: 40 }]]), OPTIONS);
    expect(outside.discrepancies.map((f) => f.kind)).toEqual(['latency-outside']);
    expect(evaluateMetrics(outside, context).status).toBe('pass');
    // too few samples for a p99: not compared
    expect(
      reconcile(
        [minute(0, { completed: 5 }, { samples: 5, p50Ms: 1, p99Ms: 2 })],
        cw([[0, { count: 5, latencyP50: 1, latencyP99: 500 }]]),
        OPTIONS,
      ).discrepancies,
    ).toEqual([]);
  });

  it('names metrics the endpoint could not serve in every verdict; no web ACL metrics is inconclusive, no percentiles is not', () => {
    const gap = (group: UnavailableGroup['group'], metrics: string[]): UnavailableGroup => ({
      group,
      metrics,
      roles: [],
      code: 'Service',
      error: 'HTTP 500',
    });
    const percentiles = gap('percentiles', ['Latency p50', 'Latency p99']);
    const waf = gap('waf', ['WAF BlockedRequests']);
    const named = '; not reconciled, not available from this endpoint: Latency p50, Latency p99';
    const agrees = reconcile(
      busy,
      cw([
        [0, { count: 100, error4xx: 10 }],
        [1, { count: 50 }],
      ]),
      OPTIONS,
    );
    const pass = evaluateMetrics(agrees, { ...context, unavailable: [percentiles] });
    expect(pass.status).toBe('pass');
    expect(pass.summary).toMatch(/^CloudWatch agrees with the client in 2 minute\(s\): Count 150 vs 150 answered, .*; not reconciled, /);
    expect(pass.summary.endsWith(named)).toBe(true);
    const short = reconcile(
      busy,
      cw([
        [0, { count: 80, error4xx: 10 }],
        [1, { count: 50 }],
      ]),
      OPTIONS,
    );
    const fail = evaluateMetrics(short, { ...context, unavailable: [percentiles] });
    expect(fail).toMatchObject({ status: 'fail', summary: expect.stringContaining(named) });
    const noAcl = evaluateMetrics(agrees, { ...context, unavailable: [percentiles, waf] });
    expect(noAcl.status).toBe('inconclusive');
    expect(noAcl.summary).toBe(`not every metric could be read: WAF BlockedRequests not available from this endpoint (HTTP 500)${named}`);
  });

  it('reconciles each route of detailed metrics over the minutes with data', () => {
    const client = [
      {
        ...minute(0, { completed: 30, status2xx: 30 }),
        routes: { 'GET /a': counts({ completed: 20, status2xx: 20 }), 'GET /b': counts({ completed: 10, status2xx: 10 }) },
      },
    ];
    const routeMinutes = new Map([
      ['GET /a', cw([[0, { count: 20, error4xx: 0, error5xx: 0 }]])],
      ['GET /b', cw([[0, { count: 4, error4xx: 0, error5xx: 0 }]])],
    ]);
    const r = reconcile(client, cw([[0, { count: 30 }]]), { ...OPTIONS, routeMinutes });
    expect(r.routes.map((route) => [route.route, route.bounds.count?.cloudwatch])).toEqual([
      ['GET /a', 20],
      ['GET /b', 4],
    ]);
    expect(r.discrepancies.map((f) => `${f.kind} ${f.scope}`)).toEqual(['deficit GET /b']);
  });
});

describe('metrics findings: CloudWatch disagreeing is medium, grouped by kind, metric and scope', () => {
  const three = [0, 1, 2].map((i) => minute(i, { completed: 100, status2xx: 100 }));
  const short = (count: number) =>
    cw([
      [0, { count }],
      [1, { count }],
      [2, { count: 100 }],
    ]);
  const gated = (verdict: ReturnType<typeof evaluateMetrics>, failOn: GateLevel) => {
    const id = 'metrics:x/y';
    const check: CheckResult = {
      id,
      kind: 'metrics',
      route: 'x/y',
      status: verdict.status,
      summary: verdict.summary,
      expected: {},
      observed: {},
      evidence: [],
      findings: qualifyFindings(id, verdict),
      durationMs: 0,
      requestsSent: 0,
    };
    return applyGate([check], { failOn, today: '2026-01-01' }).checks[0]!;
  };

  it('one medium finding for a deficit repeated over minutes, its id free of minutes and numbers, stable across evaluations', () => {
    const first = evaluateMetrics(reconcile(three, short(80), OPTIONS), context);
    const again = evaluateMetrics(reconcile(three, short(70), OPTIONS), context);
    expect(first.status).toBe('fail');
    expect(first.findings.map((f) => [f.id, f.severity])).toEqual([['deficit:count:api', 'medium']]);
    expect(again.findings.map((f) => f.id)).toEqual(first.findings.map((f) => f.id));
    expect(first.findings[0]!.title).toBe('CloudWatch Count misses traffic the client saw (the API, 2 minutes)');
    expect(first.findings[0]!.detail).toMatch(/^\d\d:\d\d: CloudWatch Count 80 < 99.*; \d\d:\d\d: CloudWatch Count 80 < 99/);
    expect(first.findings[0]!.explicit).toBeUndefined();
  });

  it('passes the default gate with the medium finding listed, and fails at --fail-on medium', () => {
    const verdict = evaluateMetrics(reconcile(three, short(80), OPTIONS), context);
    const byDefault = gated(verdict, 'high');
    expect(byDefault.status).toBe('pass');
    expect(byDefault.summary).toBe('pass · 1 medium: CloudWatch Count misses traffic the client saw (the API, 2 minutes)');
    expect(byDefault.findings.map((f) => f.disposition)).toEqual(['below-gate']);
    const strict = gated(verdict, 'medium');
    expect(strict.status).toBe('fail');
    expect(strict.findings.map((f) => [f.id, f.disposition])).toEqual([['metrics:x/y#deficit:count:api', 'gating']]);
  });

  it('a deficit beside a minute it could not compare is inconclusive, never a pass under the default gate', () => {
    const r = reconcile(three, cw([[0, { count: 80 }]]), OPTIONS);
    const verdict = evaluateMetrics(r, context);
    expect(verdict.status).toBe('inconclusive');
    expect(verdict.summary).toMatch(/^CloudWatch misses traffic the client saw: .*; and not every minute could be reconciled: /);
    expect(verdict.findings.map((f) => f.id)).toEqual(['deficit:count:api']);
    expect(gated(verdict, 'high').status).toBe('inconclusive');
    expect(gated(verdict, 'medium').status).toBe('fail');
  });

  it('per route and per counter: a finding each, with the route in the slug', () => {
    const client = [
      {
        ...minute(0, { completed: 30, status2xx: 20, status4xx: 10 }),
        routes: { 'GET /b': counts({ completed: 30, status2xx: 20, status4xx: 10 }) },
      },
    ];
    const routeMinutes = new Map([['GET /b', cw([[0, { count: 4, error4xx: 0, error5xx: 0 }]])]]);
    const r = reconcile(client, cw([[0, { count: 30, error4xx: 0 }]]), { ...OPTIONS, routeMinutes });
    const verdict = evaluateMetrics(r, context);
    expect(verdict.findings.map((f) => [f.id, f.severity])).toEqual([
      ['deficit:4xxerror:api', 'medium'],
      ['deficit:count:get-b', 'medium'],
      ['deficit:4xxerror:get-b', 'medium'],
    ]);
    expect(verdict.findings[1]!.title).toBe('CloudWatch Count misses traffic the client saw (GET /b, over the run)');
  });

  it('what cannot be held against the gateway is info: an excess, a 5xx deficit, the latency tail; agreement has no finding', () => {
    const agrees = reconcile(three, short(100), OPTIONS);
    expect(evaluateMetrics(agrees, context)).toMatchObject({ status: 'pass', findings: [] });
    const excess = evaluateMetrics(reconcile(three, short(130), OPTIONS), context);
    expect(excess.status).toBe('inconclusive');
    expect(excess.findings.map((f) => [f.id, f.severity])).toEqual([['excess:count:api', 'info']]);
    expect(gated(excess, 'low').status).toBe('inconclusive');
    const r5xx = reconcile([minute(0, { completed: 40, status5xx: 40 })], cw([[0, { count: 40, error5xx: 30 }]]), OPTIONS);
    expect(evaluateMetrics(r5xx, context).findings.map((f) => [f.id, f.severity])).toEqual([['deficit5xx:5xxerror:api', 'info']]);
    const lat = [minute(0, { completed: 100, status2xx: 100 }, { samples: 100, p50Ms: 20, p99Ms: 100 })];
    const outside = evaluateMetrics(reconcile(lat, cw([[0, { count: 100, latencyP50: 10, latencyP99: 40 }]]), OPTIONS), context);
    expect(outside.status).toBe('pass');
    expect(outside.findings.map((f) => [f.id, f.severity])).toEqual([['latency-outside:latency-p99:api', 'info']]);
    expect(gated(outside, 'low').summary).toBe(outside.summary);
  });
});

describe('poll schedule', () => {
  it.each([
    // poll, elapsed, wait → next delay (first 5 s, doubling, at most 30 s, never past the wait)
    [1, 0, 240_000, 5_000],
    [2, 5_000, 240_000, 10_000],
    [3, 15_000, 240_000, 20_000],
    [4, 35_000, 240_000, 30_000],
    [9, 235_000, 240_000, 5_000],
    [10, 240_000, 240_000, undefined],
    [1, 0, 0, undefined],
  ])('after poll %i at %i ms of %i ms: wait %s ms', (poll, elapsed, waitMs, expected) => {
    expect(nextDelayMs(poll, elapsed, { waitMs })).toBe(expected);
  });

  it('reads until settled, or until the wait is used up (last read on the deadline)', async () => {
    let now = 0;
    const clock: PollClock = { now: () => now, sleep: (ms) => Promise.resolve(void (now += ms)) };
    let reads = 0;
    const settledOn3 = await pollUntil(
      () => Promise.resolve(++reads),
      (n) => n >= 3,
      { waitMs: 60_000 },
      clock,
    );
    expect(settledOn3).toEqual({ value: 3, polls: 3, waitedMs: 15_000, settled: true });
    now = 0;
    reads = 0;
    const never = await pollUntil(
      () => Promise.resolve(++reads),
      () => false,
      { waitMs: 60_000 },
      clock,
    );
    expect(never).toEqual({ value: 5, polls: 5, waitedMs: 60_000, settled: false }); // 0, 5, 15, 35, 60 s
  });
});
