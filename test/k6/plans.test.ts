import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planThrottle } from '../../src/checks/throttle/plan.js';
import type { CheckResult } from '../../src/checks/types.js';
import { k6Checks } from '../../src/k6/checks.js';
import { decodeRecords } from '../../src/k6/decode.js';
import { buildK6Export, SCRIPT_FILE } from '../../src/k6/export.js';
import { mergeInstances } from '../../src/k6/merge.js';
import { planK6 } from '../../src/k6/plan.js';
import { loadPolicyForK6 } from '../../src/k6/policy.js';
import { readK6File } from '../../src/k6/read.js';
import type { Policy, ThrottlePolicy } from '../../src/policy/types.js';
import { runCli } from '../support/cli.js';
import { bucketRun, fixture, tempDir, toNdjson, type SyntheticRequest } from './support.js';

/**
 * The k6 path judges what the native engine judges: usage plans (each on its own key, tagged by
 * the export), throttle.credential, and a `skip` with a reason for the kinds it cannot serve.
 * No k6 here: the points are synthetic, shaped as k6 `--out json` writes them.
 */
const POLICY_FILE = 'test/fixtures/k6/policy-plans.yaml';
const plans = loadPolicyForK6(fixture('policy-plans.yaml'), {});
const route = plans.policy.routes[0]!;
const [gold, silver] = route.usagePlans!;
const start = Date.UTC(2026, 0, 1, 12);

/** One throttle probe, sized as the export sizes it for `limits`, answered by a bucket of `gateway`. */
type Plan = { name: string; index: number };

function probe(limits: ThrottlePolicy, gateway: { rate: number; burst: number }, startMs: number, plan?: Plan): SyntheticRequest[] {
  const sizes = planThrottle(limits);
  const paced = { pacedRate: sizes.pacedRatePerSec, pacedSeconds: limits.probeSeconds };
  const shape = { route: route.id, routeIndex: 0, volley: sizes.volleySize, ...paced, startMs, ...(plan ? { plan } : {}) };
  return bucketRun({ ...shape, rate: gateway.rate, burst: gateway.burst });
}

/** The route's throttle and gold get their limits; silver's key gets gold's bucket. */
function plansRun(): SyntheticRequest[] {
  return [
    ...probe(route.throttle!, { rate: 50, burst: 20 }, start),
    ...probe(gold!, { rate: 80, burst: 30 }, start + 10_000, { name: 'gold', index: 0 }),
    ...probe(silver!, { rate: 80, burst: 30 }, start + 20_000, { name: 'silver', index: 1 }),
  ];
}

async function judge(policy: Policy, ndjson: string[]): Promise<{ checks: CheckResult[]; merged: ReturnType<typeof mergeInstances> }> {
  const dir = tempDir();
  const instances = await Promise.all(ndjson.map((text, i) => readK6File(writeFile(dir, `pod-${i}.ndjson`, text))));
  const merged = mergeInstances(instances, { extraThresholds: planK6(policy.routes, { requestTimeoutMs: 3000 }).thresholds });
  return { merged, checks: k6Checks(merged, { policy, policyFile: POLICY_FILE }) };
}

