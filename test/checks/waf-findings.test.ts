/**
 * The WAF check's findings and the default gate: the baseline gates (a miss is `high`, nothing
 * blocked is one `critical`), the rest of the matrix is graded (`medium`/`low` misses grouped per
 * category and placement, `medium` false positives, an `info` grade), and only thresholds the
 * policy writes are explicit. Every fail path gives findings whose ids do not change between runs.
 */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { qualifyFindings } from '../../src/checks/findings.js';
import type { CheckResult } from '../../src/checks/types.js';
import { wafCheck, type WafSpec } from '../../src/checks/waf/check.js';
import { gradeOf, letterOf } from '../../src/checks/waf/grade.js';
import { planWaf, type WafProbe } from '../../src/checks/waf/plan.js';
import type { Observation } from '../../src/engine/observation.js';
import { applyGate } from '../../src/gate/gate.js';
import { parsePolicy } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/types.js';

function policyOf(waf: Record<string, unknown> = {}, method = 'POST'): Policy {
  const route = { method, path: '/api/orders', waf: { blockStatus: [403], ...waf } };
  return { ...parsePolicy(stringify({ version: 1, vendor: 'plain', routes: [route] }), 'p.yaml', { env: {} }), target: 'http://gw.test' };
}

const spec = (p: Policy): WafSpec => wafCheck.select(p)[0]!.spec;
const planOf = (p: Policy) => planWaf(spec(p).route, spec(p).waf);

function answer(probe: WafProbe, status: number): Observation {
  const { path, headers } = probe.request;
  const times = { intendedAtMs: 1, sentAtMs: 1, doneAtMs: 2 };
  return {
    probe: probe.probe,
    check: 'waf:POST /api/orders',
    method: 'POST',
    path,
    requestHeaders: headers,
    ...times,
    headers: {},
    status,
  };
}

/** A WAF's answers: `blocks(probe)` says which probes it blocks (the control always passes). */
function run(p: Policy, blocks: (probe: WafProbe) => boolean) {
  const plan = planOf(p);
  const probes = [...plan.benign, ...plan.baseline, ...plan.attacks, ...(plan.pathControl ? [plan.pathControl] : [])];
  const observations = [answer(plan.control, 200), ...probes.map((probe) => answer(probe, blocks(probe) ? 403 : 200))];
  const verdict = wafCheck.evaluate(spec(p), { observations, notes: { breakerTripped: false } }, p);
  return { verdict, plan };
}

/** The check as the runner hands it to the gate. */
function gated(verdict: ReturnType<typeof run>['verdict'], failOn: 'high' | 'medium' | 'low' = 'high'): CheckResult {
  const id = 'waf:POST /api/orders';
  const result = {
    id,
    kind: 'waf',
    route: 'POST /api/orders',
    expected: {},
    requestsSent: 0,
    ...verdict,
    findings: qualifyFindings(id, verdict),
  } as unknown as CheckResult;
  return applyGate([result], { failOn, today: '2026-11-30' }).checks[0]!;
}

const ids = (verdict: ReturnType<typeof run>['verdict']): string[] => verdict.findings.map((f) => f.id);
const severities = (verdict: ReturnType<typeof run>['verdict']) => Object.fromEntries(verdict.findings.map((f) => [f.id, f.severity]));

const isAttack = (p: WafProbe): boolean => p.kind === 'attack';
/** Roughly CRS at paranoia level 1: the baseline and every classic category everywhere, SSTI/SSRF only in plain query. */
const crsLike = (p: WafProbe): boolean =>
  isAttack(p) && (!['ssti', 'ssrf'].includes(p.category!) || (p.placement === 'query' && p.encoding === 'plain'));

