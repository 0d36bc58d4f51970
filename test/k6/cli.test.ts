import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { planK6 } from '../../src/k6/plan.js';
import { loadPolicyForK6 } from '../../src/k6/policy.js';
import { bucketRun, fixture, tempDir, toNdjson } from './support.js';

/** The CLI as a user runs it (built by `npm test` / `tsc -p .` first). */
const SECRET = 'cli-secret-key-9c1d7e5b';
const env = { GATECHECK_K6_TEST_KEY: SECRET, GATECHECK_K6_PARTNER_TOKEN: 'partner-token-31f00d' };

/** A one-route policy: the keyed, throttled items route with its slo. */
function itemsPolicy(dir: string): string {
  const file = join(dir, 'items.yaml');
  const text = readFileSync(fixture('policy.yaml'), 'utf8');
  writeFileSync(file, text.slice(0, text.indexOf('  - name: partner orders')));
  return file;
}

describe('gatecheck export k6', () => {
  it('writes the script and manifests, and no secret', async () => {
    const out = tempDir();
    const run = await runCli(['export', 'k6', '--policy', 'test/fixtures/k6/policy.yaml', '--parallelism', '3', '--out', out], env);
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'README.md',
      'configmap.yaml',
      'gatecheck.js',
      'results-pvc.yaml',
      'results-reader.yaml',
      'testrun.yaml',
    ]);
    for (const name of readdirSync(out)) expect(readFileSync(join(out, name), 'utf8'), name).not.toContain(SECRET);
    expect(readFileSync(join(out, 'testrun.yaml'), 'utf8')).toContain('parallelism: 3');
    expect(run.stderr).toContain('route GET /public/config not exported');
  });

  it('needs no secret in the environment to export', async () => {
    const run = await runCli(['export', 'k6', '--policy', 'test/fixtures/k6/policy.yaml', '--out', tempDir()]);
    expect(run.code, run.stderr).toBe(0);
  });

  it('rejects a bad flag with exit 2', async () => {
    const run = await runCli(['export', 'k6', '--policy', 'test/fixtures/k6/policy.yaml', '--parallelism', '0', '--out', tempDir()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--parallelism: must be a whole number from 1 to 1000');
  });
});

