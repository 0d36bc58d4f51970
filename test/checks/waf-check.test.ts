/**
 * The WAF check's evaluate: pure, from observations alone. Each answer is read back to its payload
 * by its probe name (whatever order the answers arrived in), a probe's last attempt is its answer,
 * and what was never sent is unresolved, with the breaker's reason when the breaker stopped it.
 */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { isWafBlock, wafCheck, WAF_BREAKER_UNRESOLVED_IN_A_ROW, type WafNotes, type WafSpec } from '../../src/checks/waf/check.js';
import { planWaf, type WafProbe } from '../../src/checks/waf/plan.js';
import type { Observation } from '../../src/engine/observation.js';
import { parsePolicy } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/types.js';

function policyOf(waf: Record<string, unknown>, vendor = 'plain'): Policy {
  const route = { method: 'GET', path: '/api/items', waf: { blockStatus: [403], ...waf } };
  return { ...parsePolicy(stringify({ version: 1, vendor, routes: [route] }), 'p.yaml', { env: {} }), target: 'http://gw.test' };
}

const QUERY_AND_HEADER = { placements: ['query', 'header'] };
const policy = policyOf(QUERY_AND_HEADER);
const spec = (p: Policy = policy): WafSpec => wafCheck.select(p)[0]!.spec;
const planOf = (p: Policy = policy) => planWaf(spec(p).route, spec(p).waf);

/** AWS REST's answer to a path no resource matches: "routed nowhere". */
const MAT = {
  headers: { 'x-amzn-errortype': 'MissingAuthenticationTokenException' },
  bodySnippet: '{"message":"Missing Authentication Token"}',
};

let clock = 0;
function answer(probe: WafProbe, status: number | undefined, extra: Partial<Observation> = {}): Observation {
  clock += 1;
  const { path, headers } = probe.request;
  const result = status === undefined ? { error: 'ECONNRESET' } : { status };
  const times = { intendedAtMs: clock, sentAtMs: clock, doneAtMs: clock + 1 };
  const sent = { probe: probe.probe, check: 'waf:GET /api/items', method: 'GET', path, requestHeaders: headers, ...times };
  return { ...sent, headers: {}, ...result, ...extra };
}

/** The answers of a WAF that blocks every attack and lets every benign request through. */
function correctWaf(p: Policy = policy): Observation[] {
  const plan = planOf(p);
  return [
    answer(plan.control, 200),
    ...(plan.pathControl ? [answer(plan.pathControl, 404)] : []),
    ...plan.benign.map((b) => answer(b, 200)),
    ...plan.baseline.map((a) => answer(a, 403)),
    ...plan.attacks.map((a) => answer(a, 403)),
  ];
}

function judge(observations: Observation[], notes: WafNotes = { breakerTripped: false }, p: Policy = policy) {
  return wafCheck.evaluate(spec(p), { observations, notes }, p);
}

