import { emptySeverityCounts } from '../../src/gate/gate.js';
/**
 * The WAF and quota sections of report.md: readable Markdown tables, never JSON in a cell; long
 * lists folded into <details>; payloads shown, never interpreted as HTML.
 */
import { describe, expect, it } from 'vitest';
import type { QuotaObserved } from '../../src/checks/quota/check.js';
import type { CheckResult } from '../../src/checks/types.js';
import type { WafObserved } from '../../src/checks/waf/check.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { overallVerdict, type RunReport } from '../../src/report/model.js';
import { renderQuota } from '../../src/report/render/quota.js';
import { renderWaf } from '../../src/report/render/waf.js';

const rates = (sent: number, blocked: number, unresolved = 0) => {
  const passed = sent - blocked - unresolved;
  return { sent, blocked, passed, unresolved, blockRate: blocked / (blocked + passed) };
};
const through = Array.from({ length: 12 }, (_, i) => `xss: <script> tag ${i} in query (plain)`);
const observed: WafObserved = {
  control: '200',
  blockRate: 0.75,
  falsePositiveRate: 0,
  attacks: 48,
  blocked: 35,
  passed: 12,
  unresolved: 1,
  benign: 20,
  falsePositives: 0,
  benignUnresolved: 0,
  byCategory: { sqli: rates(24, 23, 1), xss: rates(24, 12) },
  byPlacement: { query: rates(36, 24, 1), header: rates(12, 11) },
  byCell: { 'query/plain': rates(12, 8), 'query/url': rates(12, 8, 1), 'header/plain': rates(12, 11) },
  passedThrough: through,
  benignBlocked: [],
  unresolvedProbes: ['sqli: tautology in query (url) → ECONNRESET'],
  pathPlacementNormalAnswer: 404,
};
const waf: CheckResult = {
  id: 'waf:GET /api/items',
  kind: 'waf',
  route: 'GET /api/items',
  status: 'fail',
  summary: '35/47 attacks blocked (74%), 0/20 benign blocked (0%): below 100% in xss (50%)',
  expected: { blockStatus: [403], categories: ['sqli', 'xss', 'cmdi'] },
  observed: observed as unknown as Record<string, unknown>,
  evidence: [],
  findings: [],
  durationMs: 300,
  requestsSent: 69,
};
const quotaObserved: QuotaObserved = { accepted: 15, refusedAfter: 15, unresolved: 0, throttleRetries: 2 };
const quota: CheckResult = {
  ...waf,
  id: 'quota:GET /api/reports',
  kind: 'quota',
  route: 'GET /api/reports',
  status: 'pass',
  summary: 'refused',
  expected: { limit: 15, tolerance: 0 },
  observed: quotaObserved as unknown as Record<string, unknown>,
};

describe('renderWaf', () => {
  const lines = renderWaf(waf);
  const md = lines.join('\n');

  it('shows the rates as tables: category × block rate (every category asked for), placement × block rate, the matrix', () => {
    expect(md).toContain('| Category | Sent | Blocked | Passed | Unresolved | Block rate |');
    expect(lines).toContain('| sqli | 24 | 23 | 0 | 1 | 100% |');
    expect(lines).toContain('| xss | 24 | 12 | 12 | 0 | 50% |');
    expect(lines).toContain('| cmdi | 0 | 0 | 0 | 0 | — |');
    expect(lines).toContain('| **all attacks** | 48 | 35 | 12 | 1 | 75% |');
    expect(lines).toContain('| benign (false positives) | 20 | 0 | 20 | 0 | FP 0% |');
    expect(md).toContain('| Placement | Sent | Blocked | Passed | Unresolved | Block rate |');
    expect(lines).toContain('| header | 12 | 11 | 1 | 0 | 92% |');
    expect(md).toContain('| Placement | plain | url |');
    expect(lines).toContain('| query | 8/12 | 8/11 (+1?) |');
    expect(md).toContain('an ordinary path segment below the route gets 404');
  });

  it('puts no JSON in the section, folds a long list into <details>, keeps a short one as bullets, escapes payloads', () => {
    expect(md).not.toMatch(/\{"/);
    const summary = '<summary><b>Attacks that got through</b> (12)</summary>';
    const folded = ['<details>', summary, '', '- xss: &lt;script&gt; tag 0 in query (plain)'];
    expect(md).toContain(folded.join('\n'));
    expect(md).toContain('**Unresolved answers (not counted)** (1)\n\n- sqli: tautology in query (url) → ECONNRESET');
    expect(md).not.toContain('Benign requests blocked');
    expect(lines.at(-1)).not.toBe('');
  });
});

describe('the report with WAF and quota sections', () => {
  const report: RunReport = {
    schemaVersion: '1.2',
    verdict: overallVerdict([waf, quota]),
    startedAt: '2026-11-25T10:00:00.000Z',
    finishedAt: '2026-11-25T10:00:06.000Z',
    durationMs: 6000,
    target: 'http://127.0.0.1:8080',
    policyFile: 'p.yaml',
    gatecheckVersion: '0.1.0',
    requestsSent: 100,
    limits: { maxRequests: 5000, maxDurationSec: 60 },
    notSelected: [],
    gate: { failOn: 'high', counts: emptySeverityCounts(), gating: 0, accepted: [], acceptProblems: [] },
    checks: [waf, quota, { ...quota, id: 'quota:GET /x', route: 'GET /x', status: 'skip', observed: {} }],
  };
  const md = renderMarkdown(report);

  it('renders each kind with its own renderer, and a skipped check as nothing recorded', () => {
    expect(md).toContain('**Observed**\n\nBenign control ("hello world"): 200');
    expect(md).toContain(renderQuota(quota).join('\n'));
    expect(md).toContain('| 15 | 0 | 15 | 15 accepted | 0 | 2 |');
    expect(md).toMatch(/## quota: GET \/x[\s\S]*\*\*Observed\*\*\n\n_nothing recorded_/);
    expect(md).not.toContain('"sent"');
  });
});
