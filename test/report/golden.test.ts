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
import { withGate, type RunReport } from '../../src/report/model.js';

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
      // Nested values are sentences, never JSON.
      volley: { sent: 400, accepted: 200, throttled: 200, spanMs: 12.345678 },
      offered: { ratePerSec: 900, windowRatePerSec: { min: 850, median: 900, max: 950 } },
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
    id: 'cors:GET /api/items',
    kind: 'cors',
    route: 'GET /api/items',
    status: 'pass',
    summary: 'allowed origins pass the browser checks; 2 hostile origins blocked',
    expected: { allowOrigins: ['https://app.example.com'], maxAge: 600 },
    observed: {
      exchanges: 3,
      bypassOrigins: [],
      violations: ['GET without credential (401): no Access-Control-Allow-Origin'],
      unresolved: [],
      originsTried: ['https://app.example.com', 'https://evil.example'],
      byStatus: { '200': { exchanges: 2, withHeaders: 2 }, '401': { exchanges: 1, withHeaders: 0 } },
    },
    evidence: [
      {
        probe: 'cors.preflight',
        label: 'preflight from allowed https://app.example.com',
        method: 'OPTIONS',
        path: '/api/items',
        url: 'http://127.0.0.1:8080/api/items',
        requestHeaders: { origin: 'https://app.example.com' },
        status: 204,
        responseHeaders: {
          'access-control-allow-origin': 'https://app.example.com',
          'access-control-max-age': '60',
          'x-amzn-requestid': 'r-1',
        },
        outcome: 'ok',
      },
      {
        probe: 'cors.error',
        label: 'GET from https://app.example.com without credential (error response)',
        method: 'GET',
        path: '/api/items',
        url: 'http://127.0.0.1:8080/api/items',
        requestHeaders: { origin: 'https://app.example.com' },
        status: 401,
        responseHeaders: {},
        bodySnippet: '{"message":"Unauthorized"}',
        outcome: 'info',
        note: 'no Access-Control-Allow-Origin on an error response',
      },
      {
        probe: 'cors.hostile',
        label: 'GET from https://evil.example',
        method: 'GET',
        path: '/api/items',
        url: 'http://127.0.0.1:8080/api/items',
        requestHeaders: { origin: 'https://evil.example' },
        status: 200,
        responseHeaders: {},
        bodySnippet: '[{"id":1}]',
        outcome: 'ok',
        note: 'blocked: no Access-Control-Allow-Origin',
      },
    ],
    findings: [
      {
        id: 'cors:GET /api/items#error-headers:401',
        severity: 'low',
        title: 'no CORS headers on the 401',
        detail: 'A browser hides the 401 from the app: it sees a network error.',
        evidence: [1],
      },
      {
        id: 'cors:GET /api/items#max-age',
        severity: 'low',
        title: 'Access-Control-Max-Age 60, policy 600',
        detail: 'Preflights are cached for 60 s instead of 600 s.',
        evidence: [0],
      },
      {
        id: 'cors:GET /api/items#vary',
        severity: 'medium',
        title: 'no Vary: Origin',
        detail: 'A shared cache may serve one origin the answer meant for another.',
        evidence: [],
      },
      {
        id: 'cors:GET /api/items#credentials',
        severity: 'low',
        title: 'credentials not allowed',
        detail: 'Known since the last release.',
        evidence: [],
      },
      {
        id: 'cors:GET /api/items#learned:allow-list',
        severity: 'info',
        title: 'the gateway reflects allowed origins one by one',
        detail: 'Each allowed origin is echoed; others get no header.',
        evidence: [],
      },
    ],
    durationMs: 30,
    requestsSent: 3,
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

const report: RunReport = withGate(
  {
    schemaVersion: '1.2',
    startedAt: '2026-11-25T10:00:00.000Z',
    finishedAt: '2026-11-25T10:00:06.000Z',
    durationMs: 6000,
    target: 'http://127.0.0.1:8080',
    policyFile: 'policies/demo.yaml',
    gatecheckVersion: '0.1.0',
    requestsSent: 2262,
    limits: { maxRequests: 5000, maxDurationSec: 60 },
    notSelected: ['waf'],
    checks,
  },
  {
    failOn: 'high',
    today: '2026-11-25',
    accepted: [
      { id: 'cors:GET /api/items#vary', reason: 'the CDN adds Vary', expires: '2026-12-31' },
      { id: 'auth:GET /api/items#bypass:empty', reason: 'fixed last week', expires: '2026-12-31' },
      { id: 'cors:GET /api/items#max-age:old', reason: 'old entry', expires: '2026-01-31' },
    ],
    baselineIds: new Set(['cors:GET /api/items#credentials']),
  },
);

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
