/**
 * report.md as a reviewer reads it: no JSON in any table cell, the findings summary in severity
 * order within each disposition, every <details> block closed, and the charts written as
 * well-formed SVG files that report.md references (and nothing it references missing).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SEVERITIES, type Finding } from '../../src/checks/types.js';
import { summaryTable } from '../../src/cli/commands.js';
import { renderSvgChart } from '../../src/report/charts.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderFirstScreen, renderMarkdown } from '../../src/report/markdown.js';
import { withGate, type RunReport } from '../../src/report/model.js';
import { bodyText } from '../../src/report/render/evidence.js';
import { formatValue, keyValueTable } from '../../src/report/render/table.js';
import { findingCountsText, statusText } from '../../src/report/status.js';
import { writeReports } from '../../src/report/write.js';
import { Redactor } from '../../src/util/redact.js';
import { checkResult } from '../support/report-fixture.js';
import { xmlErrors } from '../support/xml.js';

const draft = (checkId: string, slug: string, severity: Finding['severity'], evidence: number[] = [], explicit = false): Finding => ({
  id: `${checkId}#${slug}`,
  severity,
  title: `${slug} (${severity})`,
  detail: `what ${slug} means, in a sentence`,
  evidence,
  ...(explicit ? { explicit: true } : {}),
});

const rates = (sent: number, blocked: number) => ({ sent, blocked, passed: sent - blocked, unresolved: 0, blockRate: blocked / sent });

/** A WAF result as the check on main observes it, plus fields a newer check may add (a grade, a graded matrix). */
const waf = checkResult('waf', 'pass', {
  id: 'waf:GET /api/items',
  expected: { blockStatus: [403], categories: ['sqli', 'xss'], placements: ['query', 'path'] },
  observed: {
    control: '200',
    blockRate: 0.75,
    falsePositiveRate: 0.02,
    attacks: 8,
    blocked: 6,
    passed: 2,
    unresolved: 0,
    benign: 50,
    falsePositives: 1,
    benignUnresolved: 0,
    byCategory: { sqli: rates(4, 4), xss: rates(4, 2) },
    byPlacement: { query: rates(4, 4), path: rates(4, 2) },
    byCell: { 'query/plain': rates(2, 2), 'query/url': rates(2, 2), 'path/plain': rates(2, 1), 'path/url': rates(2, 1) },
    passedThrough: ['xss: svg onload in path (plain)', 'xss: svg onload in path (url)'],
    benignBlocked: ['a price with % and &'],
    unresolvedProbes: [],
    grade: { score: 0.81, letter: 'B', byCategory: { sqli: { blockRate: 1, grade: 'A' }, xss: { blockRate: 0.5, grade: 'F' } } },
    matrix: [
      { category: 'sqli', placement: 'query', encoding: 'plain', blocked: 1, of: 1 },
      { category: 'xss', placement: 'path', encoding: 'url', blocked: 0, of: 1, misses: [{ payload: '<svg onload=1>' }] },
    ],
  },
  evidence: [
    {
      probe: 'waf.xss.path',
      label: 'xss: svg onload in path (plain)',
      method: 'GET',
      path: '/api/items/%3Csvg%20onload=1%3E',
      url: 'http://127.0.0.1:8080/api/items/%3Csvg%20onload=1%3E',
      requestHeaders: {},
      status: 200,
      responseHeaders: { 'content-type': 'application/json', 'x-amzn-requestid': '6f1c-per-request' },
      bodySnippet: '{"items":[{"id":1,"name":"a"}],"next":null}',
      outcome: 'violation',
    },
  ],
  findings: [draft('waf:GET /api/items', 'miss:xss:path', 'low', [0]), draft('waf:GET /api/items', 'grade', 'info')],
});

/** A check with many exchanges, none cited: its evidence is folded. */
const auth = checkResult('auth', 'pass', {
  id: 'auth:GET /api/items',
  expected: { variants: Array.from({ length: 20 }, (_, i) => `variant ${i}`) },
  observed: { control: '200', answers: { 'auth.control': '200', 'auth.missing': '403' } },
  evidence: Array.from({ length: 8 }, (_, i) => ({
    probe: `auth.${i}`,
    label: `variant ${i}`,
    method: 'GET',
    path: '/api/items',
    requestHeaders: {},
    status: 403,
    responseHeaders: {},
    bodySnippet: '{"message":"Forbidden"}',
    outcome: 'ok' as const,
    note: 'refused with 403',
  })),
});

