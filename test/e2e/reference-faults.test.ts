/**
 * Mutation tests on the reference gateway: each fault breaks one thing on purpose, and exactly
 * the matching check kind must fail while every other passes. Faults that make the gateway
 * unobservable must give error (exit 3), never pass.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FAULT_EXPECTATION, FAULT_NAMES, type FaultName } from '../../src/gateway/faults.js';
import { startGateway } from '../../src/gateway/server.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { REPO, runCli, statusMatrix } from '../support/cli.js';

const API_KEY = 'e2e-key-3f9c2a71d0b84e55a6c1';
const env = { GATECHECK_API_KEY: API_KEY };
const POLICY = join(REPO, 'test/fixtures/policies/reference.yaml');
const HTTP_KINDS = ['auth', 'canary', 'cors', 'quota', 'sigv4', 'slo', 'throttle', 'tracing', 'waf'];
const WS_KINDS = ['ws-auth', 'ws-limits', 'ws-throttle'];
const KINDS = [...HTTP_KINDS, ...WS_KINDS].sort();
/**
 * A fault's run checks only its side of the gateway (HTTP routes or the WebSocket API): the other side is
 * unchanged by it. The faults of issue 14's IAM, canary and tracing run with `--only <kind>`: their kind fails,
 * and the runs of every other HTTP fault show those kinds passing beside the broken one.
 */
const ONLY_RUN: Partial<Record<FaultName, string>> = { 'iam-off': 'sigv4', 'canary-skew': 'canary', 'no-trace': 'tracing' };
/**
 * Faults on another path than the limiter (CORS headers, the key check, the WAF rules) run without the throttle
 * check: its identification probe costs ~12 s per throttle check, and these faults leave the limiter as it is.
 * The throttle and quota faults, and `slow` (every answer 400 ms late, which a limiter's identification must see
 * through), run every HTTP kind: the throttle's verdicts beside a broken gateway are shown there.
 */
const WITHOUT_THROTTLE: readonly FaultName[] = ['cors-reflect', 'cors-star', 'cors-off', 'auth-off', 'waf-off'];
const kindsFor = (fault: FaultName) => {
  const only = ONLY_RUN[fault];
  if (only) return [only];
  if (FAULT_EXPECTATION[fault].startsWith('ws-')) return WS_KINDS;
  return WITHOUT_THROTTLE.includes(fault) ? HTTP_KINDS.filter((kind) => kind !== 'throttle') : HTTP_KINDS;
};

async function checkAgainst(faults: FaultName[], only?: string[]) {
  const policy = loadPolicyFile(POLICY, { env });
  const gateway = await startGateway({ policy, faults });
  try {
    return await runCli(['run', '--policy', POLICY, '--target', gateway.url, ...(only ? ['--only', only.join(',')] : [])], env);
  } finally {
    await gateway.close();
  }
}