describe('gatecheck run --engine k6', () => {
  it('without k6 on PATH: a clear message and exit 2, no crash', async () => {
    const emptyPath = tempDir('gatecheck-nok6-');
    const run = await runCli(['run', '--engine', 'k6', '--policy', 'test/fixtures/k6/policy.yaml'], { ...env, PATH: emptyPath });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--engine k6 needs the k6 binary on PATH');
    expect(run.stderr).toContain('gatecheck export k6 --policy test/fixtures/k6/policy.yaml');
    expect(run.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
  });

  it('with k6 on PATH: spawns `k6 run` with --out json and a summary export, then judges the points', async () => {
    const dir = tempDir();
    const policyFile = itemsPolicy(dir);
    const { policy } = loadPolicyForK6(policyFile, {});
    const start = Date.now();
    const points = toNdjson(
      bucketRun({
        route: 'GET /api/items',
        routeIndex: 0,
        rate: 50,
        burst: 20,
        volley: 40,
        pacedRate: 100,
        pacedSeconds: 2,
        startMs: start,
        slo: { rate: 20, seconds: 3, latencyMs: 40 },
      }),
      1,
      { thresholds: planK6(policy.routes, { requestTimeoutMs: 3000 }).thresholds },
    )[0]!;
    writeFileSync(join(dir, 'points.ndjson'), points);
    // A stand-in for k6 that records how it was called and writes what k6 would.
    const bin = tempDir('gatecheck-fakek6-');
    const httpReqs = points.split('\n').filter((l) => l.includes('"metric":"http_reqs","type":"Point"')).length;
    writeFileSync(
      join(bin, 'k6'),
      [
        `#!${process.execPath}`,
        "const fs = require('node:fs'); const zlib = require('node:zlib');",
        'const args = process.argv.slice(2);',
        `fs.writeFileSync(${JSON.stringify(join(dir, 'call.json'))}, JSON.stringify({ args, target: process.env.GATECHECK_TARGET, ` +
          `hasKey: process.env.GATECHECK_K6_TEST_KEY === ${JSON.stringify(SECRET)} }));`,
        "const out = args[args.indexOf('--out') + 1].replace(/^json=/, '');",
        `fs.writeFileSync(out, zlib.gzipSync(fs.readFileSync(${JSON.stringify(join(dir, 'points.ndjson'))})));`,
        "const summary = args[args.indexOf('--summary-export') + 1];",
        'fs.writeFileSync(summary, JSON.stringify({ metrics: { ' +
          `http_reqs: { count: ${httpReqs}, rate: 20 }, ` +
          "'http_req_failed{route:GET /api/items,probe:slo}': { passes: 0, fails: 60, value: 0, thresholds: { 'rate<=0.01': false } } }, " +
          "root_group: { name: '', path: '', id: 'd41d8cd98f00b204e9800998ecf8427e', groups: {}, checks: {} } }, null, 4));",
        "console.log('fake k6 done');",
        '',
      ].join('\n'),
    );
    chmodSync(join(bin, 'k6'), 0o755);
    const run = await runCli(['run', '--engine', 'k6', '--only', 'throttle,slo', '--policy', policyFile], { ...env, PATH: bin });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const call = JSON.parse(readFileSync(join(dir, 'call.json'), 'utf8')) as { args: string[]; target: string; hasKey: boolean };
    expect(call.args[0]).toBe('run');
    expect(call.args[1]).toBe('--out');
    expect(call.args[2]).toMatch(/^json=.*points\.ndjson\.gz$/);
    expect(call.args).toContain('--summary-export');
    expect(call.args.join(' ')).not.toContain(SECRET);
    expect(call.target).toBe('https://api.example.com/prod');
    expect(call.hasKey).toBe(true);
    const matrix = (run.report?.checks ?? []).map((c) => `${c.kind}:${c.route}=${c.status}`);
    expect(matrix).toEqual(expect.arrayContaining(['throttle:GET /api/items=pass', 'slo:GET /api/items=pass']));
    expect(run.report?.verdict).toBe('pass');
    const report = JSON.parse(readFileSync(join(run.outDir, 'report.json'), 'utf8')) as {
      engine: string;
      k6: { requests: number; instances: Array<{ format: string }> };
    };
    expect(report.engine).toBe('k6');
    expect(report.k6.requests).toBe(300);
    expect(report.k6.instances.map((i) => i.format)).toEqual(['ndjson', 'summary-export']);
    expect(readFileSync(join(run.outDir, 'report.md'), 'utf8')).toContain('## k6 results');

    // Without --only, the kinds k6 does not run are skipped with a reason, which proves nothing: exit 3.
    const all = await runCli(['run', '--engine', 'k6', '--policy', policyFile], { ...env, PATH: bin });
    expect(all.code).toBe(3);
    expect(all.report?.checks.find((c) => c.kind === 'auth')).toMatchObject({
      status: 'skip',
      summary: expect.stringContaining('not checked by the k6 engine'),
    });
  }, 60_000);
});

describe('gatecheck import k6', () => {
  it('on the real summaries: a report whose totals match the files, failing thresholds fail', async () => {
    const out = tempDir();
    const files = [
      'handle-summary-data.k6-reporter-simple.json',
      'handle-summary-data.mostlyucid-nmt.json',
      'handle-summary-data.quality-time.json',
      'handle-summary-data.vafast-benchmarks.json',
      'summary-export-legacy.sap-cloud-cap-samples.json',
    ].map((f) => `test/fixtures/k6/${f}`);
    const run = await runCli(['import', 'k6', ...files, '--out', out, '--quiet']);
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      verdict: string;
      requestsSent: number;
      k6: { requests: number; metrics: Array<{ name: string; values: Record<string, number> }>; instances: Array<{ requests: number }> };
    };
    expect(report.k6.requests).toBe(878 + 856 + 950 + 384_236 + 700);
    expect(report.requestsSent).toBe(report.k6.requests);
    expect(report.k6.instances.map((i) => i.requests)).toEqual([878, 856, 950, 384_236, 700]);
    expect(report.k6.metrics.find((m) => m.name === 'iterations')?.values.count).toBe(439 + 854 + 172 + 384_236 + 600);
    expect(readFileSync(join(out, 'junit.xml'), 'utf8')).toContain('p(98)&lt;200');
    const markdown = readFileSync(join(out, 'report.md'), 'utf8');
    expect(markdown).toContain('## k6 results');
    expect(markdown).toMatch(/percentiles and med are the largest of \d instances/);
  });

  it('--baseline: the same failing thresholds again are known findings (exit 0)', async () => {
    const files = ['handle-summary-data.mostlyucid-nmt.json', 'summary-export-legacy.sap-cloud-cap-samples.json'].map(
      (f) => `test/fixtures/k6/${f}`,
    );
    const before = tempDir();
    const first = await runCli(['import', 'k6', ...files, '--out', before, '--quiet']);
    expect(first.code, first.stderr).toBe(1);
    const out = tempDir();
    const again = await runCli(['import', 'k6', ...files, '--out', out, '--quiet', '--baseline', join(before, 'report.json')]);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { baseline: { new: string[]; unchanged: string[] } };
    expect(report.baseline.new).toEqual([]);
    expect(report.baseline.unchanged.length).toBeGreaterThan(0);
    expect(again.stdout).toMatch(/Baseline \S+: 0 new, 0 fixed, [1-9]\d* unchanged/);
  });

  it('on the real NDJSON, plain and gzip: the same totals', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'points.ndjson.gz'), gzipSync(readFileSync(fixture('out-json.xk6-dashboard.first300.ndjson'))));
    const run = await runCli(['import', 'k6', join(dir, 'points.ndjson.gz'), '--out', join(dir, 'report'), '--quiet']);
    // No thresholds in the file and no policy: nothing to judge.
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('nothing to judge');
    const report = JSON.parse(readFileSync(join(dir, 'report', 'report.json'), 'utf8')) as {
      k6: { requests: number; statuses: Record<string, number> };
    };
    expect(report.k6).toMatchObject({ requests: 26, statuses: { 200: 12, 308: 14 } });
  });

  it('a malformed file: exit 2 and a message naming the file and line', async () => {
    const dir = tempDir();
    const lines = readFileSync(fixture('out-json.xk6-dashboard.first300.ndjson'), 'utf8').split('\n');
    writeFileSync(join(dir, 'cut.ndjson'), lines.slice(0, 41).join('\n').slice(0, -30));
    const run = await runCli(['import', 'k6', join(dir, 'cut.ndjson'), '--out', join(dir, 'r')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cut\.ndjson:41: not valid JSON/);
    writeFileSync(join(dir, 'empty.json'), '');
    const empty = await runCli(['import', 'k6', join(dir, 'empty.json'), '--out', join(dir, 'r')]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/empty\.json: the file is empty/);
  });

  it('--accept: a bad file is exit 2 naming the field; a good one is applied and its unknown ids reported', async () => {
    const dir = tempDir();
    const summary = 'test/fixtures/k6/handle-summary-data.k6-reporter-simple.json';
    writeFileSync(join(dir, 'bad.yaml'), 'accepted:\n  - { id: "k6#x", reason: r, expires: soon }\n');
    const bad = await runCli(['import', 'k6', summary, '--accept', join(dir, 'bad.yaml'), '--out', join(dir, 'r1'), '--quiet']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('accepted[0].expires: must be a date, YYYY-MM-DD');
    writeFileSync(join(dir, 'good.yaml'), 'accepted:\n  - { id: "k6:none#x", reason: r, expires: 2099-01-01 }\n');
    const good = await runCli(['import', 'k6', summary, '--accept', join(dir, 'good.yaml'), '--out', join(dir, 'r2'), '--quiet']);
    expect(good.stdout).toContain('--accept problems: k6:none#x matches no finding of this run');
    const report = JSON.parse(readFileSync(join(dir, 'r2', 'report.json'), 'utf8')) as { gate: { acceptProblems: unknown[] } };
    expect(report.gate.acceptProblems).toEqual([{ id: 'k6:none#x', problem: 'unknown', expires: '2099-01-01' }]);
  });
});
