/**
 * report.sarif: valid SARIF 2.1.0 (the OASIS schema, test/fixtures/sarif/), one rule per check
 * kind and one per finding type, one result per finding (and per check without findings that failed
 * or was not verified), located at its route's line in the policy file, with a fingerprint that
 * stays the same from run to run.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECK_KINDS } from '../../src/checks/registry.js';
import type { Finding } from '../../src/checks/types.js';
import { relativePathUri, renderSarif, type SarifSource } from '../../src/report/sarif.js';
import { writeReports } from '../../src/report/write.js';
import { Redactor } from '../../src/util/redact.js';
import { checkResult, runReport } from '../support/report-fixture.js';
import { reportSchemaErrors, sarifSchemaErrors } from '../support/report-schema.js';

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  kind?: string;
  level: string;
  suppressions?: Array<{ kind: string; status: string; justification: string }>;
  baselineState?: string;
  message: { text: string };
  partialFingerprints: Record<string, string>;
  locations?: Array<{ physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }>;
}
interface SarifLog {
  version: string;
  runs: Array<{
    tool: { driver: { name: string; version: string; informationUri?: string; rules: Array<{ id: string }> } };
    results: SarifResult[];
  }>;
}

const source: SarifSource = { policyUri: 'policies/api.yaml', routeLines: { 'GET /api/items': 7, 'POST /api/orders': 19 } };
const checks = [
  checkResult('auth', 'fail', { summary: 'no credential → 200' }),
  checkResult('cors', 'pass'),
  checkResult('throttle', 'inconclusive', { route: 'POST /api/orders' }),
  checkResult('throttle', 'error', { id: 'throttle:POST /api/orders plan gold', route: 'POST /api/orders' }),
  checkResult('waf', 'skip'),
  checkResult('metrics', 'fail', { route: '(run)' }),
];
const sarif = (text: string) => JSON.parse(text) as SarifLog;

describe('renderSarif', () => {
  const log = sarif(renderSarif(runReport(checks), source));
  const run = log.runs[0]!;

  it('is valid SARIF 2.1.0', () => {
    expect(sarifSchemaErrors(log)).toEqual([]);
    expect(log.version).toBe('2.1.0');
    expect(log.runs).toHaveLength(1);
  });

  it('is checked for real: the schema refuses an unknown level and a result without a message', () => {
    const broken = structuredClone(log);
    broken.runs[0]!.results[0]!.level = 'fatal';
    delete (broken.runs[0]!.results[1] as Partial<SarifResult>).message;
    expect(sarifSchemaErrors(broken).join('\n')).toMatch(/results\/0\/level[\s\S]*results\/1/);
  });

  it('names the tool, with no placeholder address, and has one rule per check kind', () => {
    expect(run.tool.driver).toMatchObject({ name: 'gatecheck', version: '0.1.0' });
    expect(run.tool.driver.informationUri).toBeUndefined();
    expect(run.tool.driver.rules.map((r) => r.id).sort()).toEqual([...CHECK_KINDS].sort());
  });

  it('has a result for each fail (error level), error and inconclusive (warning level), none for pass and skip', () => {
    expect(run.results.map((r) => [r.ruleId, r.level])).toEqual([
      ['auth', 'error'],
      ['throttle', 'warning'],
      ['throttle', 'warning'],
      ['metrics', 'error'],
    ]);
    for (const result of run.results) expect(run.tool.driver.rules[result.ruleIndex]!.id).toBe(result.ruleId);
    expect(run.results[0]!.message.text).toBe('no credential → 200');
  });

  it("points each result at the policy file and its route's line (no line for a check of the whole run)", () => {
    const where = run.results.map((r) => [
      r.locations?.[0]?.physicalLocation.artifactLocation.uri,
      r.locations?.[0]?.physicalLocation.region,
    ]);
    expect(where).toEqual([
      ['policies/api.yaml', { startLine: 7 }],
      ['policies/api.yaml', { startLine: 19 }],
      ['policies/api.yaml', { startLine: 19 }],
      ['policies/api.yaml', undefined],
    ]);
  });

  it('fingerprints each result by its check id: the same in another run at another time, distinct within a run', () => {
    const later = sarif(renderSarif(runReport(checks, { startedAt: '2026-12-01T08:00:00.000Z', durationMs: 9 }), source));
    const prints = (l: SarifLog) => l.runs[0]!.results.map((r) => JSON.stringify(r.partialFingerprints));
    expect(prints(later)).toEqual(prints(log));
    expect(new Set(prints(log)).size).toBe(run.results.length);
  });

  it('without a policy file the results have no location, and the log is still valid', () => {
    const bare = sarif(renderSarif(runReport(checks)));
    expect(sarifSchemaErrors(bare)).toEqual([]);
    expect(bare.runs[0]!.results.every((r) => r.locations === undefined)).toBe(true);
  });

  it('a run in which nothing failed has no results', () => {
    const clean = sarif(renderSarif(runReport([checkResult('auth', 'pass')]), source));
    expect(sarifSchemaErrors(clean)).toEqual([]);
    expect(clean.runs[0]!.results).toEqual([]);
  });
});

describe('renderSarif: findings', () => {
  const finding = (slug: string, severity: Finding['severity'], extra: Partial<Finding> = {}): Finding => ({
    id: `cors:GET /api/items#${slug}`,
    severity,
    title: `title of ${slug}`,
    detail: `detail of ${slug}`,
    evidence: [],
    disposition: 'below-gate',
    ...extra,
  });
  const findings = [
    finding('origin-readable:evil.example', 'critical', { disposition: 'gating' }),
    finding('origin-readable:null', 'high', { disposition: 'gating' }),
    finding('error-headers:401', 'medium'),
    finding('max-age', 'low', { disposition: 'accepted', accepted: { reason: 'CDN caps it', expires: '2027-01-31' } }),
    finding('vary', 'low', { disposition: 'baseline' }),
    finding('learned:vendor', 'info'),
  ];
  const checks = [checkResult('cors', 'fail', { findings }), checkResult('auth', 'pass', { findings: [] })];
  const log = sarif(renderSarif(runReport(checks), source));
  const run = log.runs[0]!;

  it('is valid SARIF 2.1.0', () => expect(sarifSchemaErrors(log)).toEqual([]));

  it('makes each finding a result of the rule kind/type, its level from its severity (info: informational, level none)', () => {
    expect(run.results.map((r) => [r.ruleId, r.level, r.kind])).toEqual([
      ['cors/origin-readable', 'error', undefined],
      ['cors/origin-readable', 'error', undefined],
      ['cors/error-headers', 'warning', undefined],
      ['cors/max-age', 'note', undefined],
      ['cors/vary', 'note', undefined],
      ['cors/learned', 'none', 'informational'],
    ]);
    for (const result of run.results) expect(run.tool.driver.rules[result.ruleIndex]!.id).toBe(result.ruleId);
    expect(run.tool.driver.rules.filter((r) => r.id === 'cors/origin-readable')).toHaveLength(1);
  });

  it("says the finding's title and detail, fingerprints it by its id, and locates it at its route's line", () => {
    const first = run.results[0]!;
    expect(first.message.text).toBe('title of origin-readable:evil.example: detail of origin-readable:evil.example');
    expect(first.partialFingerprints).toEqual({ 'gatecheck/findingId/v1': 'cors:GET /api/items#origin-readable:evil.example' });
    expect(first.locations?.[0]?.physicalLocation).toEqual({ artifactLocation: { uri: 'policies/api.yaml' }, region: { startLine: 7 } });
    expect(new Set(run.results.map((r) => JSON.stringify(r.partialFingerprints))).size).toBe(findings.length);
  });

  it('suppresses an accepted finding with its reason, and marks a baseline one unchanged', () => {
    expect(run.results[3]!.suppressions).toEqual([
      { kind: 'external', status: 'accepted', justification: 'CDN caps it (until 2027-01-31)' },
    ]);
    expect(run.results[4]!.baselineState).toBe('unchanged');
    expect(run.results.filter((r) => r.suppressions || r.baselineState)).toHaveLength(2);
  });
});

describe('relativePathUri', () => {
  it('writes forward slashes and percent-encodes each segment', () => {
    expect(relativePathUri('policies/api.yaml')).toBe('policies/api.yaml');
    expect(relativePathUri('../my policies\\api#1.yaml')).toBe('../my%20policies/api%231.yaml');
  });
});

describe('writeReports', () => {
  it('writes report.sarif beside the others, redacted, and a report.json that matches its schema', async () => {
    const secret = 'sarif-secret-0123456789';
    const dir = mkdtempSync(join(tmpdir(), 'gatecheck-sarif-'));
    const redactor = new Redactor([{ name: 'main', header: 'x-api-key', value: secret }]);
    const report = runReport([checkResult('auth', 'fail', { summary: `accepted ${secret}` })]);
    const written = await writeReports(report, dir, redactor, source);
    expect(written.files.sarif).toBe(join(dir, 'report.sarif'));
    const text = readFileSync(written.files.sarif, 'utf8');
    expect(text).not.toContain(secret);
    expect(sarifSchemaErrors(JSON.parse(text))).toEqual([]);
    expect(reportSchemaErrors(JSON.parse(readFileSync(written.files.json, 'utf8')))).toEqual([]);
  });
});
