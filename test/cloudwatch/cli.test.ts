/**
 * The CLI as a user runs it (the built bin/gatecheck.js in a child process): `run` reconciling
 * with the reference gateway's CloudWatch endpoint using credentials from the environment (the
 * SDK's default chain), `metrics` on its own, and flag and credential problems.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Finding } from '../../src/checks/types.js';
import type { CliIo } from '../../src/cli/io.js';
import type { GateSummary } from '../../src/gate/gate.js';
import { main } from '../../src/cli/main.js';
import { startGateway, type GatewayHandle } from '../../src/gateway/server.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { REPO, runCli } from '../support/cli.js';

const POLICY = join(REPO, 'test/fixtures/cloudwatch/metrics-policy.yaml');
const KEY = 'cw-cli-key-8d1f0c2b9e7a';
// The standard chain's environment provider; dummy values, the emulator checks only that a SigV4 signature is there.
const CREDENTIALS_ENV = { GATECHECK_API_KEY: KEY, AWS_ACCESS_KEY_ID: 'AKIDCLITEST', AWS_SECRET_ACCESS_KEY: 'cli-test-not-a-secret' };
const AWS_ENV = { ...CREDENTIALS_ENV, AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/** runCli adds --out only for run and demo: metrics gets its own temporary directory. */
function outDir(): string {
  return mkdtempSync(join(tmpdir(), 'gatecheck-cw-'));
}

let gateway: GatewayHandle;
beforeAll(async () => {
  gateway = await startGateway({ policy: loadPolicyFile(POLICY, { env: { GATECHECK_API_KEY: KEY } }), cloudwatch: true });
});
afterAll(() => gateway.close());

describe('gatecheck run with a metrics block', () => {
  it("reconciles the run with the gateway's CloudWatch metrics (credentials from the environment) and reports it", async () => {
    const run = await runCli(
      [
        'run',
        '--policy',
        POLICY,
        '--target',
        gateway.url,
        '--only',
        'auth,waf,metrics',
        '--endpoint-url',
        gateway.cloudwatch!.url,
        '--metrics-wait',
        '2',
      ],
      AWS_ENV,
    );
    const metrics = run.report?.checks.find((c) => c.kind === 'metrics');
    expect(metrics, run.stderr).toBeDefined();
    expect(metrics!.status, metrics!.summary).toBe('pass');
    expect(metrics!.route).toBe('gatecheck-fixture/test');
    expect(metrics!.summary).toMatch(/WAF blocked (\d+) vs \1/);
    expect(run.code).toBe(0);
    const md = readFileSync(join(run.outDir, 'report.md'), 'utf8');
    expect(md).toContain('## metrics: gatecheck-fixture/test — ✅ pass');
    expect(md).toContain('**CloudWatch vs client, per minute**');
    expect(md).toContain('![metrics gatecheck-fixture/test](charts/metrics-gatecheck-fixture-test.svg)');
    expect(readFileSync(join(run.outDir, 'charts', 'metrics-gatecheck-fixture-test.svg'), 'utf8')).toContain(
      'Requests per minute: client (bars) vs CloudWatch Count (line)',
    );
    for (const file of ['report.md', 'report.json', 'junit.xml', 'report.sarif'])
      expect(readFileSync(join(run.outDir, file), 'utf8')).not.toContain(KEY);
  }, 30_000);
});

/** A check's findings as report.json carries them. */
const findingsOf = (check: object): Finding[] => (check as { findings: Finding[] }).findings;

describe('gatecheck run against a gateway whose CloudWatch metrics lose traffic', () => {
  /** A fresh gateway per run (its metrics are per minute: a second run would fill in the first one's gaps). */
  const runLossy = async (extra: string[]) => {
    // Requests within the clock-skew allowance (1 s) of a minute boundary may count in either minute, so a
    // short run there cannot show a deficit: start well inside a minute (the run takes a few seconds).
    const intoMinuteMs = Date.now() % 60_000;
    if (intoMinuteMs < 3_000 || intoMinuteMs > 40_000) await sleep((63_000 - intoMinuteMs) % 60_000);
    const lossy = await startGateway({ policy: loadPolicyFile(POLICY, { env: { GATECHECK_API_KEY: KEY } }), cloudwatch: true });
    // The gateway answers every request, but its metrics keep only every other one.
    const record = lossy.recorder.record.bind(lossy.recorder);
    let seen = 0;
    lossy.recorder.record = (...args) => {
      if (seen++ % 2 === 0) record(...args);
    };
    try {
      return await runCli(
        [
          ...['run', '--policy', POLICY, '--target', lossy.url, '--only', 'auth,metrics'],
          ...['--endpoint-url', lossy.cloudwatch!.url, '--metrics-wait', '1', ...extra],
        ],
        AWS_ENV,
      );
    } finally {
      await lossy.close();
    }
  };

  it('passes the default gate (high) with the disagreement as a medium finding: exit 0', async () => {
    const run = await runLossy([]);
    const metrics = run.report?.checks.find((c) => c.kind === 'metrics');
    expect(metrics, run.stderr).toBeDefined();
    expect(metrics!.status, metrics!.summary).toBe('pass');
    expect(metrics!.summary).toMatch(/^pass · \d medium: CloudWatch Count misses traffic the client saw \(the API, \d minutes?\)/);
    const medium = findingsOf(metrics!).filter((f) => f.severity === 'medium');
    expect(medium.map((f) => f.id)).toContain('metrics:gatecheck-fixture/test#deficit:count:api');
    expect(medium.every((f) => f.disposition === 'below-gate')).toBe(true);
    expect((run.report as unknown as { gate: GateSummary }).gate.counts.medium).toBe(medium.length);
    expect(run.code).toBe(0);
  }, 60_000);

  it('fails exactly the metrics check with --fail-on medium: exit 1', async () => {
    const run = await runLossy(['--fail-on', 'medium']);
    expect(
      run.report?.checks.map((c) => `${c.kind}=${c.status}`),
      run.stderr,
    ).toEqual(['auth=pass', 'metrics=fail']);
    const metrics = run.report!.checks.find((c) => c.kind === 'metrics')!;
    expect(findingsOf(metrics).find((f) => f.id === 'metrics:gatecheck-fixture/test#deficit:count:api')).toMatchObject({
      severity: 'medium',
      disposition: 'gating',
    });
    expect(run.code).toBe(1);
  }, 60_000);
});