const throttle = checkResult('throttle', 'fail', {
  id: 'throttle:GET /api/items',
  observed: {
    ratePerSec: 61.234,
    volley: { sent: 32, accepted: 20, throttled: 12, spanMs: 0.5135279999999511 },
    offered: { ratePerSec: 100, windowRatePerSec: { min: 99, median: 100, max: 101 }, loopDelayMs: { p99: 0.8, max: 3 } },
    timeline: {
      windowMs: 100,
      bucket: { rateLimit: 50, burstLimit: 20 },
      accepted: [24, 5, 5],
      throttled: [18, 5, 5],
      theoretical: [24, 5, 5],
    },
  },
  findings: [draft('throttle:GET /api/items', 'rate:looser', 'high'), draft('throttle:GET /api/items', 'burst', 'critical')],
});

const slo = checkResult('slo', 'pass', {
  id: 'slo:GET /health',
  route: 'GET /health',
  findings: [draft('slo:GET /health', 'p99', 'medium', [], true), draft('slo:GET /health', 'p50', 'medium')],
});

const report: RunReport = withGate(
  {
    schemaVersion: '1.2',
    startedAt: '2026-11-30T10:00:00.000Z',
    finishedAt: '2026-11-30T10:00:06.000Z',
    durationMs: 6000,
    target: 'http://127.0.0.1:8080',
    policyFile: 'policies/api.yaml',
    gatecheckVersion: '0.1.0',
    requestsSent: 40,
    limits: { maxRequests: 5000, maxDurationSec: 60 },
    notSelected: [],
    checks: [waf, auth, throttle, slo],
  },
  {
    failOn: 'high',
    today: '2026-11-30',
    accepted: [{ id: 'slo:GET /health#p50', reason: 'cold starts', expires: '2026-12-31' }],
  },
);

/** The cells of every table row of a Markdown text (pipes escaped as `\|` stay inside a cell). */
function tableCells(markdown: string): string[] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .flatMap((line) => line.split(/(?<!\\)\|/).slice(1, -1))
    .map((cell) => cell.trim());
}

/** `<details>` blocks opened and closed in order, each with its summary first. */
function detailsProblems(markdown: string): string[] {
  const problems: string[] = [];
  let depth = 0;
  const lines = markdown.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '<details>') {
      depth++;
      if (!lines[i + 1]?.startsWith('<summary>')) problems.push(`line ${i + 1}: <details> without a <summary> next`);
    }
    if (line.trim() === '</details>' && --depth < 0) problems.push(`line ${i + 1}: </details> without <details>`);
  });
  if (depth !== 0) problems.push(`${depth} <details> not closed`);
  return problems;
}

const golden = readFileSync(new URL('../fixtures/golden/report.md', import.meta.url), 'utf8');
const markdown = renderMarkdown(report);

