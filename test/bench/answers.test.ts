import { describe, expect, it } from 'vitest';
import { benchAnswers, misleadingBench } from '../../src/bench/answers.js';
import type { BenchReport } from '../../src/bench/report.js';
import type { StepResult } from '../../src/bench/ladder.js';
import { findRoute } from '../../src/policy/routes.js';
import { parsePolicy } from '../../src/policy/load.js';

const report = (...counts: Array<Record<string, number>>): BenchReport =>
  ({ steps: counts.map((statusCounts) => ({ statusCounts, transportErrors: 0 }) as unknown as StepResult) }) as BenchReport;

describe('a bench run that would mislead', () => {
  it.each<[string, Array<Record<string, number>>, string | undefined]>([
    ['all accepted', [{ 200: 50 }], undefined],
    ['throttled above the limit (what a ladder measures)', [{ 200: 50 }, { 200: 50, 429: 400 }], undefined],
    ['a few errors', [{ 200: 90, 503: 10 }], undefined],
    ['every answer 403', [{ 403: 10 }, { 403: 20 }], 'every answer was 403: the route needs a credential? try --credential main'],
    ['nothing accepted, mixed', [{ 401: 6, 500: 4 }], 'nothing was accepted: 10 of 10 answers were refusals (401: 6, 500: 4)'],
    ['mostly 5xx', [{ 200: 4, 502: 6 }], '6 of 10 answers were refusals (502: 6, 200: 4); the figures'],
    ['only 429', [{ 429: 30 }], 'every answer was 429; the figures measure refusals'],
    ['no answer at all', [{}], 'no answer came back'],
  ])('%s', (_name, counts, expected) => {
    const problem = misleadingBench(benchAnswers(report(...counts)), 'try --credential main');
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(expected);
  });
});

describe('--route, the same for bench and export', () => {
  const policy = parsePolicy(
    'version: 1\nroutes:\n  - { name: items, method: GET, path: /a, slo: { p99Ms: 5 } }\n' +
      '  - { method: POST, path: /a, slo: { p99Ms: 5 } }\n  - { method: GET, path: /b, slo: { p99Ms: 5 } }\n',
    'p.yaml',
    { env: {} },
  );
  it.each([
    ['GET /a', 'GET /a'],
    ['post /a', 'POST /a'],
    ['items', 'GET /a'],
    ['2', 'GET /b'],
    ['routes[1]', 'POST /a'],
    ['/b', 'GET /b'],
  ])('%s → %s', (given, id) => expect(findRoute(policy, given)).toMatchObject({ route: { id } }));

  it.each([
    ['3', 'no route at index 3: the policy has 3 (0 to 2)'],
    ['/a', '"/a" is the path of 2 routes (GET /a, POST /a): give the id'],
    ['GET /c', 'no route "GET /c"; did you mean "GET /a"? (routes: 0: GET /a (items), 1: POST /a, 2: GET /b)'],
  ])('%s → %s', (given, problem) => expect(findRoute(policy, given)).toEqual({ problem }));
});