describe('waf findings under the default policy (waf: { blockStatus: [403] })', () => {
  it('passes a WAF that blocks everything, with the grade as its only finding', () => {
    const { verdict } = run(policyOf(), isAttack);
    expect(verdict.status).toBe('pass');
    expect(verdict.findings).toEqual([expect.objectContaining({ id: 'grade', severity: 'info', title: 'WAF grade A+ (100%)' })]);
    expect(verdict.observed.baseline).toMatchObject({ sent: 24, blocked: 24, passed: 0, blockRate: 1 });
  });

  it('passes the default gate with misses and false positives listed: medium for plain payloads in query or body, low otherwise', () => {
    const fp = (p: WafProbe): boolean => p.kind === 'benign' && p.name === 'markdown note';
    const { verdict } = run(policyOf(), (p) => crsLike(p) || fp(p));
    const found = severities(verdict);
    expect(found).toMatchObject({
      'miss:ssti.json': 'medium',
      'miss:ssti.form': 'medium',
      'miss:ssti.path': 'low',
      'miss:ssti.header': 'low',
      'miss:ssti.query': 'low', // only the encoded ones got through in the query
      'miss:ssrf.cookie': 'low',
      'false-positive:markdown-note': 'medium',
      grade: 'info',
    });
    expect(Object.keys(found).filter((id) => id.startsWith('baseline-miss:') || id === 'waf-not-blocking')).toEqual([]);
    // Grouped: one finding per category and placement, its payloads and encodings in the detail.
    expect(ids(verdict).filter((id) => id.startsWith('miss:')).length).toBeLessThanOrEqual(2 * 6);
    const query = verdict.findings.find((f) => f.id === 'miss:ssti.query')!;
    expect(query.title).toBe('ssti gets through in the query string (url, double-url, unicode)'.replace(', unicode', ''));
    expect(query.detail).toMatch(/\(url\).*\(double-url\)/);
    const markdown = verdict.findings.find((f) => f.id === 'false-positive:markdown-note')!;
    expect(markdown.title).toBe(
      'Benign request blocked: markdown note (query string, path, User-Agent header, cookie, JSON body, form body)',
    );
    expect(markdown.evidence.length).toBeGreaterThan(0);
    expect(verdict.status).toBe('pass');
    const check = gated(verdict);
    expect(check.status).toBe('pass');
    expect(check.summary).toMatch(/ · \d+ medium, \d+ low$/);
    // The same run with --fail-on medium fails, naming a finding.
    expect(gated(verdict, 'medium')).toMatchObject({ status: 'fail', summary: expect.stringMatching(/^fails the gate \(medium\): /) });
  });

  it('fails on a baseline attack let through: one high finding per category and placement', () => {
    const { verdict } = run(policyOf(), (p) => isAttack(p) && !(p.category === 'sqli' && p.placement === 'form' && p.encoding === 'plain'));
    expect(verdict.status).toBe('fail');
    expect(severities(verdict)).toEqual({ 'baseline-miss:sqli.form': 'high', 'miss:sqli.form': 'medium', grade: 'info' });
    expect(verdict.findings[0]!.title).toBe('Baseline sqli attack gets through in the form body');
    expect(verdict.summary).toMatch(/baseline 22\/24 blocked.*: baseline attacks got through \(sqli\.form\)$/);
    expect(gated(verdict)).toMatchObject({ status: 'fail' });
  });

  it.each([
    ['off (everything gets through)', (_p: WafProbe) => false],
    ['in detection mode, blocking only one encoded path payload', (p: WafProbe) => p.placement === 'path' && p.encoding === 'double-url'],
  ])('gives one critical finding, not dozens of highs, when no baseline attack is blocked: %s', (_name, blocks) => {
    const { verdict } = run(policyOf(), blocks);
    expect(verdict.status).toBe('fail');
    expect(ids(verdict)).toEqual(['waf-not-blocking', 'grade']);
    expect(verdict.findings[0]).toMatchObject({ severity: 'critical', title: 'The WAF blocks nothing: not even the baseline attacks' });
    expect(verdict.findings[0]!.evidence).toHaveLength(5);
    expect(verdict.summary).toMatch(/no baseline attack blocked: the WAF is off or only detecting/);
    expect(gated(verdict)).toMatchObject({ status: 'fail' });
  });

  it('falls back to the whole matrix when no baseline placement is tested (header only)', () => {
    const p = policyOf({ placements: ['header'] }, 'GET');
    expect(planOf(p).baseline).toEqual([]);
    expect(ids(run(p, () => false).verdict)).toEqual(['waf-not-blocking', 'grade']);
    expect(run(p, isAttack).verdict.status).toBe('pass');
  });
});

