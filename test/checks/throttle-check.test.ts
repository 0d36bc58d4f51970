import { describe, expect, it } from 'vitest';
import {
  identifyIdleWaitMs,
  throttleCheck,
  type BucketObserved,
  type ThrottleNotes,
  type ThrottleSpec,
} from '../../src/checks/throttle/check.js';
import { designProbe } from '../../src/checks/throttle/identify/probe.js';
import { simulateBucket } from '../../src/checks/throttle/estimate.js';
import type { CheckResult } from '../../src/checks/types.js';
import type { Observation } from '../../src/engine/observation.js';
import type { OfferedLoad } from '../../src/engine/paced-run.js';
import { parsePolicy } from '../../src/policy/load.js';
import { renderThrottle, throttleCharts } from '../../src/report/render/throttle.js';

const POLICY = parsePolicy(
  `version: 1
target: http://gw.test
credentials:
  main: { header: x-api-key, value: main-key }
  gold: { header: x-api-key, value: gold-key }
routes:
  - method: GET
    path: /api/items
    auth: { required: true, credential: main }
    throttle: { rateLimit: 50, burstLimit: 10, probeSeconds: 2 }
    usagePlans:
      - { name: gold, credential: gold, rateLimit: 100, burstLimit: 25, probeSeconds: 1 }
  - method: GET
    path: /health
`,
  'policy.yaml',
  { env: {} },
);

const OFFERED: OfferedLoad = { ratePerSec: 60, windowRatePerSec: { min: 60, median: 60, max: 60 }, loopDelayMs: { p99: 1, max: 2 } };
const NOTES: ThrottleNotes = { paced: { sent: 0, dropped: 0, maxSendLagMs: 1.5, offered: OFFERED } };

function routeSpec(): ThrottleSpec {
  return throttleCheck.select(POLICY)[0]!.spec;
}

function observation(probe: string, atMs: number, status: number | undefined): Observation {
  const answer = status !== undefined ? { status } : {};
  return { probe, method: 'GET', path: '/api/items', intendedAtMs: atMs, sentAtMs: atMs, doneAtMs: atMs + 1, headers: {}, ...answer };
}

/** A volley and a paced phase through an exact bucket (rate, burst), as the stream would hand them over. */
function through(bucket: { rate: number; burst: number }, volley: number, pacedRate: number, seconds: number): Observation[] {
  const volleyTimes = Array.from({ length: volley }, (_, i) => i * 0.05);
  const pacedTimes = Array.from({ length: Math.round(pacedRate * seconds) }, (_, i) => 10 + (i * 1000) / pacedRate);
  const accepted = simulateBucket([...volleyTimes, ...pacedTimes], bucket.rate, bucket.burst);
  return [
    ...volleyTimes.map((t, i) => observation('throttle.volley', t, accepted[i] ? 200 : 429)),
    ...pacedTimes.map((t, i) => observation('throttle.paced', t, accepted[volley + i] ? 200 : 429)),
  ];
}

describe('throttle check: select and plan', () => {
  it('gives one instance per route throttle and one per usage plan, each with its credential', () => {
    const instances = throttleCheck.select(POLICY);
    expect(instances.map((i) => [i.route, i.idSuffix, i.spec.credential, i.spec.limits.rateLimit])).toEqual([
      ['GET /api/items', '', 'main', 50],
      ['GET /api/items', ' [plan gold]', 'gold', 100],
    ]);
  });

  it('plans the warm-up, an idle wait and the identification schedule (its requests and duration)', () => {
    const spec = routeSpec();
    const plan = throttleCheck.plan(spec, POLICY);
    const schedule = designProbe({ rateLimit: 50, burstLimit: 10, epochMs: 0 });
    const warmUp = Math.max(...schedule.segments.filter((s) => s.startMs === s.endMs || s.name === 'straddle').map((s) => s.requests));
    expect(plan).toEqual({
      requests: warmUp + 1 + schedule.requests.length,
      // the idle wait, a window after the idle check (policy 50/s burst 10: 1 s), the wall-clock start, the schedule
      durationMs: identifyIdleWaitMs(spec.limits) + 1000 + 1000 + schedule.durationMs,
      needsIdleBucket: true,
    });
    expect(plan.durationMs).toBeLessThan(15_000);
    expect(throttleCheck.expected(spec, POLICY)).toMatchObject({ rateLimit: 50, burstLimit: 10, credential: 'main' });
  });
});

