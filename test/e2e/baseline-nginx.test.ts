/**
 * Baselines on real nginx (the CORS check only, so it stays quick): `gatecheck diff` between a
 * correct and a reflected-origin run exits 1 naming the CORS finding, a report against itself exits
 * 0; `run --baseline` gates on new findings only, and says what was fixed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxAvailable, nginxPolicyYaml, startNginx, type RunningNginx } from '../support/nginx.js';
import { runCli, type CliRun } from '../support/cli.js';
import { readJson } from '../support/report-schema.js';

const API_KEY = 'nginx-baseline-key-3f8e1d';
const env = { GATECHECK_API_KEY: API_KEY };
// Under CI a missing nginx must fail the suite, not skip it.
const skip = !nginxAvailable() && !process.env.CI;

const DIR = mkdtempSync(join(tmpdir(), 'gatecheck-baseline-'));
const POLICY = join(DIR, 'policy.yaml');
const RECORDING = join(DIR, 'reflect.ndjson');
writeFileSync(POLICY, nginxPolicyYaml());

interface Baseline {
  file: string;
  new: string[];
  fixed: string[];
  unchanged: string[];
  unverified: string[];
}
type Report = {
  baseline?: Baseline;
  checks: Array<{ kind: string; status: string; findings: Array<{ id: string; disposition?: string }> }>;
};

/** The CORS check's findings: their ids start with `cors:` (the slug after `#` is the check's business). */
const corsIds = (ids: string[]) => ids.filter((id) => id.startsWith('cors:'));

describe.skipIf(skip)('baselines on real nginx (CORS only)', () => {
  let correct: RunningNginx;
  let reflect: RunningNginx;
  let correctRun: CliRun;
  let reflectRun: CliRun;
  const report = (run: CliRun) => join(run.outDir, 'report.json');
  const cors = (gateway: RunningNginx, ...extra: string[]) =>
    runCli(['run', '--policy', POLICY, '--target', gateway.url, '--only', 'cors', '--quiet', ...extra], env);

  beforeAll(async () => {
    [correct, reflect] = await Promise.all([
      startNginx({ variant: 'correct', apiKey: API_KEY }),
      startNginx({ variant: 'cors-reflect', apiKey: API_KEY }),
    ]);
    correctRun = await cors(correct);
    reflectRun = await cors(reflect, '--record', RECORDING);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([correct?.stop(), reflect?.stop()]);
  });

  it('the two runs: correct passes, the reflected origin fails with a CORS finding', () => {
    expect(correctRun.code, correctRun.stdout).toBe(0);
    expect(reflectRun.code, reflectRun.stdout).toBe(1);
    const findings = (readJson(report(reflectRun)) as Report).checks.flatMap((c) => c.findings.map((f) => f.id));
    expect(corsIds(findings).length).toBeGreaterThan(0);
  });

  it('diff correct → reflect: exit 1, the CORS finding new and marked as failing the gate', async () => {
    const run = await runCli(['diff', report(correctRun), report(reflectRun)]);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(/NEW \([1-9]\d*\)\n {2}✗ (critical|high) +cors:GET \/api\/items#\S+ — /);
    expect(run.stdout).toContain('FAIL: ');
  });

  it('diff of a report against itself: exit 0, nothing new', async () => {
    const run = await runCli(['diff', report(reflectRun), report(reflectRun)]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/gatecheck diff: 0 new, 0 fixed, \d+ unchanged/);
  });

  it('diff --json names the gating CORS finding', async () => {
    const run = await runCli(['diff', report(correctRun), report(reflectRun), '--json']);
    expect(run.code).toBe(1);
    expect(corsIds((JSON.parse(run.stdout) as { gating: string[] }).gating).length).toBeGreaterThan(0);
  });

  it('run --baseline reflect/report.json on the reflecting gateway again: nothing new, exit 0', async () => {
    const run = await cors(reflect, '--baseline', report(reflectRun));
    expect(run.code, run.stdout).toBe(0);
    const again = readJson(report(run)) as Report;
    expect(again.baseline).toMatchObject({ file: report(reflectRun), new: [], fixed: [], unverified: [] });
    expect(corsIds(again.baseline!.unchanged).length).toBeGreaterThan(0);
    const dispositions = again.checks.flatMap((c) => c.findings.map((f) => f.disposition));
    expect(dispositions).not.toContain('gating');
    expect(dispositions).toContain('baseline');
    expect(run.stdout).toMatch(/Baseline \S+: 0 new, 0 fixed, \d+ unchanged/);
  }, 30_000);

  it('run --baseline reflect/report.json once the gateway is fixed: exit 0, the CORS finding listed as fixed', async () => {
    const run = await cors(correct, '--baseline', report(reflectRun));
    expect(run.code, run.stdout).toBe(0);
    const fixed = (readJson(report(run)) as Report).baseline!;
    expect(fixed.new).toEqual([]);
    expect(corsIds(fixed.fixed).length).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/FIXED \([1-9]\d*\)\n {4}(critical|high) +cors:/);
  }, 30_000);

  it('judge --baseline: the reflecting run judged again offline, its CORS finding known, so CORS passes', async () => {
    const run = await runCli(['judge', '--policy', POLICY, '--observations', RECORDING, '--baseline', report(reflectRun)], env);
    // judge has no --only: the kinds the recording lacks are skipped (exit 3), not failed.
    expect(run.code, run.stdout + run.stderr).toBe(3);
    const judged = readJson(report(run)) as Report;
    expect(judged.checks.find((c) => c.kind === 'cors')?.status).toBe('pass');
    expect(judged.baseline).toMatchObject({ new: [], fixed: [] });
    expect(corsIds(judged.baseline!.unchanged).length).toBeGreaterThan(0);
  });

  it('run --baseline correct/report.json on the reflecting gateway: the regression is new, exit 1', async () => {
    const run = await cors(reflect, '--baseline', report(correctRun));
    expect(run.code, run.stdout).toBe(1);
    expect(corsIds((readJson(report(run)) as Report).baseline!.new).length).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/NEW \([1-9]\d*\)\n {2}✗ /);
  }, 30_000);
});
