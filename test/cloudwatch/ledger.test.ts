import { describe, expect, it } from 'vitest';
import { MinuteLedger, MINUTE_MS, minuteOf } from '../../src/engine/minute-ledger.js';
import type { Observation } from '../../src/engine/observation.js';
import { isWafBlock } from '../../src/checks/waf/check.js';
import { metricsPolicy } from './helpers.js';

const M = 1_764_000_000_000 - (1_764_000_000_000 % MINUTE_MS); // a minute start

/** An observation as the run's stream tags it: `waf.*` probes come from the WAF check of the route. */
function obs(sentAtMs: number, doneAtMs: number, status?: number, probe = 'slo', path = '/api/items'): Observation {
  const check = `${probe.split('.')[0]}:GET /api/items`;
  const answer = status === undefined ? { error: 'timeout' } : { status };
  return { probe, check, method: 'GET', path, intendedAtMs: sentAtMs - 50, sentAtMs, doneAtMs, headers: {}, ...answer };
}

function ledger(): MinuteLedger {
  return new MinuteLedger({ toEpochMs: (ms) => ms, isWafBlock: (o) => isWafBlock(metricsPolicy(), o), clockSkewMs: 1_000 });
}

describe('MinuteLedger', () => {
  it('files each answer under the minute it arrived in, by status class', () => {
    const l = ledger();
    for (const [status, probe] of [
      [200, 'slo'],
      [204, 'cors.preflight'],
      [429, 'throttle.volley'],
      [403, 'auth.wrong'],
      [403, 'waf.sqli'],
      [500, 'slo'],
      [undefined, 'slo'],
    ] as const) {
      l.add(obs(M + 30_000, M + 30_010, status, probe));
    }
    const [minute] = l.snapshot();
    expect(minute).toMatchObject({
      minuteStartMs: M,
      completed: 6,
      status2xx: 2,
      status4xx: 3,
      status429: 1,
      status5xx: 1,
      transportErrors: 1,
      wafBlocks: 1,
      edgePrev: 0,
      edgeNext: 0,
    });
    expect(minute!.latency.samples).toBe(6);
    expect(minute!.routes['GET /api/items']!.completed).toBe(6);
  });

  it('measures latency from the socket hand-off, not from the schedule', () => {
    const l = ledger();
    l.add(obs(M + 30_000, M + 30_040, 200)); // intended 50 ms earlier: not counted
    expect(l.snapshot()[0]!.latency.p99Ms).toBeCloseTo(40, 0);
  });

  it('marks requests within the clock skew of a minute edge, both ways', () => {
    const l = ledger();
    l.add(obs(M + 59_500, M + 59_600, 200)); // done before the edge, but within 1 s of it
    l.add(obs(M + 59_900, M + 60_100, 200)); // crosses the edge: filed in the next minute
    l.add(obs(M + 90_000, M + 90_010, 200)); // well inside
    const [first, second] = l.snapshot().filter((m) => m.completed > 0);
    expect(first).toMatchObject({ minuteStartMs: M, completed: 1, edgeNext: 1, edgePrev: 0 });
    expect(second).toMatchObject({ minuteStartMs: M + MINUTE_MS, completed: 2, edgePrev: 1, edgeNext: 0 });
  });

  it('spans whole minutes widened by the skew, idle minutes included as zeros', () => {
    const l = ledger();
    expect(l.window()).toBeUndefined();
    expect(l.snapshot()).toEqual([]);
    l.add(obs(M + 500, M + 600, 200)); // 0.5 s after the minute starts: the window reaches back one minute
    l.add(obs(M + 3 * MINUTE_MS + 30_000, M + 3 * MINUTE_MS + 30_010, 200));
    expect(l.window()).toEqual({ startMs: M - MINUTE_MS, endMs: M + 4 * MINUTE_MS });
    expect(l.snapshot().map((m) => m.completed)).toEqual([0, 1, 0, 0, 1]);
    expect(minuteOf(M + 59_999)).toBe(M);
  });

  it('counts a WAF block only for the WAF check\'s answers with the route\'s block status, never a "routed nowhere" 403', () => {
    const policy = metricsPolicy();
    const l = new MinuteLedger({ toEpochMs: (ms) => ms, isWafBlock: (o) => isWafBlock(policy, o) });
    l.add(obs(M + 30_000, M + 30_001, 403, 'waf.sqli', '/api/items?q=1'));
    l.add(obs(M + 30_000, M + 30_001, 403, 'waf.xss', '/api/items/%3Cscript%3E')); // path placement
    l.add({
      ...obs(M + 30_000, M + 30_001, 403, 'waf.lfi', '/api/items/x'),
      headers: { 'x-amzn-errortype': 'MissingAuthenticationTokenException' },
      bodySnippet: '{"message":"Missing Authentication Token"}',
    });
    l.add(obs(M + 30_000, M + 30_001, 403, 'auth.wrong'));
    l.add(obs(M + 30_000, M + 30_001, 200, 'waf.benign'));
    // The probe name alone says nothing: only the check that sent it does.
    l.add({ ...obs(M + 30_000, M + 30_001, 403, 'waf.sqli'), check: 'auth:GET /api/items' });
    l.add({ ...obs(M + 30_000, M + 30_001, 403, 'auth.wrong'), check: 'waf:GET /api/items' });
    l.add({ ...obs(M + 30_000, M + 30_001, 403, 'waf.sqli'), check: 'waf:GET /api/other' });
    expect(l.snapshot()[0]!.wafBlocks).toBe(3);
  });
});