describe('reference gateway, correctly configured', () => {
  let run: Awaited<ReturnType<typeof checkAgainst>>;
  beforeAll(async () => {
    run = await checkAgainst([]);
  }, 60_000);

  it('passes every check and exits 0', () => {
    expect([...new Set(statusMatrix(run))]).toEqual(KINDS.map((k) => `${k}=pass`));
    expect(run.code).toBe(0);
    expect(run.report!.verdict).toBe('pass');
  });

  it('writes report.md, report.json and junit.xml, with evidence for every check', () => {
    const md = readFileSync(join(run.outDir, 'report.md'), 'utf8');
    expect(md).toMatch(/^# gatecheck compliance report\n\n✅ \*\*PASS\*\*/);
    for (const check of run.report!.checks) expect(md).toContain(`## ${check.kind}: ${check.route}`);
    expect(md).toMatch(/!\[throttle GET \/api\/items\]\(charts\/throttle-get-api-items\.svg\)/);
    expect(existsSync(join(run.outDir, 'charts', 'throttle-get-api-items.svg'))).toBe(true);
    // A reviewer's report: no JSON in a table cell, every <details> closed.
    const cells = md.split('\n').filter((line) => line.startsWith('|'));
    expect(cells.filter((line) => line.includes('{"') || line.includes('[{'))).toEqual([]);
    expect(md.match(/^<details>$/gm)?.length).toBe(md.match(/^<\/details>$/gm)?.length);
    const junit = readFileSync(join(run.outDir, 'junit.xml'), 'utf8');
    expect(junit).toContain('<testsuites name="gatecheck" tests="16" failures="0" errors="0"');
    for (const check of run.report!.checks) expect(check.evidence.length, check.kind).toBeGreaterThan(0);
  });

  it('never writes the API key anywhere', () => {
    for (const file of ['report.md', 'report.json', 'junit.xml'])
      expect(readFileSync(join(run.outDir, file), 'utf8')).not.toContain(API_KEY);
    expect(run.stdout + run.stderr).not.toContain(API_KEY);
    expect(readFileSync(join(run.outDir, 'report.md'), 'utf8')).toContain('&lt;credential main&gt;');
  });
});

/**
 * The finding each fault must be caught by (a slug of the failing check, gating under the default
 * gate): the right check fails for the right reason. No fault breaks the metrics: a CloudWatch
 * disagreement is `medium` and passes the default gate (test/cloudwatch/cli.test.ts runs one at
 * --fail-on medium).
 */
const FAULT_FINDING: Partial<Record<FaultName, RegExp>> = {
  'no-throttle': /^throttle:GET \/api\/items( \[plan gold\])?#no-limit$/,
  'fast-throttle': /^throttle:GET \/api\/items( \[plan gold\])?#rate-too-high$/,
  'big-burst': /^throttle:GET \/api\/items( \[plan gold\])?#burst-too-large$/,
  // The gold key gets the route's bucket (50/s, 10) instead of its plan's (100/s, 25): stricter on both.
  'plans-ignored': /^throttle:GET \/api\/items \[plan gold\]#(rate-too-low|burst-too-small)$/,
  'no-quota': /^quota:GET \/api\/reports#not-enforced$/,
  'auth-off': /^auth:GET \/api\/(items|checkout)#bypass:/,
  'iam-off': /^sigv4:POST \/api\/orders#bypass:/,
  'canary-skew': /^canary:GET \/api\/checkout#canary-share$/,
  'no-trace': /^tracing:POST \/api\/orders#trace-missing$/,
  slow: /^slo:GET \/api\/items#breach:p99$/,
  'ws-auth-off': /^ws-auth:WS chat#bypass:/,
  'ws-no-throttle': /^ws-throttle:WS chat( \[4 connections\])?#no-limit$/,
};

describe.each(FAULT_NAMES.filter((f) => FAULT_EXPECTATION[f] !== 'error'))('reference gateway with fault %s', (fault) => {
  it(`fails the ${FAULT_EXPECTATION[fault]} check and only that one`, async () => {
    const run = await checkAgainst([fault], kindsFor(fault));
    const failing = FAULT_EXPECTATION[fault];
    // Every check of the other kinds passes; the broken kind fails (a route may have several of it).
    const matrix = statusMatrix(run);
    expect(matrix.filter((m) => !m.startsWith(`${failing}=`) && m.endsWith('=pass')).length, matrix.join(' ')).toBe(
      matrix.filter((m) => !m.startsWith(`${failing}=`)).length,
    );
    expect(matrix, matrix.join(' ')).toContain(`${failing}=fail`);
    expect(
      matrix.filter((m) => m.startsWith(`${failing}=`)).every((m) => m === `${failing}=fail` || m === `${failing}=pass`),
      matrix.join(' '),
    ).toBe(true);
    expect(new Set(matrix.map((m) => m.split('=')[0])), matrix.join(' ')).toEqual(new Set(kindsFor(fault)));
    const expected = FAULT_FINDING[fault];
    if (expected) {
      // Every finding that fails a check is the fault's own, and there is one.
      type Graded = { id: string; severity: string; disposition?: string };
      const gating = run
        .report!.checks.flatMap((c) => (c as unknown as { findings: Graded[] }).findings)
        .filter((f) => f.disposition === 'gating');
      expect(gating.length, matrix.join(' ')).toBeGreaterThan(0);
      for (const f of gating) expect(f.id).toMatch(expected);
    }
    expect(run.code).toBe(1);
    // A bound on a hung run, not a verdict: `slow` runs every HTTP kind with each answer 400 ms late, two throttle
    // identifications among them, beside another test file on a busy machine.
  }, 120_000);
});

describe.each(FAULT_NAMES.filter((f) => FAULT_EXPECTATION[f] === 'error'))('reference gateway with fault %s', (fault) => {
  it('passes nothing, reports error and exits 3, still writing the report', async () => {
    const run = await checkAgainst([fault], HTTP_KINDS);
    expect(run.report, run.stderr).toBeDefined();
    // Two throttle checks (the route's and the gold plan's), auth and CORS on two routes each.
    expect(run.report!.checks.length).toBe(HTTP_KINDS.length + 3);
    expect(run.report!.checks.filter((c) => c.status === 'pass').map((c) => c.kind)).toEqual([]);
    expect(run.report!.verdict).toBe('error');
    expect(run.code).toBe(3);
    if (fault === 'error-5xx') {
      // A failing gateway is not hammered: the throttle load stops once 20% of the last 50 answers
      // are 5xx, long before the planned volley, second volley and paced phase are sent.
      for (const throttle of run.report!.checks.filter((c) => c.kind === 'throttle')) {
        const sent = (throttle as unknown as { requestsSent: number }).requestsSent;
        const plan = (throttle as unknown as { expected: { plan: { volleySize: number; pacedCount: number } } }).expected.plan;
        expect(throttle.summary).toMatch(/the gateway is failing: \d+ of the last \d+ answers were 5xx/);
        // The warm-up and the volley leave at once; of the paced phase, at most a window's worth.
        expect(sent, throttle.summary).toBeLessThanOrEqual(2 * plan.volleySize + 50);
        expect(sent).toBeLessThan(2 * plan.volleySize + plan.pacedCount);
      }
    }
  }, 60_000);
});