describe('report.md: no JSON in a cell', () => {
  it('holds for a report with nested, graded and unknown observed fields, JSON bodies, and for the golden file', () => {
    for (const text of [markdown, golden]) {
      const cells = tableCells(text);
      expect(cells.length).toBeGreaterThan(20);
      expect(cells.filter((cell) => cell.includes('{"') || cell.includes('[{'))).toEqual([]);
    }
    expect(markdown).not.toMatch(/\{"|\[\{/);
  });

  it('renders nested values as sentences, records as a table below, long lists folded below', () => {
    expect(formatValue({ sent: 32, accepted: 20, spanMs: 0.5135279999999511 })).toBe('sent: 32, accepted: 20, spanMs: 0.51');
    expect(formatValue({ ratePerSec: 100, window: { min: 99, max: 101 }, empty: {} })).toBe(
      'ratePerSec: 100, window: (min: 99, max: 101), empty: (none)',
    );
    expect(formatValue([{ a: 1 }, { a: 2, b: [1, 2] }])).toBe('(a: 1), (a: 2, b: 1, 2)');
    expect(formatValue(0.000123456)).toBe('0.000123');
    const table = keyValueTable({
      byCategory: { sqli: rates(4, 4), xss: rates(4, 2) },
      list: Array.from({ length: 30 }, (_, i) => `item ${i}`),
      short: ['sqli', 'xss', 'traversal', 'cmdi', 'ssti', 'log4shell', 'xxe', 'ssrf', 'nosqli'],
      long: ['an origin of some length that a policy allows, '.repeat(5), 'and another one'],
    });
    expect(table).toContain('| byCategory | 2 rows, table below |');
    expect(table).toContain('| byCategory | sent | blocked | passed | unresolved | blockRate |');
    expect(table).toContain('| xss | 4 | 2 | 2 | 0 | 0.5 |');
    expect(table).toContain('| list | 30 items, listed below |');
    expect(table).toMatch(/<details>\n<summary>list \(30\)<\/summary>\n\n- item 0\n/);
    expect(table).toContain('| short | sqli, xss, traversal, cmdi, ssti, log4shell, xxe, ssrf, nosqli |');
    expect(table).toContain('| long | 2 items, listed below |');
    expect(table).toMatch(/\*\*long \(2\)\*\*\n\n- an origin/);
  });

  it('shows the WAF fields a newer check adds (grade, matrix) as tables, not blobs', () => {
    expect(markdown).toContain(
      '| grade | score: 0.81, letter: B, byCategory: (sqli: (blockRate: 1, grade: A), xss: (blockRate: 0.5, grade: F)) |',
    );
    expect(markdown).toContain('| matrix | category | placement | encoding | blocked | of | misses |');
    expect(markdown).toContain('| 2 | xss | path | url | 0 | 1 | (payload: &lt;svg onload=1&gt;) |');
  });

  it('reads a JSON body as text, and quotes one cut short', () => {
    expect(bodyText('{"message":"Forbidden"}')).toBe('message: Forbidden');
    expect(bodyText('{"items":[{"id":1}],"next":null}')).toBe('items: (id: 1), next: —');
    expect(bodyText('{"message":"Forbid')).toBe('`{"message":"Forbid`');
    expect(bodyText('<html>oops</html>')).toBe('<html>oops</html>');
  });
});

describe('report.md: the first screen', () => {
  const firstScreen = markdown.slice(0, markdown.indexOf('- Target:'));

  it('says the verdict, the gate and its rule, and the counts of every severity in order', () => {
    expect(firstScreen).toMatch(/^# gatecheck compliance report\n\n❌ \*\*FAIL\*\*: 2 checks found the gateway out of policy/);
    expect(firstScreen).toContain('**Gate:** fail on `high`: a check fails when it has a finding of high severity or above');
    expect(firstScreen).toContain('**Findings:** 1 critical, 1 high, 2 medium, 1 low, 1 info; 3 fail the gate');
  });

  it('lists the findings gating first, then below the gate, then accepted with reason and expiry; by severity within each', () => {
    const rows = firstScreen.split('\n').filter((line) => /^\| (🔴|🟠|🟡|🔵|⚪)/.test(line));
    const parsed = rows.map((row) => {
      const [severity, , title, gate] = row.split(' | ').map((cell) => cell.replace(/^\| /, '').replace(/ \|$/, ''));
      return { severity: severity!.split(' ')[1]!, title: title!, gate: gate! };
    });
    expect(parsed.map((r) => [r.severity, r.gate.split(':')[0]])).toEqual([
      ['critical', 'fails the gate'],
      ['high', 'fails the gate'],
      ['medium', 'fails the gate (a threshold of the policy)'],
      ['low', 'below the gate'],
      ['info', 'below the gate'],
      ['medium', 'accepted until 2026-12-31'],
    ]);
    expect(parsed[5]!.gate).toBe('accepted until 2026-12-31: cold starts');
    const group = (gate: string) => gate.split(' (')[0]!.split(':')[0]!;
    for (let i = 1; i < parsed.length; i++) {
      if (group(parsed[i]!.gate) !== group(parsed[i - 1]!.gate)) continue;
      expect(SEVERITIES.indexOf(parsed[i]!.severity as Finding['severity'])).toBeGreaterThanOrEqual(
        SEVERITIES.indexOf(parsed[i - 1]!.severity as Finding['severity']),
      );
    }
  });

  it('gives each check its status with the findings counted: "pass · 1 low"', () => {
    expect(markdown).toContain('| [waf](#waf-get-api-items) | `GET /api/items` | ✅ pass · 1 low |');
    expect(markdown).toContain('## waf: GET /api/items — ✅ pass · 1 low');
    expect(markdown).toContain('## throttle: GET /api/items — ❌ fail · 1 critical, 1 high');
    expect(statusText(report.checks[3]!)).toBe('fail · 1 medium, 1 accepted');
    expect(findingCountsText([])).toBe('');
  });

  it('is the CI job summary without links to sections', () => {
    const summary = renderFirstScreen(report, { links: false });
    expect(summary).toMatch(/^❌ \*\*FAIL\*\*/);
    expect(summary).toContain('| Check | Route | Status | Summary |');
    expect(summary).not.toContain('](#');
  });
});

describe('report.md: sections and evidence', () => {
  it("lists a check's findings with links to the evidence rows they cite, which carry the anchors", () => {
    expect(markdown).toContain(
      '- **low** miss:xss:path (low) _(below the gate)_: what miss:xss:path means, in a sentence. Evidence: [0](#waf-get-api-items-e0).',
    );
    expect(markdown).toContain(
      '| <a id="waf-get-api-items-e0"></a>0 | xss: svg onload in path (plain) | GET /api/items/%3Csvg%20onload=1%3E |',
    );
    expect(markdown).not.toContain('x-amzn-requestid'); // per-request ids stay in report.json
  });

  it('folds long evidence and long lists into balanced <details> blocks; repeated notes refer to the first', () => {
    expect(detailsProblems(markdown)).toEqual([]);
    expect(detailsProblems(golden)).toEqual([]);
    expect(markdown).toContain('<details>\n<summary>8 exchanges</summary>');
    expect(markdown).toContain('| ok: refused with 403 |');
    expect(markdown).toContain('| ok (as 0) |');
    expect(detailsProblems('<details>\n<summary>x</summary>\n')).toEqual(['1 <details> not closed']);
  });
});

describe('console', () => {
  it('shows "PASS · 1 low" in the status column, the summary without the counts, and a line with the gate and the counts', () => {
    const text = summaryTable(report);
    expect(text).toMatch(/\| waf +\| GET \/api\/items +\| PASS · 1 low +\| waf pass +\|/);
    expect(text).toMatch(/\| slo +\| GET \/health +\| FAIL · 1 medium, 1 accepted +\| fails the gate \(high\): p99 \(medium\) +\|/);
    expect(text).toContain(
      'Gate: fail on high · findings: 1 critical, 1 high, 2 medium, 1 low, 1 info (3 fail the gate, 1 accepted)\nVerdict: FAIL',
    );
  });

  it('names the accept file problems', () => {
    const gate = { ...report.gate, acceptProblems: [{ id: 'x#y', problem: 'expired' as const, expires: '2026-01-01' }] };
    expect(summaryTable({ ...report, gate })).toContain('\n--accept problems: x#y expired (its last day was 2026-01-01: it gates again)');
  });
});

describe('JUnit', () => {
  it("says a failing check's gating findings (title and detail), not JSON", () => {
    const junit = renderJunit(report);
    expect(junit).toContain(
      '<failure message="critical: burst (critical) (and 1 more)" type="fail">[critical] burst (critical)\nwhat burst means',
    );
    expect(junit).toContain('[low, below the gate] miss:xss:path (low)');
    expect(junit).not.toMatch(/\{&quot;|&quot;:/);
  });
});

describe('charts', () => {
  it('writes each chart report.md references as a well-formed SVG file, and none it does not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatecheck-charts-'));
    const written = await writeReports(report, dir, new Redactor());
    const text = readFileSync(written.files.markdown, 'utf8');
    const referenced = [...text.matchAll(/!\[[^\]]*\]\((charts\/[^)]+\.svg)\)/g)].map((m) => m[1]!);
    expect(referenced).toEqual(['charts/throttle-get-api-items.svg']);
    expect(written.charts).toEqual(referenced.map((file) => join(dir, file)));
    expect(readdirSync(join(dir, 'charts'))).toEqual(['throttle-get-api-items.svg']);
    for (const file of referenced) {
      expect(existsSync(join(dir, file))).toBe(true);
      const svg = readFileSync(join(dir, file), 'utf8');
      expect(xmlErrors(svg)).toEqual([]);
      expect(svg).toMatch(/<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(svg).toContain('GET /api/items: accepted per 100 ms');
      expect(svg).toContain('accepted by a bucket of 20 at 50/s (theory)');
    }
  }, 30_000); // the first chart loads ECharts

  it('escapes what it draws: a title with markup stays text', async () => {
    const svg = await renderSvgChart({
      title: 'a <b> & "c"',
      xLabel: 'x',
      xTicks: ['1', '2'],
      yLabel: 'y',
      series: [{ type: 'line', name: 'l', values: [1, 2] }],
    });
    expect(xmlErrors(svg)).toEqual([]);
    expect(svg).not.toContain('<b>');
  }, 30_000);

  it('the XML check finds what is broken', () => {
    expect(xmlErrors('<svg><g></svg>')).toEqual(['</svg> closes <g>', 'not closed: svg']);
    expect(xmlErrors('<svg a=1></svg>')[0]).toMatch(/malformed tag/);
    expect(xmlErrors('<svg>a & b</svg>')).toEqual(['bare & in text at 5']);
    expect(xmlErrors('<svg/><svg/>')).toEqual(['2 root elements']);
  });
});
