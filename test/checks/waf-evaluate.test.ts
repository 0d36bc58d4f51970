/**
 * Reading WAF answers and the verdict: pure tables. A block is only ever a block status; the
 * backend's normal answer is a pass-through; everything else is unresolved and never a block.
 */
import { describe, expect, it } from 'vitest';
import {
  addToTally,
  classifyWafAnswer,
  emptyTally,
  evaluateWaf,
  MAX_UNRESOLVED_SHARE,
  pathBaselineOf,
  type AnswerRules,
  type WafAnswer,
  type WafOutcome,
} from '../../src/checks/waf/evaluate.js';
import type { WafProbe } from '../../src/checks/waf/plan.js';
import type { Observation } from '../../src/engine/observation.js';
import type { WafCategory } from '../../src/policy/types.js';

function obs(status: number | undefined, body?: string, headers: Record<string, string> = {}): Observation {
  return {
    probe: 'waf.sqli',
    method: 'GET',
    path: '/x',
    intendedAtMs: 0,
    sentAtMs: 0,
    doneAtMs: 1,
    headers,
    ...(status !== undefined ? { status } : { error: 'ECONNRESET' }),
    ...(body ? { bodySnippet: body } : {}),
  };
}

const plain: AnswerRules = { blockStatus: [403], isOk: (s) => s >= 200 && s < 300, vendor: 'plain' };
const awsRest: AnswerRules = { ...plain, vendor: 'aws-rest' };
const MAT = '{"message":"Missing Authentication Token"}';
const FORBIDDEN = '{"message":"Forbidden"}';

describe('classifyWafAnswer', () => {
  it.each([
    ['a block status', plain, obs(403), 'query', 'blocked'],
    ['the normal answer', plain, obs(200), 'query', 'passed'],
    ['a 5xx (never a block)', plain, obs(502), 'query', 'unresolved'],
    ['a reset (never a block)', plain, obs(undefined), 'query', 'unresolved'],
    ['another 4xx', plain, obs(400), 'query', 'unresolved'],
    ['a 406 when it is a block status', { ...plain, blockStatus: [403, 406] }, obs(406), 'cookie', 'blocked'],
    ['okStatus decides the normal answer', { ...plain, isOk: (s: number) => s === 405 }, obs(405), 'json', 'passed'],
    ['AWS REST WAF block on the path', awsRest, obs(403, FORBIDDEN), 'path', 'blocked'],
    ['AWS REST Missing Authentication Token on the path: past the WAF, routed nowhere', awsRest, obs(403, MAT), 'path', 'passed'],
    [
      'the same by x-amzn-errortype alone',
      awsRest,
      obs(403, undefined, { 'x-amzn-errortype': 'MissingAuthenticationTokenException' }),
      'path',
      'passed',
    ],
    ['Missing Authentication Token on the route itself', awsRest, obs(403, MAT), 'query', 'unresolved'],
    ['a plain gateway has no such wording: 403 is a block', plain, obs(403, MAT), 'path', 'blocked'],
    ['AWS HTTP API 404 on the path', { ...plain, vendor: 'aws-http' as const }, obs(404, '{"message":"Not Found"}'), 'path', 'passed'],
    ["the path control's status on the path", { ...plain, pathBaseline: { status: 404, notRouted: false } }, obs(404), 'path', 'passed'],
    ["the path control's status elsewhere", { ...plain, pathBaseline: { status: 404, notRouted: false } }, obs(404), 'query', 'unresolved'],
    [
      'a 400 on the path (nginx refusing ../ above the root)',
      { ...plain, pathBaseline: { status: 404, notRouted: false } },
      obs(400),
      'path',
      'unresolved',
    ],
  ] as const)('%s', (_name, rules, observation, placement, expected) => {
    expect(classifyWafAnswer(observation, placement, rules).outcome).toBe(expected);
  });

  it('never reads a probe throttled on every retry, or one never sent', () => {
    expect(classifyWafAnswer(obs(429), 'query', plain, true)).toEqual({
      outcome: 'unresolved',
      reason: '429 on every retry',
      throttledOut: true,
    });
    expect(classifyWafAnswer(undefined, 'query', plain).outcome).toBe('unresolved');
  });
});

describe('pathBaselineOf', () => {
  it.each([
    ['nginx 404 for an unknown path', plain, obs(404), { baseline: { status: 404, notRouted: false } }],
    ['AWS REST 403 Missing Authentication Token', awsRest, obs(403, MAT), { baseline: { status: 403, notRouted: true } }],
    ['a backend that answers any path 200', plain, obs(200), { baseline: { status: 200, notRouted: false } }],
  ] as const)('judges the path placement against %s', (_name, rules, observation, expected) => {
    expect(pathBaselineOf(observation, rules)).toEqual(expected);
  });

  it.each([
    ['a plain 403 for any unknown path (cannot be told from a block)', obs(403), /block status/],
    ['a 502', obs(502), /no usable answer/],
    ['a reset', obs(undefined), /no usable answer/],
  ] as const)('skips the path placement on %s', (_name, observation, problem) => {
    const read = pathBaselineOf(observation, plain);
    expect('problem' in read && read.problem).toMatch(problem);
  });
});

function probe(kind: WafProbe['kind'], category?: WafCategory): WafProbe {
  return {
    probe: 'waf.x',
    kind,
    ...(category ? { category } : {}),
    name: 'p',
    placement: 'query',
    encoding: 'plain',
    request: { method: 'GET', path: '/x', headers: {} },
  };
}