describe('explicit thresholds', () => {
  it('makes a breach of a minBlockRate the policy writes an explicit finding, gating at any level', () => {
    const { verdict } = run(policyOf({ minBlockRate: 0.9 }), crsLike);
    const breaches = verdict.findings.filter((f) => f.explicit);
    expect(breaches.map((f) => [f.id, f.severity])).toEqual([
      ['min-block-rate:ssti', 'high'],
      ['min-block-rate:ssrf', 'high'],
    ]);
    expect(breaches[0]!.title).toMatch(/^ssti block rate \d+% is below minBlockRate 90%$/);
    expect(verdict.status).toBe('fail');
    expect(verdict.summary).toMatch(/below 90% in ssti \(\d+%\), ssrf \(\d+%\)/);
  });

  it('makes a breach of a maxFalsePositiveRate the policy writes explicit, though false positives are medium', () => {
    const fp = (p: WafProbe): boolean => p.kind === 'benign' && p.name === 'markdown note';
    const { verdict } = run(policyOf({ maxFalsePositiveRate: 0.05 }), (p) => isAttack(p) || fp(p));
    expect(verdict.findings.find((f) => f.id === 'max-false-positive-rate')).toMatchObject({ severity: 'medium', explicit: true });
    expect(verdict.status).toBe('fail');
    expect(gated(verdict, 'high').status).toBe('fail');
    // Within the allowance: listed, not failing.
    const allowed = run(policyOf({ maxFalsePositiveRate: 0.1 }), (p) => isAttack(p) || fp(p)).verdict;
    expect(ids(allowed)).toEqual(['false-positive:markdown-note', 'grade']);
    expect(gated(allowed).status).toBe('pass');
  });

  it('writes no threshold the policy did not write into expected', () => {
    const p = policyOf();
    expect(wafCheck.expected(spec(p), p)).not.toHaveProperty('minBlockRate');
    expect(wafCheck.expected(spec(p), p)).toMatchObject({
      baseline: expect.stringMatching(/^24 attacks \(sqli, xss, traversal, cmdi, log4shell, xxe\) in query, json, form/),
    });
  });
});

describe('stable finding ids', () => {
  const paths: Array<[string, Record<string, unknown>, (p: WafProbe) => boolean]> = [
    ['WAF off', {}, () => false],
    ['baseline misses', {}, (p) => isAttack(p) && p.encoding !== 'plain'],
    ['graded misses and false positives', {}, (p) => crsLike(p) || (p.kind === 'benign' && p.name.startsWith('template'))],
    ['explicit thresholds', { minBlockRate: 1, maxFalsePositiveRate: 0 }, (p) => crsLike(p) || p.name === 'markdown note'],
  ];
  it.each(paths)('%s: same answers → same ids, none carrying a measured number, and the gate fails on them', (_name, waf, blocks) => {
    const first = run(policyOf(waf), blocks).verdict;
    const second = run(policyOf(waf), blocks).verdict;
    expect(ids(first).length).toBeGreaterThan(1);
    expect(ids(second)).toEqual(ids(first));
    expect(new Set(ids(first)).size).toBe(ids(first).length);
    for (const id of ids(first)) expect(id).toMatch(/^[a-z-]+(:[a-z0-9-]+(\.[a-z]+)?)?$/);
    // The graded path fails only a stricter gate; the others fail the default one.
    expect(gated(first, 'low').status).toBe('fail');
    expect(
      gated(first, 'low')
        .findings.filter((f) => f.disposition === 'gating')
        .map((f) => f.id),
    ).toEqual(
      ids(first)
        .filter((id) => id !== 'grade')
        .map((id) => `waf:POST /api/orders#${id}`),
    );
  });

  it('keeps the ids when the rates change (one more miss in the same category and placement)', () => {
    const fewer = run(policyOf(), (p) => crsLike(p) && !(p.category === 'ssti' && p.placement === 'json'));
    const more = run(policyOf(), (p) => crsLike(p) && !(p.category === 'ssti' && p.placement === 'json' && p.encoding !== 'unicode'));
    expect(ids(more.verdict)).toEqual(ids(fewer.verdict));
  });
});

describe('the grade (GoTestWAF: mean of the true-positive and true-negative rates)', () => {
  it.each([
    [100, 'A+'],
    [97, 'A+'],
    [96.9, 'A'],
    [93, 'A'],
    [90, 'A-'],
    [85, 'B'],
    [80, 'B-'],
    [75, 'C'],
    [70, 'C-'],
    [65, 'D'],
    [60, 'D-'],
    [59.9, 'F'],
    [0, 'F'],
  ])('score %s → %s', (score, letter) => expect(letterOf(score)).toBe(letter));

  it('averages attacks blocked and benign let through, over judged answers only', () => {
    const counts = (blocked: number, passed: number, unresolved = 0) => ({
      sent: blocked + passed + unresolved,
      blocked,
      passed,
      unresolved,
    });
    expect(gradeOf(counts(80, 20, 7), counts(1, 9))).toEqual({ truePositiveRate: 0.8, trueNegativeRate: 0.9, score: 85, letter: 'B' });
    expect(gradeOf(counts(0, 0, 5), counts(0, 10))).toBeUndefined();
  });
});
