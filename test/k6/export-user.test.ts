/**
 * The export as a k6 user meets it: k6's own end-of-test summary kept on stdout, the policy's
 * headers and gatecheck's User-Agent on every request (secrets read from the environment), a
 * warning where a loopback target would go to pods, and usage plans exported per key. The
 * script is run here with stand-ins for k6's modules (k6 itself is not installed in CI).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildK6Export, isLoopbackUrl, SCRIPT_FILE } from '../../src/k6/export.js';
import { loadPolicyForK6 } from '../../src/k6/policy.js';
import { K6_SUMMARY_JSLIB } from '../../src/k6/script.js';
import { fixture, tempDir } from './support.js';

const TENANT = 'tenant-secret-4411';

function exportOf(yaml: string, env: Record<string, string> = {}) {
  const file = join(tempDir(), 'policy.yaml');
  writeFileSync(file, yaml);
  const { policy, credentialEnv, headerTemplates } = loadPolicyForK6(file, env);
  return buildK6Export({
    policy,
    policyFile: 'policy.yaml',
    credentialEnv,
    headerTemplates,
    gatecheckVersion: '9.9.9',
    parallelism: 2,
    command: 'gatecheck export k6',
  });
}

const PLANS = (target: string) => `
version: 1
target: ${target}
headers: { X-Tenant: "\${TENANT}", X-Team: core }
credentials:
  gold: { value: "\${GOLD_KEY}" }
  silver: { value: "\${SILVER_KEY}" }
routes:
  - method: GET
    path: /api/reports
    headers: { Host: reports.example.com }
    usagePlans:
      - { name: gold, credential: gold, rateLimit: 20, burstLimit: 5 }
      - { name: silver, credential: silver, rateLimit: 5, burstLimit: 2 }
`;

interface Loaded {
  options: { userAgent: string };
  probe: () => void;
  handleSummary: (data: unknown) => Record<string, string>;
}

/** Evaluates the generated script with stand-ins for k6/http, k6/execution and the k6-summary jslib. */
function loadScript(script: string, env: Record<string, string>, scenarioName = '') {
  const requests: Array<{ method: string; url: string; params: { headers: Record<string, string> } }> = [];
  const aborted: string[] = [];
  const body = script
    .replace(/^import .*$/gm, '')
    .replace(/^export (const|function) /gm, '$1 ')
    .concat('\nreturn { options, probe, handleSummary };');
  const http = {
    request: (method: string, url: string, _body: unknown, params: { headers: Record<string, string> }) =>
      requests.push({ method, url, params }),
    expectedStatuses: (...statuses: unknown[]) => ({ statuses }),
  };
  const execution = { scenario: { name: scenarioName }, test: { abort: (why: string) => aborted.push(why) } };
  const textSummary = (data: { metrics: object }, opts: { indent: string; enableColors: boolean }) =>
    `K6 TEXT SUMMARY (${Object.keys(data.metrics).length} metrics, colours ${opts.enableColors})`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- running the generated script is the test
  const make = new Function('http', 'scenario', 'test', 'textSummary', '__ENV', body) as (...args: unknown[]) => Loaded;
  return { script: make(http, execution.scenario, execution.test, textSummary, env), requests, aborted };
}