describe('gatecheck metrics', () => {
  it("pulls the last minutes of the API's metrics alone and writes a report (exit 0)", async () => {
    for (let i = 0; i < 5; i++) await (await fetch(`${gateway.url}/health`)).arrayBuffer();
    const out = outDir();
    const run = await runCli(
      ['metrics', '--policy', POLICY, '--since', '5m', '--endpoint-url', gateway.cloudwatch!.url, '--out', out],
      AWS_ENV,
    );
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/\| metrics \| gatecheck-fixture\/test \| PASS\s+\| CloudWatch has \d minute\(s\) of data/);
    // What the pull learned is info: listed, never gating.
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { checks: object[] };
    const findings = findingsOf(report.checks[0]!).map((f) => [f.id, f.severity]);
    expect(findings).toEqual([['metrics:gatecheck-fixture/test#published', 'info']]);
  });

  // The SDK warns only on Node < 22 (@aws-sdk/core emitWarningIfUnsupportedVersion): there the second run shows it is real.
  it.runIf(NODE_MAJOR < 22)("keeps the AWS SDK's Node version warning off stderr, unless the user set the variable", async () => {
    const args = ['metrics', '--policy', POLICY, '--since', '5m', '--endpoint-url', gateway.cloudwatch!.url, '--quiet'];
    const env = { ...CREDENTIALS_ENV, AWS_EC2_METADATA_DISABLED: 'true' };
    const quiet = await runCli([...args, '--out', outDir()], env);
    expect(quiet.code, quiet.stderr).not.toBe(2);
    expect(quiet.stderr).toBe('');
    const asked = await runCli([...args, '--out', outDir()], { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' });
    expect(asked.stderr).toContain('NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)');
  });

  it('without any AWS credentials: exit 3 and says so, never a crash', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const run = await runCli(
      [
        'metrics',
        '--policy',
        POLICY,
        '--endpoint-url',
        `http://127.0.0.1:${port}`,
        '--profile',
        'gatecheck-no-such-profile',
        '--out',
        outDir(),
      ],
      {
        GATECHECK_API_KEY: KEY,
        HOME: '/nonexistent',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    );
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toMatch(/metrics not read: no AWS credentials found/);
    expect(run.stderr).not.toMatch(/internal error/);
  });

  it.each([
    [['metrics', '--policy', POLICY, '--since', '5x'], '--since: give a duration from 1m to 15d'],
    [['metrics', '--policy', join(REPO, 'test/fixtures/policies/reference.yaml')], 'has no `metrics` block'],
    [['run', '--policy', POLICY, '--metrics-wait', '-1'], '--metrics-wait: must be from 0 to 3600 seconds'],
    [['run', '--policy', POLICY, '--region', 'Ireland'], '--region: "Ireland" is not an AWS Region name'],
    [['demo', '--endpoint-url', 'ftp://x'], '--endpoint-url: must be an http:// or https:// URL'],
  ])('bad input %j → exit 2: %s', async (args, message) => {
    // In-process (main() with its own streams): bad input is refused before anything is sent.
    let stderr = '';
    const sink = (write: (text: string) => void) => new Writable({ write: (chunk, _encoding, done) => (write(String(chunk)), done()) });
    const io: CliIo = {
      stdout: sink(() => {}),
      stderr: sink((t) => (stderr += t)),
      env: { GATECHECK_API_KEY: KEY },
      interactive: false,
      cwd: REPO,
      stopSignal: () => new Promise(() => {}),
    };
    expect(await main(args, io), stderr).toBe(2);
    expect(stderr).toContain(message);
  });
});