describe('throttle check: evaluate is pure', () => {
  it('passes an exact bucket and ignores the warm-up answers', () => {
    const warmUp = Array.from({ length: 20 }, (_, i) => observation('throttle.warm-up', -5000 + i, 503));
    const observations = [...warmUp, ...through({ rate: 50, burst: 10 }, 21, 100, 2)];
    const verdict = throttleCheck.evaluate(routeSpec(), { observations, notes: NOTES }, POLICY);
    expect(verdict.status, verdict.summary).toBe('pass');
    expect((verdict.observed as BucketObserved).unresolved).toBe(0);
    expect(verdict.observed.clientBound).toBeNull();
    const labels = ['volley: first accepted', 'volley: first throttled (429)', 'paced: first throttled (429)'];
    expect(verdict.evidence.map((e) => e.label)).toEqual(labels);
  });

  it('gives the same verdict for the same input, with the chart as data', () => {
    const observations = through({ rate: 50, burst: 10 }, 21, 100, 2);
    const first = throttleCheck.evaluate(routeSpec(), { observations, notes: NOTES }, POLICY);
    const again = throttleCheck.evaluate(routeSpec(), { observations, notes: NOTES }, POLICY);
    expect(JSON.stringify(again)).toBe(JSON.stringify(first));
    const timeline = first.observed.timeline!;
    expect(timeline.windowMs).toBe(100);
    expect(timeline.accepted.reduce((a, b) => a + b, 0)).toBe(observations.filter((o) => o.status === 200).length);
    expect(timeline.theoretical).toEqual(timeline.accepted);
  });

  it('fails a bucket twice as fast as allowed', () => {
    const observations = through({ rate: 100, burst: 10 }, 21, 150, 2);
    const verdict = throttleCheck.evaluate(routeSpec(), { observations, notes: NOTES }, POLICY);
    expect(verdict.status, verdict.summary).toBe('fail');
  });

  it('is inconclusive and client-bound when the client offered less than the limit, with the rates as data', () => {
    const observations = through({ rate: 50, burst: 10 }, 21, 30, 2);
    const verdict = throttleCheck.evaluate(routeSpec(), { observations, notes: NOTES }, POLICY);
    expect(verdict.status, verdict.summary).toBe('inconclusive');
    expect(verdict.summary).toMatch(/client-bound: offered 30\/s of the planned 100\/s, send lag up to 2 ms/);
    expect(verdict.summary).not.toContain('export k6');
    expect(verdict.observed.clientBound).toEqual({ neededRatePerSec: 100, offeredRatePerSec: 30 });
  });

  it('is an error when the health guard stopped the warm-up, or too many answers were neither accepted nor 429', () => {
    const guardNotes: ThrottleNotes = { stoppedBecause: '10 of 50 answers were 5xx' };
    const stopped = throttleCheck.evaluate(routeSpec(), { observations: [], notes: guardNotes }, POLICY);
    expect([stopped.status, stopped.summary]).toEqual(['error', '10 of 50 answers were 5xx: cannot fit a bucket']);
    const observations = through({ rate: 50, burst: 10 }, 21, 100, 2).map((o, i) => (i % 10 === 0 ? { ...o, status: 502 } : o));
    const broken = throttleCheck.evaluate(routeSpec(), { observations, notes: NOTES }, POLICY);
    expect(broken.status).toBe('error');
    expect(broken.summary).toMatch(/answers were neither accepted nor 429 \(e\.g\. 502\)/);
    const nothing = throttleCheck.evaluate(routeSpec(), { observations: [], notes: NOTES }, POLICY);
    expect([nothing.status, nothing.summary]).toEqual(['error', 'no request could be sent (run cap reached)']);
  });
});