describe('export k6 for a k6 user', () => {
  it('handleSummary keeps k6’s own text summary on stdout, gatecheck’s verdicts under it, the JSON in its file', () => {
    const { files } = exportOf(PLANS('https://api.example.com'));
    const script = files[SCRIPT_FILE]!;
    expect(script).toContain(`import { textSummary } from '${K6_SUMMARY_JSLIB}';`);
    expect(K6_SUMMARY_JSLIB).toBe('https://jslib.k6.io/k6-summary/0.1.0/index.js');
    const data = JSON.parse(readFileSync(fixture('handle-summary-data.quality-time.json'), 'utf8')) as object;
    const env = { GATECHECK_SUMMARY_FILE: '/results/pod.summary.json' };
    const out = loadScript(script, env).script.handleSummary(data);
    expect(Object.keys(out).sort()).toEqual(['/results/pod.summary.json', 'stdout']);
    const stdout = out.stdout!;
    expect(stdout.startsWith('K6 TEXT SUMMARY (')).toBe(true);
    // isStdOutTTY is false in that CI dump: no colour codes in a log file.
    expect(stdout).toContain('colours false');
    expect(stdout).toContain('\ngatecheck: k6 run finished\n');
    expect(stdout).toContain('\n  FAILED http_req_duration: p(98)<200\n');
    expect(stdout).toContain('\n  ok     http_req_failed: rate<0.01\n');
    expect(JSON.parse(out['/results/pod.summary.json']!)).toEqual(data);
  });

  it('every request carries gatecheck’s User-Agent (k6 option) and the policy headers, read from the environment', () => {
    const { files } = exportOf(PLANS('https://api.example.com'), { TENANT });
    const script = files[SCRIPT_FILE]!;
    expect(script).not.toContain(TENANT);
    expect(script).toContain('"x-tenant": "${TENANT}"');
    const run = loadScript(script, { TENANT, GOLD_KEY: 'gold-key-1', SILVER_KEY: 'silver-key-2' }, 'r0_p1_throttle_paced');
    expect(run.script.options.userAgent).toBe('gatecheck/9.9.9');
    run.script.probe();
    expect(run.aborted).toEqual([]);
    expect(run.requests).toEqual([
      {
        method: 'GET',
        url: 'https://api.example.com/api/reports',
        params: expect.objectContaining({
          headers: { 'x-tenant': TENANT, 'x-team': 'core', host: 'reports.example.com', 'x-api-key': 'silver-key-2' },
        }) as unknown,
      },
    ]);
    // An unset variable stops the test, as an unset credential does.
    const unset = loadScript(script, { GOLD_KEY: 'g', SILVER_KEY: 's' }, 'r0_p0_throttle_volley');
    unset.script.probe();
    expect(unset.aborted).toEqual(['gatecheck: header x-tenant reads the environment variable TENANT, which is not set']);
    // The pods get the variable from the Secret, like the credentials.
    const testRun = parse(files['testrun.yaml']!) as { spec: { runner: { env: Array<{ name: string; valueFrom?: unknown }> } } };
    expect(testRun.spec.runner.env.find((e) => e.name === 'TENANT')).toMatchObject({ valueFrom: { secretKeyRef: { key: 'TENANT' } } });
    expect(files['README.md']).toContain("export TENANT=...   # read by the policy's headers");
  });

  it('a route with usagePlans exports its per-key probes, tagged with the plan', () => {
    const { plan, warnings } = exportOf(PLANS('https://api.example.com'));
    expect(plan.skipped).toEqual([]);
    expect(warnings).toEqual([]);
    expect(plan.phases.map((p) => [p.scenario, p.probe, p.credential, p.plan])).toEqual([
      ['r0_p0_throttle_volley', 'throttle.volley', 'gold', 'gold'],
      ['r0_p0_throttle_paced', 'throttle.paced', 'gold', 'gold'],
      ['r0_p1_throttle_volley', 'throttle.volley', 'silver', 'silver'],
      ['r0_p1_throttle_paced', 'throttle.paced', 'silver', 'silver'],
    ]);
  });

  it('a loopback target: a warning, and a comment beside GATECHECK_TARGET in testrun.yaml', () => {
    const { files, warnings } = exportOf(PLANS('http://127.0.0.1:8080'));
    expect(warnings).toEqual([
      'the target http://127.0.0.1:8080 is a loopback address: a pod cannot reach 127.0.0.1 on your laptop (pass --target URL)',
    ]);
    const testRun = files['testrun.yaml']!;
    const comment = '      # WARNING: a pod cannot reach 127.0.0.1 on your laptop: set GATECHECK_TARGET to an address the cluster reaches';
    expect(testRun).toContain(`\n${comment}\n      - name: GATECHECK_TARGET\n`);
    // Still valid YAML with the same content.
    expect(parse(testRun)).toEqual(parse(exportOf(PLANS('http://127.0.0.1:8080')).files['testrun.yaml']!.replace(/^ *# WARNING.*\n/m, '')));
    expect(exportOf(PLANS('https://api.example.com')).files['testrun.yaml']).not.toContain('WARNING');
  });

  it.each([
    ['http://127.0.0.1:8080', true],
    ['http://127.1.2.3', true],
    ['http://localhost:3000/prod', true],
    ['http://api.localhost', true],
    ['http://[::1]:8080', true],
    ['http://0.0.0.0:80', true],
    ['https://api.example.com', false],
    ['http://10.0.0.5', false],
    ['http://[2001:db8::1]', false],
  ])('isLoopbackUrl(%s) = %s', (url, loopback) => {
    expect(isLoopbackUrl(url)).toBe(loopback);
  });

  it('the fixture policy still exports without warnings about loopback', () => {
    const { policy, credentialEnv } = loadPolicyForK6(fixture('policy.yaml'), {});
    const built = buildK6Export({ policy, policyFile: 'p.yaml', credentialEnv, gatecheckVersion: '1', parallelism: 1, command: 'x' });
    expect(built.warnings.some((w) => w.includes('loopback'))).toBe(false);
  });
});
