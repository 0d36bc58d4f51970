/**
 * `gatecheck diff OLD NEW` and `--baseline` through main(), on report.json files written here:
 * exit 1 when a new finding is at or above the gate, 0 otherwise, 2 when a file is not a report
 * (and, for --baseline, before any request is sent).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding, Severity } from '../../src/checks/types.js';
import type { GateLevel } from '../../src/gate/gate.js';
import { withGate } from '../../src/report/model.js';
import { startCountingServer, type CountingServer } from '../support/counting-server.js';
import { runMain as runMainIn } from '../support/cli.js';
import { checkResult, runReport } from '../support/report-fixture.js';
import { assertValidReports } from '../support/report-schema.js';

const dir = mkdtempSync(join(tmpdir(), 'gatecheck-diff-'));
/** main() in this process, from the temporary folder (relative paths such as `nope.json` land there). */
const runMain = (args: string[], env: Record<string, string> = {}) => runMainIn(args, env, dir);
const CORS = 'cors:GET /api/items';
const WAF = 'waf:GET /api/items';

const f = (check: string, slug: string, severity: Severity, extra: Partial<Finding> = {}): Finding => ({
  id: `${check}#${slug}`,
  severity,
  title: `${slug} title`,
  detail: `${slug} detail`,
  evidence: [],
  ...extra,
});

/** A gated report.json with these CORS and WAF findings, written to `name`; checked against the schema like every report. */
function reportFile(name: string, cors: Finding[], waf: Finding[] = [], failOn: GateLevel = 'high'): string {
  const checks = [checkResult('cors', cors.length ? 'fail' : 'pass', { findings: cors }), checkResult('waf', 'pass', { findings: waf })];
  const report = withGate(runReport(checks), { failOn, today: '2026-11-30' });
  assertValidReports({ json: report }, name);
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(report, null, 2));
  return file;
}

const clean = reportFile('clean.json', [], [f(WAF, 'grade', 'info')]);
const reflected = reportFile('reflected.json', [f(CORS, 'origin-readable:evil.example', 'high')], [f(WAF, 'grade', 'info')]);