function writeFile(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('export k6: usage plans and throttle.credential', () => {
  const { policy, credentialEnv } = plans;
  const command = 'gatecheck export k6';
  const built = buildK6Export({ policy, policyFile: POLICY_FILE, credentialEnv, gatecheckVersion: 'test', parallelism: 2, command });

  it('gives each plan its own scenarios, tagged with the plan and sent with its key', () => {
    const throttlePhases = built.plan.phases.map((p) => [p.scenario, p.credential, p.plan ?? null]);
    expect(throttlePhases).toEqual([
      ['r0_throttle_volley', 'throttled', null],
      ['r0_throttle_paced', 'throttled', null],
      ['r0_p0_throttle_volley', 'gold', 'gold'],
      ['r0_p0_throttle_paced', 'gold', 'gold'],
      ['r0_p1_throttle_volley', 'silver', 'silver'],
      ['r0_p1_throttle_paced', 'silver', 'silver'],
    ]);
    const script = built.files[SCRIPT_FILE]!;
    // [credential, tags] of a scenario's entry in PROBES.
    const probeOf = (scenario: string) =>
      new RegExp(`${scenario}: \\{[^}]*credential: "([a-z]+)"[^}]*tags: (\\{[^}]*\\})`, 's').exec(script)?.slice(1);
    expect(probeOf('r0_p0_throttle_volley')).toEqual(['gold', '{ route: "GET /api/reports", probe: "throttle.volley", plan: "gold" }']);
    expect(probeOf('r0_throttle_paced')).toEqual(['throttled', '{ route: "GET /api/reports", probe: "throttle.paced" }']);
  });

  it('reads exactly the keys it sends from the environment: not the auth key the probes do not use, not the quota key', () => {
    const variables = (text: string) => [...text.matchAll(/GATECHECK_K6_[A-Z_]+/g)].map((m) => m[0]);
    const sent = ['GATECHECK_K6_THROTTLE_KEY', 'GATECHECK_K6_GOLD_KEY', 'GATECHECK_K6_SILVER_KEY'];
    expect(new Set(variables(built.files[SCRIPT_FILE]!))).toEqual(new Set(sent));
  });

  it('waits for each plan’s bucket to refill before the next probe', () => {
    const starts = Object.fromEntries(built.plan.phases.map((p) => [p.scenario, p.startMs]));
    // The route's bucket: 2 s paced, then 20/50·1.5 s + 200 ms; gold: 2 s, then 30/80·1.5 s + 200 ms.
    expect(starts.r0_p0_throttle_volley).toBe(2000 + 800);
    expect(starts.r0_p1_throttle_volley).toBe(2800 + 2000 + 763);
  });
});

describe('import k6: usage plans and a quota', () => {
  it('judges each plan on its own points, and reports the quota as skipped with the reason', async () => {
    const { checks } = await judge(plans.policy, toNdjson(plansRun(), 2));
    const byId = new Map(checks.map((c) => [c.id, c]));
    const own = byId.get('throttle:GET /api/reports')!;
    expect(own.status, own.summary).toBe('pass');
    expect(own.expected).toMatchObject({ rateLimit: 50, burstLimit: 20, credential: 'throttled', engine: 'k6' });
    const goldCheck = byId.get('throttle:GET /api/reports [plan gold]')!;
    expect(goldCheck.status, goldCheck.summary).toBe('pass');
    expect(goldCheck.expected).toMatchObject({ rateLimit: 80, burstLimit: 30, credential: 'gold' });
    expect(goldCheck.requestsSent).toBe(probe(gold!, { rate: 80, burst: 30 }, 0).length);
    // silver's key got gold's bucket: its own check fails, the others are not affected.
    const silverCheck = byId.get('throttle:GET /api/reports [plan silver]')!;
    expect(silverCheck.status, silverCheck.summary).toBe('fail');
    expect(silverCheck.summary).toMatch(/rate|burst/);
    const quota = byId.get('quota:GET /api/reports');
    expect(quota).toMatchObject({ kind: 'quota', status: 'skip', summary: expect.stringMatching(/not checked by the k6 engine.*quota/) });
    const auth = byId.get('auth:GET /api/reports');
    expect(auth).toMatchObject({ status: 'skip', summary: expect.stringContaining('not checked by the k6 engine') });
    // Every check the policy schedules has a result: none is dropped silently.
    expect(checks.map((c) => c.id).sort()).toEqual([
      'auth:GET /api/reports',
      'quota:GET /api/reports',
      'throttle:GET /api/reports',
      'throttle:GET /api/reports [plan gold]',
      'throttle:GET /api/reports [plan silver]',
    ]);
  });

  it('skips a plan whose points are missing, naming its tag', async () => {
    const run = plansRun().filter((r) => r.plan !== 'silver');
    const { checks } = await judge(plans.policy, toNdjson(run, 1));
    const silverCheck = checks.find((c) => c.id === 'throttle:GET /api/reports [plan silver]');
    expect(silverCheck).toMatchObject({ status: 'skip', summary: expect.stringContaining('plan=silver') });
    expect(checks.find((c) => c.id === 'throttle:GET /api/reports [plan gold]')?.status).toBe('pass');
  });

  it('counts k6’s dropped iterations of a plan’s own paced scenario', async () => {
    const { checks } = await judge(plans.policy, toNdjson(plansRun(), 1, { dropped: { r0_p0_throttle_paced: 7 } }));
    expect(checks.find((c) => c.id === 'throttle:GET /api/reports [plan gold]')?.observed.paced).toMatchObject({ dropped: 7 });
    expect(checks.find((c) => c.id === 'throttle:GET /api/reports')?.observed.paced).toMatchObject({ dropped: 0 });
  });

  it('through the CLI: report.json has a verdict per plan and the quota skipped (exit 1: silver fails)', async () => {
    const dir = tempDir();
    const file = writeFile(dir, 'points.ndjson', toNdjson(plansRun(), 1)[0]!);
    const out = join(dir, 'report');
    const run = await runCli(['import', 'k6', file, '--policy', POLICY_FILE, '--out', out, '--quiet']);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { checks: CheckResult[] };
    const statuses = Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
    expect(statuses).toMatchObject({
      'throttle:GET /api/reports': 'pass',
      'throttle:GET /api/reports [plan gold]': 'pass',
      'throttle:GET /api/reports [plan silver]': 'fail',
      'quota:GET /api/reports': 'skip',
    });
    expect(run.stdout).toContain('GET /api/reports (plan silver)');
  }, 60_000);
});

describe('import k6: transport errors', () => {
  const items = loadPolicyForK6(fixture('policy.yaml'), {});
  const itemsRoute = items.policy.routes[0]!;

  /** The items route's probes, with every 10th slo request refused before any answer (k6 status 0). */
  const itemsProbe = { routeIndex: 0, rate: 50, burst: 20, volley: 40, pacedRate: 100, pacedSeconds: 2, startMs: start };

  function refusedRun(): SyntheticRequest[] {
    const run = bucketRun({ route: itemsRoute.id, ...itemsProbe, slo: { rate: 20, seconds: 3, latencyMs: 40 } });
    let slo = 0;
    return run.map((r) => (r.probe === 'slo' && ++slo % 10 === 0 ? { ...r, status: 0, expected: false, latencyMs: 1 } : r));
  }

  it('decode as errors with k6’s reason, never as status 0', async () => {
    const instance = await readK6File(writeFile(tempDir(), 'points.ndjson', toNdjson(refusedRun(), 1)[0]!));
    const { observations } = decodeRecords(instance.records, items.policy);
    const refused = observations.filter((o) => o.error !== undefined);
    expect(refused).toHaveLength(6);
    for (const o of refused) {
      expect(o.status).toBeUndefined();
      expect(o.error).toBe('dial tcp 203.0.113.7:443: connect: connection refused');
      expect(o.check).toBe('slo:GET /api/items');
    }
    expect(observations.some((o) => o.status === 0)).toBe(false);
    // The totals keep k6's own view: status 0 is a row of the k6 section.
    expect(instance.statuses.get(0)).toBe(6);
  });

  it('count as transport errors in the slo, with the error as evidence', async () => {
    const { checks } = await judge(items.policy, toNdjson(refusedRun(), 2));
    const slo = checks.find((c) => c.id === 'slo:GET /api/items')!;
    expect(slo.status).toBe('fail');
    expect(slo.observed).toMatchObject({ sent: 60, ok: 54, failed: 6, transportErrors: 6 });
    const failed = slo.evidence.find((e) => e.label === 'first failed request')!;
    expect(failed.status).toBeUndefined();
    expect(failed.error).toContain('connection refused');
  });

  it('make the bucket fit an error that names the error, not status 0', async () => {
    const run = bucketRun({ route: itemsRoute.id, ...itemsProbe });
    const broken = run.map((r, i) => (i % 8 === 0 ? { ...r, status: 0, expected: false, error: 'request timeout' } : r));
    const { checks } = await judge(items.policy, toNdjson(broken, 1));
    const throttle = checks.find((c) => c.id === 'throttle:GET /api/items')!;
    expect(throttle.status).toBe('error');
    expect(throttle.summary).toContain('e.g. request timeout');
    // Every broken point is an answer that was neither accepted nor 429.
    expect(throttle.observed.unresolved).toBe(broken.filter((r) => r.status === 0).length);
  });
});
