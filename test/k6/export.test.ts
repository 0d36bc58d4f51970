import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { assertNoSecrets, buildK6Export, ExportError, SCRIPT_FILE, type ExportInput } from '../../src/k6/export.js';
import { k6ExportHint } from '../../src/report/k6-hint.js';
import { routeTag } from '../../src/k6/names.js';
import { planK6 } from '../../src/k6/plan.js';
import { loadPolicyForK6 } from '../../src/k6/policy.js';
import { rateUnit } from '../../src/k6/script.js';
import { loadScenario } from '../../src/scenarios/scenario.js';
import { fixture, repoTempDir, tempDir, typecheckK6 } from './support.js';

const POLICY = 'test/fixtures/k6/policy.yaml';
const SECRET_KEY = 'k6-test-key-5f0c1e2d9a';
const SECRET_TOKEN = 'partner-token-77aa00bb';

function exportWith(overrides: Partial<ExportInput> = {}, env: Record<string, string> = {}) {
  const { policy, credentialEnv } = loadPolicyForK6(fixture('policy.yaml'), env);
  return buildK6Export({
    policy,
    policyFile: POLICY,
    credentialEnv,
    gatecheckVersion: '0.0.0-test',
    parallelism: 4,
    command: `gatecheck export k6 --policy ${POLICY} --parallelism 4 --out k6`,
    ...overrides,
  });
}

/** The TestRun CRD's schema, as the API server would apply it. */
function testRunValidator() {
  const crd = parse(readFileSync(fixture('k6-operator.crd.k6.io_testruns.yaml'), 'utf8')) as {
    spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: object } }> };
  };
  expect(crd.spec.versions[0]!.name).toBe('v1alpha1');
  return new Ajv({ strict: false, allErrors: true }).compile(crd.spec.versions[0]!.schema.openAPIV3Schema);
}

describe('export k6: the plan', () => {
  it('turns each throttle into a volley plus a paced phase, and each slo into a constant rate, one after another', () => {
    const { plan } = exportWith();
    expect(plan.phases.map((p) => [p.scenario, p.probe, p.phase.kind, p.startMs])).toEqual([
      ['r0_throttle_volley', 'throttle.volley', 'volley', 0],
      ['r0_throttle_paced', 'throttle.paced', 'rate', 0],
      // 2 s paced, then the bucket refills: 20/50 × 1.5 s + 200 ms.
      ['r0_slo', 'slo', 'rate', 2800],
      ['r1_throttle_volley', 'throttle.volley', 'volley', 6600],
      ['r1_throttle_paced', 'throttle.paced', 'rate', 6600],
      ['r2_slo', 'slo', 'rate', 11400],
    ]);
    const paced = plan.phases[1]!;
    // Open model: VUs for rate × expected latency (the slo's p99, ×1.5), capped at rate × timeout.
    expect(paced.phase).toMatchObject({ fromRatePerSec: 100, durationSec: 2 });
    expect(paced.preAllocatedVUs).toBe(Math.ceil(100 * 0.25 * 1.5));
    expect(paced.maxVUs).toBe(300);
    expect(plan.skipped).toEqual([{ route: 'GET /public/config', reason: expect.stringContaining('nothing to load') }]);
  });

  it('mirrors each slo as thresholds on the route’s slo requests', () => {
    expect(exportWith().plan.thresholds).toEqual({
      'http_req_duration{route:GET /api/items,probe:slo,expected_response:true}': ['p(95)<=150', 'p(99)<=250'],
      'http_req_failed{route:GET /api/items,probe:slo}': ['rate<=0.01'],
      'http_req_duration{route:GET /health,probe:slo,expected_response:true}': ['p(50)<=50'],
      'http_req_failed{route:GET /health,probe:slo}': ['rate<=0'],
    });
  });

  it('translates a scenario for each route, ramp included', () => {
    const { plan } = exportWith({ scenario: loadScenario('ramp'), routes: ['GET /api/items'] });
    expect(plan.phases).toHaveLength(1);
    expect(plan.phases[0]!).toMatchObject({
      scenario: 'r0_ramp_ramp-1',
      probe: 'ramp.ramp-1',
      phase: { fromRatePerSec: 25, toRatePerSec: 100, durationSec: 10 },
    });
  });

  it('skips routes a relative scenario cannot apply to, and says why', () => {
    const { plan, warnings } = exportWith({ scenario: loadScenario('step-ladder') });
    expect(plan.phases.map((p) => p.route.id)).toEqual(expect.arrayContaining(['GET /api/items', 'POST /partner/orders']));
    expect(warnings.join('\n')).toMatch(/GET \/health not exported: .*no throttle.rateLimit/);
  });

  it('refuses to export nothing', () => {
    expect(() => exportWith({ routes: ['GET /public/config'] })).toThrow(ExportError);
  });

  it('writes fractional rates over a longer time unit', () => {
    expect(rateUnit([25]).timeUnit).toBe('1s');
    const unit = rateUnit([12.5, 25]);
    expect([unit.timeUnit, unit.rate(12.5), unit.rate(25)]).toEqual(['10s', 125, 250]);
    expect(rateUnit([1 / 3]).timeUnit).toBe('1000s');
  });

  it('keeps route tags parseable in k6 submetric selectors', () => {
    expect(routeTag({ id: 'GET /api/items' })).toBe('GET /api/items');
    expect(routeTag({ id: 'GET /a,b/{id}' })).toBe('GET /a_b/_id_');
  });
});

