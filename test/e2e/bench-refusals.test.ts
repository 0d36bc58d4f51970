/**
 * `bench` cannot mislead (issue 13): against the reference gateway's keyed route, a run without a
 * credential ends with a loud warning and exit 3; with the policy's credential (or a --header) it
 * measures accepted answers and exits 0. The exit-3 case runs the built CLI, the others main() in
 * process; all short and slow on purpose: 5/s for 1 s.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayHandle } from '../../src/gateway/server.js';
import { parsePolicy } from '../../src/policy/load.js';
import { REPO, runCli, runMain } from '../support/cli.js';

const KEY = 'bench-test-key-0123456789';
const env = { GATECHECK_DEMO_API_KEY: KEY };
const SHORT = ['--rates', '5', '--duration', '1', '--quiet'];
let gateway: GatewayHandle;
let policyFile = '';
const dir = mkdtempSync(join(tmpdir(), 'gatecheck-bench-refusals-'));
const out = (name: string) => ['--out', join(dir, name)];

beforeAll(async () => {
  const text = readFileSync(join(REPO, 'policies/demo.yaml'), 'utf8');
  gateway = await startGateway({ policy: parsePolicy(text, 'demo.yaml', { env }) });
  // The demo policy with this gateway as its target: --policy alone must be enough.
  policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, text.replace('target: http://127.0.0.1:8080', `target: ${gateway.url}`));
});
afterAll(() => gateway.close());

describe('bench against a keyed route', () => {
  it('without a credential: a loud warning naming what came back, exit 3', async () => {
    const run = await runCli(['bench', '--target', gateway.url, '--path', '/api/items', ...SHORT, ...out('none')], env);
    expect(run.stderr).toContain('WARNING: every answer was 403: the route needs a credential? pass --policy FILE --credential NAME');
    expect(run.code).toBe(3);
    expect(run.stdout).not.toContain('Warning');
    // bench.md, for whoever reads only the CI artefact, says it too.
    expect(readFileSync(join(dir, 'none', 'bench.md'), 'utf8')).toContain(
      '**Warning: every answer was 403; the figures measure refusals.**',
    );
  });

  it('--policy without --target, the route named by its id, the credential named: accepted, exit 0', async () => {
    const args = ['bench', '--policy', policyFile, '--route', 'get /api/items', '--credential', 'main', ...SHORT, ...out('cred')];
    const run = await runMain(args, env);
    expect(run.stderr).not.toContain('WARNING');
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain(KEY);
  });

  it('--header carries a key without a policy', async () => {
    const args = ['bench', '--target', gateway.url, '--path', '/api/items', '--header', `x-api-key: ${KEY}`, ...SHORT, ...out('hdr')];
    expect((await runMain(args, env)).code).toBe(0);
  });

  it('bad --credential and --route are bad input: exit 2, nothing sent', async () => {
    const credential = await runMain(['bench', '--policy', policyFile, '--credential', 'mian', ...SHORT, ...out('bad1')], env);
    expect(credential.stderr).toContain('--credential: ');
    expect(credential.stderr).toContain('has no credential "mian"; did you mean main? (defined: main, gold, reports, iam)');
    expect(credential.code).toBe(2);
    const route = await runMain(['export', 'k6', '--policy', policyFile, '--route', 'GET /api/item', '--out', join(dir, 'k6')], env);
    expect(route.stderr).toContain('--route: no route "GET /api/item"; did you mean "GET /api/items"?');
    expect(route.code).toBe(2);
  });
});
