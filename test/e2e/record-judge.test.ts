/**
 * `run --record` then `gatecheck judge` (Vegeta's `attack | report`): a run against the reference
 * gateway (with its CloudWatch endpoint) is recorded, and judging the recording with the same
 * policy gives exactly the live statuses and summaries of every kind on the check contract; a
 * stricter policy gives its own verdict, so judge evaluates rather than replays.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/checks/registry.js';
import { startGateway } from '../../src/gateway/server.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { REPO, runCli, type CliRun } from '../support/cli.js';

const API_KEY = 'e2e-record-key-5b7e1c9d2f4a80';
const env = {
  GATECHECK_API_KEY: API_KEY,
  // The SDK's environment credentials: dummy values, the emulator only checks that a signature is there.
  AWS_ACCESS_KEY_ID: 'AKIDRECORDTEST',
  AWS_SECRET_ACCESS_KEY: 'record-test-not-a-secret',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
const METRICS_BLOCK = [
  'metrics:',
  '  cloudwatch:',
  '    region: us-east-1',
  '    api: { type: REST, name: gatecheck-record, stage: e2e }',
  '  waitSec: 5',
  '',
].join('\n');
const LEGACY = new Set<string>(CHECKS.filter((check) => 'legacy' in check).map((check) => check.kind));

let dir: string;
let policy: string;
let strict: string;
let recording: string;
let live: CliRun;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatecheck-record-'));
  const reference = readFileSync(join(REPO, 'test/fixtures/policies/reference.yaml'), 'utf8');
  policy = join(dir, 'policy.yaml');
  strict = join(dir, 'strict.yaml');
  recording = join(dir, 'run.ndjson');
  writeFileSync(policy, `${reference}\n${METRICS_BLOCK}`);
  // The same traffic against an objective no gateway meets: the live p99 of a few ms is over it.
  const stricter = `${reference}\n${METRICS_BLOCK}`.replace('p99Ms: 300', 'p99Ms: 0.001');
  expect(stricter).not.toBe(`${reference}\n${METRICS_BLOCK}`);
  writeFileSync(strict, stricter);
  const gateway = await startGateway({ policy: loadPolicyFile(policy, { env }), cloudwatch: true });
  try {
    const cloudwatch = ['--endpoint-url', gateway.cloudwatch!.url];
    live = await runCli(['run', '--policy', policy, '--target', gateway.url, ...cloudwatch, '--record', recording], env);
  } finally {
    await gateway.close();
  }
}, 180_000);

const byId = (run: CliRun) => new Map((run.report?.checks ?? []).map((c) => [(c as unknown as { id: string }).id, c]));

describe('run --record', () => {
  it('runs as usual and writes the recording: the run first, observations tagged by check, a record per check', () => {
    expect(live.report, live.stderr).toBeDefined();
    const lines = readFileSync(recording, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ type: 'run', policyFile: policy, target: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    expect(typeof lines[0]!.epochAtOriginMs).toBe('number');
    const observations = lines.filter((l) => l.type === 'observation');
    expect(observations.length).toBe((live.report as unknown as { requestsSent: number }).requestsSent);
    const checkIds = lines.filter((l) => l.type === 'check').map((l) => l.id);
    expect(checkIds).toEqual(expect.arrayContaining(['slo:GET /api/items', 'metrics:gatecheck-record/e2e']));
  });

  it('never writes the API key: credentials are placeholders', () => {
    const text = readFileSync(recording, 'utf8');
    expect(text).not.toContain(API_KEY);
    expect(text).toContain('<credential main>');
  });
});

describe('gatecheck judge', () => {
  let judged: CliRun;
  beforeAll(async () => {
    judged = await runCli(['judge', '--policy', policy, '--observations', recording], env);
  }, 60_000);

  it('reproduces the live status and summary of every check on the contract, metrics and slo among them', () => {
    expect(judged.report, judged.stderr).toBeDefined();
    const liveChecks = byId(live);
    const compared: string[] = [];
    for (const [id, check] of byId(judged)) {
      if (LEGACY.has(check.kind)) continue;
      const was = liveChecks.get(id);
      expect(was, id).toBeDefined();
      expect({ id, status: check.status, summary: check.summary }).toEqual({ id, status: was!.status, summary: was!.summary });
      compared.push(check.kind);
    }
    expect(compared).toEqual(expect.arrayContaining(['slo', 'metrics']));
    expect(byId(judged).size).toBe(liveChecks.size);
  });

  it('says which kinds cannot be re-judged yet, and that nothing was sent', () => {
    for (const check of judged.report!.checks.filter((c) => LEGACY.has(c.kind))) {
      expect(check.status).toBe('skip');
      expect(check.summary).toMatch(/^cannot be re-judged/);
    }
    const md = readFileSync(join(judged.outDir, 'report.md'), 'utf8');
    expect(md).toContain(`Judged offline from the recording \`${recording}\``);
    expect(md).not.toContain(API_KEY);
  });

  it("appends report.md's first screen to $GITHUB_STEP_SUMMARY: verdict, gate, findings by severity, the checks", async () => {
    const summary = join(dir, 'step-summary.md');
    const again = await runCli(['judge', '--policy', policy, '--observations', recording], { ...env, GITHUB_STEP_SUMMARY: summary });
    const text = readFileSync(summary, 'utf8');
    expect(text).toMatch(new RegExp(`^### gatecheck: ${again.report!.verdict.toUpperCase()} `));
    expect(text).toContain('**Gate:** fail on `high`: a check fails when it has a finding of high severity or above');
    expect(text).toMatch(/\*\*Findings:\*\* \d+ critical, \d+ high, \d+ medium, \d+ low, \d+ info/);
    expect(text).toContain('| Check | Route | Status | Summary |');
    expect(text).not.toContain('](#'); // no links to report.md's sections from the job page
    expect(text).not.toContain(API_KEY);
  }, 60_000);

  it('a stricter policy gives its own verdict: the same p99 is now over the objective', async () => {
    const slo = byId(live).get('slo:GET /api/items');
    expect(slo?.status, slo?.summary).toBe('pass');
    const stricter = await runCli(['judge', '--policy', strict, '--observations', recording], env);
    const judgedSlo = byId(stricter).get('slo:GET /api/items');
    expect(judgedSlo?.summary).toMatch(/^p99 [\d.]+ ms > 0\.001 ms/);
    // fail, or inconclusive when the recorded client's event loop was as late as the p99 (a loaded CI machine): never pass.
    expect(['fail', 'inconclusive'], judgedSlo?.summary).toContain(judgedSlo?.status);
    expect(stricter.code).toBe(judgedSlo?.status === 'fail' ? 1 : 3);
  }, 60_000);

  it('bad input is exit 2 naming the flag: no recording, a file that is not one, a --record path that cannot be written', async () => {
    const missing = await runCli(['judge', '--policy', policy, '--observations', join(dir, 'nope.ndjson')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--observations: cannot read');
    const notOne = await runCli(['judge', '--policy', policy, '--observations', policy], env);
    expect(notOne.code).toBe(2);
    expect(notOne.stderr).toMatch(/--observations: .*line 1/);
    const unwritable = join(dir, 'no/such/dir/run.ndjson');
    const badPath = await runCli(['run', '--policy', policy, '--target', 'http://127.0.0.1:9', '--record', unwritable], env);
    expect(badPath.code).toBe(2);
    expect(badPath.stderr).toMatch(/--record: cannot write .* \(ENOENT\); nothing was sent/);
  }, 60_000);
});
