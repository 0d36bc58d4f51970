/**
 * A target that points past the routes (a wrong base path, the wrong scheme) must never be judged
 * as a CORS refusal or an auth bypass: every check of every route is `error`, naming the URL
 * actually sent, no load is sent, exit 3. Against real nginx, which answers 404 for an unknown
 * path, 400 for plain HTTP on its HTTPS port, and plain HTTP to a TLS handshake on its HTTP port.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxAvailable, nginxPolicyYaml, startNginx, type RunningNginx } from '../support/nginx.js';
import { runCli } from '../support/cli.js';

const API_KEY = 'reach-e2e-key-5c2e8f10';
const skip = !nginxAvailable() && !process.env.CI;

describe.skipIf(skip)('reachability before verdicts (real nginx)', () => {
  let nginx: RunningNginx;
  let policyFile: string;

  beforeAll(async () => {
    nginx = await startNginx({ variant: 'correct', apiKey: API_KEY, tls: true });
    policyFile = join(mkdtempSync(join(tmpdir(), 'gatecheck-reach-')), 'policy.yaml');
    writeFileSync(policyFile, nginxPolicyYaml());
  }, 30_000);
  afterAll(async () => {
    await nginx?.stop();
  });

  async function run(target: string) {
    return runCli(['run', '--policy', policyFile, '--target', target], { GATECHECK_API_KEY: API_KEY });
  }

  function expectNotReached(result: Awaited<ReturnType<typeof run>>, reason: RegExp) {
    const checks = result.report!.checks;
    expect(checks.length).toBeGreaterThan(0);
    for (const check of checks) {
      expect(check.status, `${check.kind} ${check.route}: ${check.summary}`).toBe('error');
      expect(check.summary).toMatch(/route not reached/);
      expect(check.summary).toMatch(reason);
    }
    // The control requests only: one per route (two routes), no throttle volley, no WAF corpus.
    expect((result.report as unknown as { requestsSent: number }).requestsSent).toBeLessThanOrEqual(2);
    expect(result.code).toBe(3);
  }

  it('a wrong base path: error naming the URL sent, no load', async () => {
    const result = await run(`${nginx.url}/api`);
    expectNotReached(result, /404/);
    const throttle = result.report!.checks.find((c) => c.kind === 'throttle')!;
    expect(throttle.summary).toContain(`GET ${nginx.url}/api/api/items`);
  }, 60_000);

  it('plain HTTP to the HTTPS port: error saying to use https://, no load', async () => {
    const result = await run(`http://127.0.0.1:${nginx.tlsPort}`);
    expectNotReached(result, /https:\/\//);
  }, 60_000);

  it('HTTPS to the plain HTTP port: error saying the port does not answer TLS, no load', async () => {
    const result = await run(`https://127.0.0.1:${nginx.port}`);
    expectNotReached(result, /did not answer TLS|does not speak TLS/);
  }, 60_000);

  it('the right target is reached and every check runs', async () => {
    const result = await run(nginx.url);
    expect(result.report!.checks.every((c) => !/route not reached/.test(c.summary))).toBe(true);
    expect(result.stderr).toMatch(/reached \(http:\/\/127\.0\.0\.1:\d+\/api\/items → 200\)/);
  }, 120_000);
});
