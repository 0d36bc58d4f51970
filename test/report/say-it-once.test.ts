/**
 * Reports and console that say it once and say what they mean (issue 13, item 5): a usage plan's
 * throttle is named by its plan in every output, the console wraps a long summary at words instead
 * of cutting its key figure, and CORS progress lines say whether the answer is readable by that
 * origin. (The CORS summary, bypassOrigins and the hostile-origin count said once, and JUnit
 * failures as finding text, are tested in cors-grading.test.ts and readable.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { CorsFinding, CorsProbe } from '../../src/checks/cors/exchanges.js';
import { exchangeMeaning } from '../../src/checks/cors/exchanges.js';
import type { Finding } from '../../src/checks/types.js';
import { summaryTable } from '../../src/cli/commands.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { withGate } from '../../src/report/model.js';
import { renderSarif } from '../../src/report/sarif.js';
import { checkName, routeLabel } from '../../src/report/status.js';
import { wrapWords } from '../../src/util/format.js';
import { checkResult, runReport } from '../support/report-fixture.js';

const ROUTE = 'GET /api/reports';
const PLAN_ID = `throttle:${ROUTE} [plan gold]`;
const SUMMARY =
  'no 429 through the paced phase at 159.5/s offered: the rate is at least 160.3/s, above 80/s +10%; ' +
  'all 45 volley requests accepted: burst is at least 45, above 30 ±3.0';
const noLimit: Finding = {
  id: `${PLAN_ID}#no-limit`,
  severity: 'high',
  title: 'no throttling: none of 45 volley and 160 paced requests was refused with 429 (policy 80/s, burst 30)',
  detail: 'every request was accepted',
  evidence: [],
};
const report = withGate(
  runReport([
    checkResult('throttle', 'pass', { route: ROUTE, summary: 'rate 49.8/s within 50/s ±10%' }),
    checkResult('throttle', 'fail', { id: PLAN_ID, route: ROUTE, summary: SUMMARY, findings: [noLimit] }),
  ]),
  { failOn: 'high', today: '2026-11-30' },
);

describe('a usage plan’s throttle is named by its plan everywhere', () => {
  it('label and name', () => {
    expect(routeLabel(report.checks[1]!)).toBe('GET /api/reports (plan gold)');
    expect(checkName(report.checks[1]!)).toBe('throttle GET /api/reports (plan gold)');
    expect(checkName(report.checks[0]!)).toBe('throttle GET /api/reports');
  });

  it('report.md: heading, checks table, findings table, anchor', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('<a id="throttle-get-api-reports-plan-gold"></a>\n## throttle: GET /api/reports (plan gold) — ');
    expect(md).toContain('| [throttle](#throttle-get-api-reports-plan-gold) | `GET /api/reports (plan gold)` |');
    expect(md).toContain('[throttle GET /api/reports (plan gold)](#throttle-get-api-reports-plan-gold)');
    // The route's own throttle stays as it was.
    expect(md).toContain('## throttle: GET /api/reports — ');
  });

  it('JUnit test case names tell the two checks apart', () => {
    const junit = renderJunit(report);
    expect(junit).toContain('<testcase classname="gatecheck.throttle" name="GET /api/reports (plan gold)"');
    expect(junit).toContain('<testcase classname="gatecheck.throttle" name="GET /api/reports"');
  });

  it('SARIF: the message names the plan (both checks point at the route’s line)', () => {
    const sarif = JSON.parse(renderSarif(report)) as { runs: Array<{ results: Array<{ message: { text: string } }> }> };
    expect(sarif.runs[0]!.results.map((r) => r.message.text)).toEqual([
      `throttle GET /api/reports (plan gold): ${noLimit.title}: ${noLimit.detail}`,
    ]);
  });

  it('console: the route column names the plan; a long summary wraps at words, the key figure kept', () => {
    const text = summaryTable(report);
    expect(text).toMatch(/\| throttle +\| GET \/api\/reports \(plan gold\) +\| FAIL · 1 high +\| no 429 through/);
    const cells = text
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .map((line) => line.split('|')[4]!.trim());
    const summaryLines = cells.slice(cells.indexOf('rate 49.8/s within 50/s ±10%') + 1);
    expect(summaryLines.join(' ')).toBe(SUMMARY);
    expect(summaryLines.length).toBe(2);
    for (const line of summaryLines) expect(line.length).toBeLessThanOrEqual(90);
    expect(text).not.toContain('…');
  });
});

describe('wrapWords', () => {
  it.each([
    ['short text', 20, Infinity, ['short text']],
    ['one two three four', 9, Infinity, ['one two', 'three', 'four']],
    ['abcdefghijkl xy', 5, Infinity, ['abcde', 'fghij', 'kl xy']],
    ['one two three four five six', 9, 2, ['one two', 'three…']],
    ['alpha beta gamma delta', 10, 1, ['alpha…']],
    ['', 10, 3, []],
  ])('%j at %i, %s lines', (text, width, lines, expected) => {
    expect(wrapWords(text, width, lines)).toEqual(expected);
  });

  it('never cuts a word to make room for the ellipsis', () => {
    const [line] = wrapWords('aaaa bbbb cccc dddd', 9, 1);
    expect(line).toBe('aaaa…');
  });
});

describe('CORS progress says what an answer means for that origin', () => {
  const probe = (kind: CorsProbe['kind'], mustAllow: boolean): CorsProbe => ({
    request: { probe: 'cors.actual', method: 'GET', path: '/api/items' },
    label: 'x',
    kind,
    origin: 'https://gatecheck-evil.example',
    mustAllow,
  });
  const finding = (p: CorsProbe, outcome: CorsFinding['outcome'], problem?: CorsFinding['problem'], note = 'why'): CorsFinding => ({
    probe: p,
    outcome,
    note,
    ...(problem ? { problem } : {}),
  });

  it.each([
    ['hostile, blocked', finding(probe('actual', false), 'ok'), 'not readable by that origin (ok)'],
    [
      'hostile, read',
      finding(probe('actual', false), 'violation', 'hostile-readable', 'origin reflected'),
      'readable by that origin (violation: origin reflected)',
    ],
    ['hostile preflight refused', finding(probe('preflight', false), 'ok'), 'preflight refused for that origin (ok)'],
    ['allowed, read', finding(probe('actual', true), 'ok'), 'readable by that origin (ok)'],
    [
      'allowed, refused',
      finding(probe('actual', true), 'violation', 'refused', 'no ACAO'),
      'not readable by that origin (violation: no ACAO)',
    ],
    ['allowed, wildcard', finding(probe('actual', true), 'violation', 'wildcard', 'ACAO *'), 'readable by that origin (violation: ACAO *)'],
    [
      'no answer',
      finding(probe('actual', false), 'unresolved', undefined, 'no usable answer (timeout)'),
      'unresolved (no usable answer (timeout))',
    ],
  ])('%s', (_name, f, meaning) => {
    expect(exchangeMeaning(f)).toBe(meaning);
  });
});