describe('export k6: the files', () => {
  it('script and manifests match their snapshots', async () => {
    const { files } = exportWith();
    for (const name of [SCRIPT_FILE, 'testrun.yaml', 'configmap.yaml', 'results-pvc.yaml', 'results-reader.yaml', 'README.md']) {
      await expect(files[name]).toMatchFileSnapshot(`__snapshots__/policy-export/${name}`);
    }
    await expect(exportWith({ scenario: loadScenario('step-ladder'), parallelism: 1 }).files[SCRIPT_FILE]).toMatchFileSnapshot(
      '__snapshots__/step-ladder.gatecheck.js',
    );
  });

  it('generated scripts type-check against @types/k6', () => {
    const dir = repoTempDir('k6-typecheck');
    const scripts: Record<string, string> = {
      'policy.js': exportWith().files[SCRIPT_FILE]!,
      'ramp.js': exportWith({ scenario: loadScenario('ramp') }).files[SCRIPT_FILE]!,
      'step-ladder.js': exportWith({ scenario: loadScenario('step-ladder') }).files[SCRIPT_FILE]!,
      'throttle-probe.js': exportWith({ scenario: loadScenario('throttle-probe') }).files[SCRIPT_FILE]!,
    };
    for (const [name, text] of Object.entries(scripts)) writeFileSync(join(dir, name), text);
    // A deliberate mistake must be caught, or the check proves nothing.
    writeFileSync(join(dir, 'broken.js'), scripts['policy.js']!.replace('preAllocatedVUs:', 'preAllocatedVU:'));
    expect(() => typecheckK6(dir, ['broken.js'])).toThrow(/preAllocatedVU/);
    expect(typecheckK6(dir, Object.keys(scripts))).toBe('');
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('manifests validate against the TestRun CRD’s OpenAPI schema', () => {
    const validate = testRunValidator();
    const { files } = exportWith({ namespace: 'load', image: 'grafana/k6:1.2.0', separate: true, storageClass: 'efs' });
    const testRun = parse(files['testrun.yaml']!) as { apiVersion: string; kind: string; spec: Record<string, unknown> };
    expect([testRun.apiVersion, testRun.kind]).toEqual(['k6.io/v1alpha1', 'TestRun']);
    expect(validate(testRun), JSON.stringify(validate.errors)).toBe(true);
    expect(testRun.spec).toMatchObject({
      parallelism: 4,
      separate: true,
      script: { configMap: { name: 'gatecheck-policy-script', file: SCRIPT_FILE } },
    });
    // The validator is real: the operator's own samples pass, a wrong type does not.
    for (const sample of [
      'k6-operator.sample.testrun.yaml',
      'k6-operator.sample.testrun_with_args.yaml',
      'k6-operator.e2e.basic-testrun-4.testrun.yaml',
    ]) {
      expect(validate(parse(readFileSync(fixture(sample), 'utf8'))), sample).toBe(true);
    }
    expect(validate({ ...testRun, spec: { ...testRun.spec, parallelism: 'four' } })).toBe(false);
    expect(validate({ ...testRun, spec: { ...testRun.spec, runner: { env: [{ value: 'no name' }] } } })).toBe(false);

    const configMap = parse(files['configmap.yaml']!) as {
      kind: string;
      metadata: { name: string; namespace: string };
      data: Record<string, string>;
    };
    expect(configMap.kind).toBe('ConfigMap');
    expect(configMap.metadata).toMatchObject({ name: 'gatecheck-policy-script', namespace: 'load' });
    expect(configMap.data[SCRIPT_FILE]).toBe(files[SCRIPT_FILE]);
    for (const name of ['results-pvc.yaml', 'results-reader.yaml'])
      expect(parseAllDocuments(files[name]!).every((d) => d.errors.length === 0)).toBe(true);
  });

  it('reads credentials from a Secret reference and the environment, never inline', () => {
    const { files } = exportWith();
    const env = (parse(files['testrun.yaml']!) as { spec: { runner: { env: Array<Record<string, unknown>> } } }).spec.runner.env;
    expect(env.find((e) => e.name === 'GATECHECK_K6_TEST_KEY')).toEqual({
      name: 'GATECHECK_K6_TEST_KEY',
      valueFrom: { secretKeyRef: { name: 'gatecheck-policy-credentials', key: 'GATECHECK_K6_TEST_KEY' } },
    });
    expect(env.find((e) => e.name === 'GATECHECK_K6_PARTNER_TOKEN')).toMatchObject({
      valueFrom: { secretKeyRef: { key: 'GATECHECK_K6_PARTNER_TOKEN' } },
    });
    expect(env.find((e) => e.name === 'K6_OUT')).toEqual({ name: 'K6_OUT', value: 'json=/results/$(POD_NAME).ndjson.gz' });
    expect(files[SCRIPT_FILE]).toContain('main: ["x-api-key", "GATECHECK_K6_TEST_KEY", ""]');
    expect(files[SCRIPT_FILE]).toContain('partner: ["authorization", "GATECHECK_K6_PARTNER_TOKEN", "Bearer"]');
  });
});

describe('export k6: secrets', () => {
  it('never writes a credential value, even when it is set in the environment', () => {
    const { files } = exportWith({}, { GATECHECK_K6_TEST_KEY: SECRET_KEY, GATECHECK_K6_PARTNER_TOKEN: SECRET_TOKEN });
    const all = Object.values(files).join('\n');
    for (const secret of [SECRET_KEY, SECRET_TOKEN, Buffer.from(SECRET_KEY).toString('base64')]) expect(all).not.toContain(secret);
  });

  it('reads a literal credential from an invented variable instead of copying it', () => {
    const dir = tempDir();
    const file = join(dir, 'literal.yaml');
    writeFileSync(file, readFileSync(fixture('policy.yaml'), 'utf8').replace('"${GATECHECK_K6_TEST_KEY}"', '"literal-secret-0042"'));
    const { policy, credentialEnv } = loadPolicyForK6(file, {});
    const built = buildK6Export({
      policy,
      policyFile: 'literal.yaml',
      credentialEnv,
      gatecheckVersion: 'test',
      parallelism: 1,
      command: 'test',
    });
    expect(Object.values(built.files).join('\n')).not.toContain('literal-secret-0042');
    expect(built.files[SCRIPT_FILE]).toContain('GATECHECK_CREDENTIAL_MAIN');
    expect(built.warnings.join('\n')).toMatch(/credential "main" is not written as \$\{NAME\}.*GATECHECK_CREDENTIAL_MAIN/);
  });

  it('fails closed if a secret would reach a file', () => {
    const { policy } = loadPolicyForK6(fixture('policy.yaml'), { GATECHECK_K6_TEST_KEY: SECRET_KEY });
    expect(() => assertNoSecrets({ 'x.js': `const k = "${SECRET_KEY}";` }, policy)).toThrow(/credential "main"/);
    expect(() => assertNoSecrets({ 'x.yaml': `v: ${Buffer.from(SECRET_KEY).toString('base64')}` }, policy)).toThrow(ExportError);
  });
});

describe('k6ExportHint', () => {
  it('sizes the pods from the rate one machine reached', () => {
    const hint = k6ExportHint('policies/api.yaml', { id: 'GET /api/items' }, { neededRatePerSec: 20_000, offeredRatePerSec: 4_000 });
    expect(hint.parallelism).toBe(7);
    expect(hint.command).toBe(
      "gatecheck export k6 --policy policies/api.yaml --route 'GET /api/items' --parallelism 7 --out k6-get-api-items",
    );
    expect(hint.text).toContain('kubectl apply -f k6-get-api-items');
  });

  it('at least doubles the pods of a k6 run that was itself client-bound', () => {
    expect(k6ExportHint('p.yaml', 'GET /x', { neededRatePerSec: 1000, offeredRatePerSec: 900, currentParallelism: 3 }).parallelism).toBe(6);
  });
});

describe('planK6 thresholds stay in step with the importer', () => {
  it('uses the exact selector strings the importer looks up', () => {
    const { policy } = loadPolicyForK6(fixture('policy.yaml'), {});
    expect(Object.keys(planK6(policy.routes, { requestTimeoutMs: 3000 }).thresholds)).toContain(
      'http_req_failed{route:GET /api/items,probe:slo}',
    );
  });
});