describe('throttle check: findings', () => {
  const evaluate = (observations: Observation[]) => throttleCheck.evaluate(routeSpec(), { observations, notes: NOTES }, POLICY);
  const graded = (observations: Observation[]) => (evaluate(observations).findings ?? []).map((f) => [f.id, f.severity]);

  it.each([
    ['a rate twice the policy', { rate: 100, burst: 10 }, 21, 150, [['rate-too-high', 'high']]],
    ['a rate half the policy', { rate: 25, burst: 10 }, 21, 100, [['rate-too-low', 'high']]],
    ['a bucket three times the policy', { rate: 50, burst: 30 }, 41, 100, [['burst-too-large', 'high']]],
    ['a bucket of 3 where the policy says 10', { rate: 50, burst: 3 }, 21, 100, [['burst-too-small', 'high']]],
    ['no limit at all', { rate: 10_000, burst: 10_000 }, 21, 100, [['no-limit', 'high']]],
  ] as const)('%s fails with a high finding named after the problem', (_name, bucket, volley, pacedRate, expected) => {
    const observations = through(bucket, volley, pacedRate, 2);
    const verdict = evaluate(observations);
    expect(verdict.status, verdict.summary).toBe('fail');
    expect(graded(observations)).toEqual(expected);
  });

  it('says the measured interval against the policy, and points at the phase it was measured in', () => {
    const verdict = evaluate(through({ rate: 100, burst: 10 }, 21, 150, 2));
    const [rate] = verdict.findings;
    expect(rate!.title).toBe("rate above the policy's 50/s +10%: more gets through than it allows");
    expect(rate!.detail).toMatch(/^rate \d+\.\d\/s is outside 50\/s ±10% \(decision times allow \d+\.\d–\d+\.\d\/s\)$/);
    expect(rate!.evidence.map((i) => verdict.evidence[i]!.label)).toEqual(['paced: first throttled (429)']);
    const burst = evaluate(through({ rate: 50, burst: 30 }, 41, 100, 2)).findings[0]!;
    expect(burst.detail).toMatch(/^burst \d+\.\d is outside 10 ±1\.0 \(the volley's decision window allows/);
  });

  it('gives the same ids for the same gateway measured twice, whatever the numbers', () => {
    const ids = (pacedRate: number) => evaluate(through({ rate: 100, burst: 10 }, 21, pacedRate, 2)).findings.map((f) => f.id);
    expect(ids(150)).toEqual(ids(180));
    expect(ids(150)).toEqual(['rate-too-high']);
  });

  it('a bucket within tolerance has no gating finding: what was measured is info', () => {
    const verdict = evaluate(through({ rate: 50, burst: 10 }, 21, 100, 2));
    expect(verdict.status).toBe('pass');
    expect(verdict.findings.map((f) => [f.id, f.severity])).toEqual([['bucket-measured', 'info']]);
    expect(verdict.findings[0]!.title).toMatch(
      /^token bucket within the policy: rate \d+\.\d\/s, burst \d+\.\d \(policy 50\/s, burst 10\)$/,
    );
  });

  it('inconclusive stays inconclusive without a finding; a problem beside an undecided part is listed, the status inconclusive', () => {
    const clientBound = evaluate(through({ rate: 50, burst: 10 }, 21, 30, 2));
    expect([clientBound.status, clientBound.findings]).toEqual(['inconclusive', []]);
    const mixed = evaluate(through({ rate: 50, burst: 30 }, 41, 30, 2));
    expect(mixed.status, mixed.summary).toBe('inconclusive');
    expect(mixed.findings.map((f) => [f.id, f.severity])).toEqual([['burst-too-large', 'high']]);
  });
});

describe('throttle renderer', () => {
  const result = (observed: Record<string, unknown>): CheckResult => ({
    id: 'throttle:GET /api/items',
    kind: 'throttle',
    route: 'GET /api/items',
    status: 'inconclusive',
    summary: '',
    expected: {},
    observed,
    evidence: [],
    findings: [],
    durationMs: 0,
    requestsSent: 0,
  });

  it('draws the chart from the timeline and gives the k6 command for a client-bound verdict', () => {
    const observations = through({ rate: 50, burst: 10 }, 21, 30, 2);
    const { observed } = throttleCheck.evaluate(routeSpec(), { observations, notes: NOTES }, POLICY);
    const md = renderThrottle(result({ ...observed }), { policyFile: 'policies/api.yaml' }).join('\n');
    expect(md).toContain('![throttle GET /api/items](charts/throttle-get-api-items.svg)');
    const [chart] = throttleCharts(result({ ...observed }));
    expect(chart!.chart.series.map((s) => s.name)).toContain('accepted by a bucket of 10 at 50/s (theory)');
    expect(md).toContain('gatecheck export k6 --policy policies/api.yaml');
    expect(md).not.toMatch(/\| timeline \|/);
  });

  it('renders a result without a timeline (the k6 engine) as its table alone', () => {
    const md = renderThrottle(result({ ratePerSec: 50 }), { policyFile: 'p.yaml' }).join('\n');
    expect(md).toContain('| ratePerSec | 50 |');
    expect(md).not.toContain('charts/');
    expect(throttleCharts(result({ ratePerSec: 50 }))).toEqual([]);
    expect(md).not.toContain('export k6');
  });
});
