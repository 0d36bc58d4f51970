import { emptySeverityCounts } from '../../src/gate/gate.js';
/**
 * Golden files for the Markdown and JUnit renderers: a fixed report model, rendered and compared
 * byte for byte. Refresh on purpose with `UPDATE_GOLDEN=1 npx vitest run test/report`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/checks/types.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { overallVerdict, type RunReport } from '../../src/report/model.js';

const checks: CheckResult[] = [
  {
    id: 'auth:GET /api/items',
    kind: 'auth',
    route: 'GET /api/items',
    status: 'fail',
    summary: 'got through without a valid credential: no credential → 200',
    expected: { refuseStatus: [401, 403], credential: 'main' },
    observed: { 'auth.control': '200', 'auth.missing': '200' },
    evidence: [
      {
        probe: 'auth.control',
        label: 'valid credential (positive control)',
        method: 'GET',
        path: '/api/items',
        requestHeaders: { 'x-api-key': '<credential main>' },
        status: 200,
        responseHeaders: { 'content-type': 'application/json' },
        latencyMs: 1.2,
        outcome: 'ok',
      },
      {
        probe: 'auth.missing',
        label: 'no credential',
        method: 'GET',
        path: '/api/items',
        requestHeaders: {},
        status: 200,
        responseHeaders: {},
        bodySnippet: '{"ok":true}',
        outcome: 'violation',
        note: 'a | pipe and <angle> & ampersand',
      },
    ],
    findings: [
      {
        id: 'auth:GET /api/items#bypass:missing',
        severity: 'critical',
        title: 'no credential got through (200)',
        detail: 'GET /api/items answered 200 to a request without a credential.',
        evidence: [1],
        disposition: 'gating',
      },
    ],
    durationMs: 40,
    requestsSent: 2,
  },
  {
    id: 'throttle:GET /api/items',
    kind: 'throttle',
    route: 'GET /api/items',
    status: 'inconclusive',
    summary: 'client-bound: offered 900/s of the planned 2000/s',
    expected: { rateLimit: 1000, burstLimit: 200 },
    observed: {
      ratePerSec: null,
      rateIsLowerBound: true,
      // The renderer draws the chart from this data (report.json holds no Markdown).
      timeline: {
        windowMs: 100,
        bucket: { rateLimit: 1000, burstLimit: 200 },
        accepted: [200, 100, 90],
        throttled: [0, 80, 90],
        theoretical: [200, 100, 100],
      },
    },
    evidence: [],
    findings: [],
    durationMs: 2500,
    requestsSent: 2200,
  },
  {
    id: 'slo:GET /health',
    kind: 'slo',
    route: 'GET /health',
    status: 'pass',
    summary: 'p99 4.0 ms ≤ 250 ms',
    expected: { p99Ms: 250 },
    observed: { p99Ms: 4 },
    evidence: [],
    findings: [],
    durationMs: 3000,
    requestsSent: 60,
  },
];

const report: RunReport = {
  schemaVersion: '1.1',
  verdict: overallVerdict(checks),
  startedAt: '2026-11-25T10:00:00.000Z',
  finishedAt: '2026-11-25T10:00:06.000Z',
  durationMs: 6000,
  target: 'http://127.0.0.1:8080',
  policyFile: 'policies/demo.yaml',
  gatecheckVersion: '0.1.0',
  requestsSent: 2262,
  limits: { maxRequests: 5000, maxDurationSec: 60 },
  notSelected: ['waf'],
  gate: { failOn: 'high', counts: emptySeverityCounts(), gating: 0, accepted: [], acceptProblems: [] },
  checks,
};

function golden(name: string, actual: string): void {
  const file = fileURLToPath(new URL(`../fixtures/golden/${name}`, import.meta.url));
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

describe('report renderers', () => {
  it('fail takes precedence over inconclusive in the verdict', () => expect(report.verdict).toBe('fail'));
  it('Markdown matches the golden file', () => golden('report.md', renderMarkdown(report)));
  it('JUnit matches the golden file', () => golden('junit.xml', renderJunit(report)));
});
