/**
 * schemas/report.schema.json, the published shape of report.json: its enums follow the code, the
 * reports gatecheck builds match it, and it refuses what a consumer could not rely on. Every
 * report.json an e2e test writes is validated too (test/support/cli.ts).
 */
import { describe, expect, it } from 'vitest';
import { CHECK_KINDS } from '../../src/checks/registry.js';
import type { CheckStatus, Severity } from '../../src/checks/types.js';
import { REPORT_SCHEMA_VERSION } from '../../src/report/model.js';
import { checkResult, runReport } from '../support/report-fixture.js';
import { readJson, REPORT_SCHEMA_PATH, reportSchemaErrors } from '../support/report-schema.js';

interface SchemaDoc {
  properties: { schemaVersion: { const: string } };
  definitions: Record<'kind' | 'status' | 'severity', { enum: string[] }>;
}
const schema = readJson(REPORT_SCHEMA_PATH) as SchemaDoc;
const STATUSES: CheckStatus[] = ['pass', 'fail', 'error', 'inconclusive', 'skip'];
const SEVERITIES: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/** The report as report.json holds it (JSON, no undefined). */
const asJson = (value: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

const evidence = {
  probe: 'auth.missing',
  label: 'no credential',
  method: 'GET',
  path: '/api/items',
  url: 'http://127.0.0.1:8080/api/items',
  requestHeaders: {},
  status: 200,
  responseHeaders: { 'content-type': 'application/json' },
  bodySnippet: '{"ok":true}',
  latencyMs: 1.5,
  outcome: 'violation' as const,
};
const finding = { id: 'auth.missing-credential', severity: 'high' as const, title: 'No credential accepted', detail: '200', evidence: [0] };

describe('schemas/report.schema.json', () => {
  it('lists exactly the kinds of the registry, the statuses, the severities and the schema version', () => {
    expect(schema.definitions.kind.enum).toEqual(CHECK_KINDS);
    expect(schema.definitions.status.enum).toEqual(STATUSES);
    expect(schema.definitions.severity.enum).toEqual(SEVERITIES);
    expect(schema.properties.schemaVersion.const).toBe(REPORT_SCHEMA_VERSION);
  });

  it('accepts a report with every kind and status, evidence and findings, and every optional field', () => {
    const checks = CHECK_KINDS.map((kind, i) =>
      checkResult(kind, STATUSES[i % STATUSES.length]!, {
        observed: { anything: [1, { nested: null }], goes: 'here' },
        expected: { rateLimit: 10 },
        evidence: [evidence],
        findings: [finding],
      }),
    );
    const report = runReport(checks, {
      notSelected: ['waf'],
      tls: { insecure: false, caFile: 'ca.pem' },
      abortReason: 'interrupted',
      interrupted: true,
      recording: { file: 'run.ndjson', gatecheckVersion: '0.1.0' },
    });
    expect(reportSchemaErrors(asJson(report))).toEqual([]);
    expect(reportSchemaErrors(asJson({ ...report, engine: 'k6', k6: { requests: 3, thresholds: [] } }))).toEqual([]);
  });

  it('accepts a run in which no check ran', () => {
    expect(reportSchemaErrors(asJson(runReport([], { abortReason: 'no check ran' })))).toEqual([]);
  });

  const valid = asJson(runReport([checkResult('auth', 'fail', { evidence: [evidence], findings: [finding] })]));
  const check = (valid.checks as Array<Record<string, unknown>>)[0]!;
  it.each([
    ['without schemaVersion', { ...valid, schemaVersion: undefined }, 'schemaVersion'],
    ['of another schema version', { ...valid, schemaVersion: '2.0' }, '/schemaVersion'],
    ['with an unknown verdict', { ...valid, verdict: 'ok' }, '/verdict'],
    ['with a field the schema does not know', { ...valid, score: 3 }, 'score'],
    ['with a start that is not a date-time', { ...valid, startedAt: 'yesterday' }, '/startedAt'],
    ['with an unknown check status', { ...valid, checks: [{ ...check, status: 'warn' }] }, '/checks/0/status'],
    ['with an unknown check kind', { ...valid, checks: [{ ...check, kind: 'graphql' }] }, '/checks/0/kind'],
    ['with a check without summary', { ...valid, checks: [{ ...check, summary: undefined }] }, 'summary'],
    ['with observed that is not an object', { ...valid, checks: [{ ...check, observed: [1] }] }, '/checks/0/observed'],
    ['with an unknown evidence outcome', { ...valid, checks: [{ ...check, evidence: [{ ...evidence, outcome: 'bad' }] }] }, 'outcome'],
    ['with an unknown severity', { ...valid, checks: [{ ...check, findings: [{ ...finding, severity: 'urgent' }] }] }, 'severity'],
  ])('refuses a report %s', (_what, report, where) => {
    const errors = reportSchemaErrors(asJson(report));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toContain(where);
  });
});