describe('gatecheck diff', () => {
  it('a new high finding: exit 1, the finding named with its severity and marked', async () => {
    const run = await runMain(['diff', clean, reflected]);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toContain('gatecheck diff: 1 new, 0 fixed, 1 unchanged');
    expect(run.stdout).toMatch(
      /NEW \(1\)\n {2}✗ high {5}cors:GET \/api\/items#origin-readable:evil\.example — origin-readable:evil\.example title\n/,
    );
    expect(run.stdout).toContain("Gate: high (the new report's gate.failOn). FAIL: 1 new finding at or above it");
  });

  it('a report against itself: exit 0, nothing new', async () => {
    const run = await runMain(['diff', reflected, reflected]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('gatecheck diff: 0 new, 0 fixed, 2 unchanged');
    expect(run.stdout).toContain('PASS: no new finding at or above it');
  });

  it('the other way round the finding is fixed: exit 0', async () => {
    const run = await runMain(['diff', reflected, clean]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/FIXED \(1\)\n {4}high {5}cors:GET \/api\/items#origin-readable:evil\.example/);
  });

  it('a new low finding passes the default gate, fails --fail-on low', async () => {
    const low = reportFile('low.json', [f(CORS, 'no-cors-on-401', 'low')]);
    const byDefault = await runMain(['diff', clean, low]);
    expect(byDefault.code).toBe(0);
    expect(byDefault.stdout).toContain('PASS: no new finding at or above it (1 new finding below it)');
    const strict = await runMain(['diff', clean, low, '--fail-on', 'low']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('Gate: low (--fail-on). FAIL');
  });

  it("without --fail-on the new report's gate applies", async () => {
    const medium = reportFile('medium.json', [f(CORS, 'x', 'medium')], [], 'medium');
    expect((await runMain(['diff', clean, medium])).code).toBe(1);
    expect((await runMain(['diff', clean, medium, '--fail-on', 'high'])).code).toBe(0);
  });

  it('a new finding that breaches a threshold the policy states gates at any level', async () => {
    const explicit = reportFile('explicit.json', [], [f(WAF, 'fp-rate', 'low', { explicit: true })]);
    const run = await runMain(['diff', clean, explicit, '--fail-on', 'critical']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('(gates at any level)');
  });

  it('with $GITHUB_STEP_SUMMARY set, the comparison is appended to the job summary', async () => {
    const summary = join(dir, 'step-summary.md');
    await runMain(['diff', clean, reflected, '--json'], { GITHUB_STEP_SUMMARY: summary });
    const text = readFileSync(summary, 'utf8');
    expect(text).toContain('### gatecheck diff: FAIL');
    expect(text).toContain('✗ high     cors:GET /api/items#origin-readable:evil.example');
  });

  it('a long title is cut to one line of a log', async () => {
    const long = reportFile('long.json', [f(CORS, 'long', 'high', { title: `many\nviolations: ${'x'.repeat(300)}` })]);
    const run = await runMain(['diff', clean, long]);
    const line = run.stdout.split('\n').find((l) => l.includes('#long'))!;
    expect(line).toContain('many violations: xxx');
    expect(line.endsWith('…')).toBe(true);
    expect(line.length).toBeLessThan(160);
  });

  it('--json: the lists, the gate and the result, exit code unchanged', async () => {
    const run = await runMain(['diff', clean, reflected, '--json']);
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      oldFile: clean,
      newFile: reflected,
      failOn: 'high',
      result: 'fail',
      gating: [`${CORS}#origin-readable:evil.example`],
      fixed: [],
      unverified: [],
    });
    expect(json.new).toEqual([
      expect.objectContaining({ id: `${CORS}#origin-readable:evil.example`, check: CORS, severity: 'high', disposition: 'gating' }),
    ]);
  });

  it('a schemaVersion 1.0 report (no gate, no findings) is read as having none, and said so', async () => {
    const old = JSON.parse(JSON.stringify(runReport([checkResult('cors', 'pass')]))) as Record<string, unknown>;
    old.schemaVersion = '1.0';
    delete old.gate;
    for (const check of old.checks as Array<Record<string, unknown>>) delete check.findings;
    const file = join(dir, 'v1.0.json');
    writeFileSync(file, JSON.stringify(old));
    const run = await runMain(['diff', file, reflected]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('is schemaVersion 1.0 (before graded findings): it has none');
  });

  it.each([
    ['missing.json', null, 'OLD: cannot read missing.json (ENOENT)'],
    ['garbage.json', 'not json {', 'OLD: garbage.json is not JSON'],
    ['array.json', '[1, 2]', 'OLD: array.json is not a gatecheck report.json (it has no schemaVersion)'],
    ['future.json', '{"schemaVersion": "2.0"}', 'OLD: future.json has schemaVersion "2.0"; this gatecheck reads 1.0, 1.1, 1.2'],
    [
      'policy.json',
      '{"schemaVersion": "1.1", "routes": []}',
      'OLD: policy.json is not a valid gatecheck report.json (schemaVersion 1.1): /: "verdict" is required',
    ],
  ])('%s as OLD → exit 2, the file named', async (name, content, message) => {
    if (content !== null) writeFileSync(join(dir, name), content);
    const run = await runMain(['diff', name, reflected]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
  });

  it('a bad NEW is named as NEW', async () => {
    const run = await runMain(['diff', reflected, 'nowhere.json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('NEW: cannot read nowhere.json (ENOENT)');
  });
});

describe('--baseline with a file that is not a report', () => {
  let server: CountingServer;
  beforeAll(async () => {
    server = await startCountingServer();
  });
  afterAll(() => server.close());

  it('run: exit 2 before any request', async () => {
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, `version: 1\nroutes:\n  - method: GET\n    path: /x\n    cors:\n      allowOrigins: [https://app.example]\n`);
    const before = server.hits();
    const run = await runMain(['run', '--policy', policy, '--target', server.url, '--out', join(dir, 'out'), '--baseline', 'nope.json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--baseline: cannot read nope.json (ENOENT)');
    expect(server.hits()).toBe(before);
  });
});