/** A tally from counts: per category [blocked, passed, unresolved], and benign [blocked, passed, unresolved]. */
function tally(categories: Partial<Record<WafCategory, [number, number, number]>>, benign: [number, number, number] = [0, 10, 0]) {
  const t = emptyTally();
  const add = (p: WafProbe, counts: [number, number, number]): void => {
    (['blocked', 'passed', 'unresolved'] as WafOutcome[]).forEach((outcome, i) => {
      for (let n = 0; n < counts[i]!; n++) addToTally(t, p, { outcome, ...(outcome === 'unresolved' ? { reason: '502' } : {}) });
    });
  };
  for (const [category, counts] of Object.entries(categories)) add(probe('attack', category as WafCategory), counts);
  add(probe('benign'), benign);
  return t;
}

const passed: WafAnswer = { outcome: 'passed' };
const strict = { minBlockRate: 1, maxFalsePositiveRate: 0, categories: ['sqli', 'xss'] as WafCategory[] };

describe('evaluateWaf', () => {
  it.each([
    [
      'everything blocked, nothing benign blocked',
      strict,
      tally({ sqli: [9, 0, 0], xss: [9, 0, 0] }),
      'pass',
      /18\/18 attacks blocked \(100%\), 0\/10 benign blocked/,
    ],
    ['one SQLi through', strict, tally({ sqli: [8, 1, 0], xss: [9, 0, 0] }), 'fail', /below 100% in sqli \(89%\)/],
    [
      'a category under the bar even though the overall rate is above it',
      { ...strict, minBlockRate: 0.9 },
      tally({ sqli: [20, 0, 0], xss: [8, 2, 0] }),
      'fail',
      /in xss \(80%\)/,
    ],
    ['a benign request blocked', strict, tally({ sqli: [9, 0, 0], xss: [9, 0, 0] }, [1, 9, 0]), 'fail', /false positives above 0%/],
    [
      'a benign request blocked within the allowance',
      { ...strict, maxFalsePositiveRate: 0.1 },
      tally({ sqli: [9, 0, 0], xss: [9, 0, 0] }, [1, 9, 0]),
      'pass',
      /1\/10 benign blocked \(10%\)/,
    ],
    [
      'a few unresolved: rates over judged answers, noted',
      strict,
      tally({ sqli: [10, 0, 1], xss: [10, 0, 0] }),
      'pass',
      /1 unresolved, not counted/,
    ],
    ['too many unresolved attacks', strict, tally({ sqli: [5, 0, 4], xss: [9, 0, 0] }), 'error', /too many answers were unresolved/],
    [
      'too many unresolved benign',
      strict,
      tally({ sqli: [9, 0, 0], xss: [9, 0, 0] }, [0, 5, 5]),
      'error',
      /too many answers were unresolved/,
    ],
    ['a category with no judged answer', strict, tally({ sqli: [9, 0, 0], xss: [0, 0, 1] }), 'error', /no judgeable answer for xss/],
    ['a breach wins over unresolved answers', strict, tally({ sqli: [0, 5, 5], xss: [9, 0, 0] }), 'fail', /below 100% in sqli \(0%\)/],
    [
      'unresolved never count as blocks',
      { ...strict, minBlockRate: 0.5 },
      tally({ sqli: [1, 2, 100], xss: [9, 0, 0] }),
      'fail',
      /sqli \(33%\)/,
    ],
  ] as const)('%s → %s', (_name, waf, t, status, summary) => {
    const verdict = evaluateWaf(t, waf, passed);
    expect(verdict.status).toBe(status);
    expect(verdict.summary).toMatch(summary);
  });

  it('is an error when the benign control is blocked or unanswered, whatever else was seen', () => {
    const t = tally({ sqli: [9, 0, 0], xss: [9, 0, 0] });
    expect(evaluateWaf(t, strict, { outcome: 'blocked' })).toMatchObject({
      status: 'error',
      summary: expect.stringMatching(/control .* was blocked/),
    });
    expect(evaluateWaf(t, strict, { outcome: 'unresolved', reason: '502' })).toMatchObject({
      status: 'error',
      summary: expect.stringMatching(/no normal answer \(502\)/),
    });
  });

  it('reports the rates it judged on', () => {
    const verdict = evaluateWaf(
      tally({ sqli: [3, 1, 0], xss: [4, 0, 0] }, [1, 3, 0]),
      { ...strict, minBlockRate: 0.5, maxFalsePositiveRate: 0.5 },
      passed,
    );
    expect(verdict).toMatchObject({ status: 'pass', blockRate: 7 / 8, falsePositiveRate: 0.25, weakCategories: [] });
    expect(MAX_UNRESOLVED_SHARE).toBe(0.1);
  });

  it('lists what got through and what was blocked by mistake', () => {
    const t = emptyTally();
    addToTally(t, probe('attack', 'sqli'), { outcome: 'passed' });
    addToTally(t, probe('benign'), { outcome: 'blocked' });
    addToTally(t, probe('path-control'), { outcome: 'passed' });
    expect(t.through).toHaveLength(1);
    expect(t.falsePositives).toHaveLength(1);
    expect(t.attacks.sent + t.benign.sent).toBe(2);
    expect(t.byCell['query/plain']).toEqual({ sent: 1, blocked: 0, passed: 1, unresolved: 0 });
  });
});