describe('wafCheck.evaluate', () => {
  it('passes a WAF that blocks every attack, whatever order the answers arrived in', () => {
    const observations = correctWaf();
    const inOrder = judge(observations);
    expect(inOrder.status, inOrder.summary).toBe('pass');
    const benign = planOf().benign.length + 1;
    expect(inOrder.observed).toMatchObject({ control: '200', blockRate: 1, falsePositiveRate: 0, attacks: 36, blocked: 36, benign });
    expect(Object.keys(inOrder.observed.byPlacement)).toEqual(['query', 'header']);
    expect(inOrder.observed.byCell['query/url']).toEqual({ sent: 9, blocked: 9, passed: 0, unresolved: 0, blockRate: 1 });
    const shuffled = judge([observations[0]!, ...observations.slice(1).reverse()]);
    expect(shuffled).toEqual(inOrder);
  });

  it('reads every answer back to its payload: one category let through fails that category alone', () => {
    const plan = planOf();
    const xssProbe = (probe: string): boolean => probe.startsWith('waf.xss.') || probe.startsWith('waf.baseline.xss.');
    const observations = correctWaf().map((o) => (xssProbe(o.probe) ? { ...o, status: 200 } : o));
    const verdict = judge(observations);
    expect(verdict.status).toBe('fail');
    expect(verdict.summary).toMatch(/baseline attacks got through \(xss\.query\)/);
    expect(verdict.findings.map((f) => [f.id, f.severity])).toEqual([
      ['baseline-miss:xss.query', 'high'],
      ['miss:xss.query', 'medium'],
      ['miss:xss.header', 'low'],
      ['grade', 'info'],
    ]);
    expect(verdict.observed.baseline!.passedThrough).toEqual([
      'baseline xss: script tag in query (plain)',
      'baseline xss: img onerror in query (plain)',
    ]);
    const xss = plan.attacks.filter((a) => a.category === 'xss');
    expect(verdict.observed.passedThrough).toEqual(xss.map((a) => `xss: ${a.name} in ${a.placement} (${a.encoding})`));
    expect(verdict.observed.byCategory.sqli!.blockRate).toBe(1);
    const violations = verdict.evidence.filter((e) => e.outcome === 'violation');
    expect(violations).toHaveLength(6);
    // Each finding points at the exchanges it rests on.
    const baselineMiss = verdict.findings.find((f) => f.id === 'baseline-miss:xss.query')!;
    expect(baselineMiss.evidence.map((i) => verdict.evidence[i]!.label)).toEqual(verdict.observed.baseline!.passedThrough);
    expect(violations[0]).toMatchObject({ url: `http://gw.test${violations[0]!.path}`, status: 200, note: 'payload got through' });
  });

  it("takes a probe's last attempt: a 429 then a block is a block; 429 on every attempt is unresolved, never a block", () => {
    const plan = planOf();
    const [first, second] = plan.attacks;
    const observations = correctWaf().filter((o) => o.probe !== first!.probe && o.probe !== second!.probe);
    observations.push(answer(first!, 429), answer(first!, 403));
    observations.push(...Array.from({ length: 5 }, () => answer(second!, 429)));
    const verdict = judge(observations);
    expect(verdict.observed).toMatchObject({ blocked: 35, unresolved: 1 });
    expect(verdict.observed.unresolvedProbes).toEqual([expect.stringMatching(/→ 429 on every retry$/)]);
    expect(verdict.status, verdict.summary).toBe('pass'); // 1 of 36 unresolved: under the 10% a verdict tolerates
  });

  it('gives error when the benign control is blocked, and judges nothing else', () => {
    const verdict = judge([answer(planOf().control, 403)]);
    expect(verdict.status).toBe('error');
    expect(verdict.summary).toMatch(/benign control \("hello world"\) was blocked/);
    expect(verdict.observed).toMatchObject({ control: '403', attacks: 0 });
    expect(verdict.evidence).toHaveLength(1);
  });

  it('names the breaker for what it stopped, and the run cap otherwise', () => {
    const plan = planOf();
    const sent = [answer(plan.control, 200), ...plan.benign.slice(0, WAF_BREAKER_UNRESOLVED_IN_A_ROW).map((b) => answer(b, undefined))];
    const tripped = judge(sent, { breakerTripped: true });
    expect(tripped.status).toBe('error');
    expect(tripped.observed.unresolvedProbes.at(-1)).toMatch(/→ not sent: 16 answers in a row were unresolved$/);
    expect(tripped.observed.unresolvedProbes[0]).toMatch(/→ ECONNRESET$/);
    expect(judge(sent).observed.unresolvedProbes.at(-1)).toMatch(/→ not sent \(run cap reached\)$/);
    // Evidence only for what was sent: the control and the 16 resets.
    expect(tripped.evidence).toHaveLength(1 + WAF_BREAKER_UNRESOLVED_IN_A_ROW);
  });

  it('leaves the path placement out when an ordinary segment below the route already gets a block status', () => {
    const withPath = policyOf({ placements: ['query', 'path'] });
    const plan = planOf(withPath);
    const observations = correctWaf(withPath).map((o) => (o.probe === plan.pathControl!.probe ? { ...o, status: 403 } : o));
    const sent = observations.filter((o) => !o.path.startsWith('/api/items/') || o.probe === plan.pathControl!.probe);
    const verdict = judge(sent, undefined, withPath);
    expect(verdict.status, verdict.summary).toBe('pass');
    expect(verdict.observed.skippedPlacements?.path).toMatch(/already gets 403, a block status/);
    expect(Object.keys(verdict.observed.byPlacement)).toEqual(['query']);
  });

  it('reads AWS "Missing Authentication Token" on the path placement as past the WAF', () => {
    const aws = policyOf({ placements: ['path'] }, 'aws-rest');
    const plan = planOf(aws);
    const observations = correctWaf(aws).map((o) => (o.probe === plan.pathControl!.probe ? { ...o, status: 403, ...MAT } : o));
    observations[observations.length - 1] = { ...observations[observations.length - 1]!, ...MAT };
    const verdict = judge(observations, undefined, aws);
    expect(verdict.observed.pathPlacementNormalAnswer).toBe(403);
    expect(verdict.observed.passed).toBe(1);
    // Only the path is tested: no baseline; one encoded payload in the path is a low miss, listed, not failing.
    expect(verdict.status).toBe('pass');
    const last = plan.attacks[plan.attacks.length - 1]!;
    expect(verdict.findings.filter((f) => f.severity !== 'info')).toEqual([
      expect.objectContaining({ id: `miss:${last.category!}.path`, severity: 'low' }),
    ]);
  });

  it('plans every probe once as the request count, and no idle bucket', () => {
    const plan = planOf();
    const requests = 1 + plan.benign.length + plan.baseline.length + plan.attacks.length;
    expect(plan.baseline).toHaveLength(8); // query only on a GET route: 8 baseline payloads
    expect(wafCheck.plan(spec(), policy)).toEqual({ requests, durationMs: 0, needsIdleBucket: false });
  });
});

describe("isWafBlock (the CloudWatch ledger's WAF-block tally)", () => {
  const base = answer(planOf().attacks[0]!, 403);
  it.each([
    ['a WAF probe answered with the block status', base, true],
    ['a WAF probe let through', { ...base, status: 200 }, false],
    ['a transport error', { ...base, status: undefined, error: 'ECONNRESET' }, false],
    ["another check's 403, whatever its probe name", { ...base, check: 'auth:GET /api/items' }, false],
    ['an untagged observation', { ...base, check: undefined }, false],
    ['a route without a waf block', { ...base, check: 'waf:GET /other' }, false],
  ] as const)('%s → %s', (_name, observation, expected) => {
    expect(isWafBlock(policy, observation as Observation)).toBe(expected);
  });

  it('never counts a "routed nowhere" 403 (AWS Missing Authentication Token)', () => {
    const aws = policyOf(QUERY_AND_HEADER, 'aws-rest');
    expect(isWafBlock(aws, base)).toBe(true);
    expect(isWafBlock(aws, { ...base, ...MAT })).toBe(false);
  });
});
