/**
 * Faults a real network has, end to end through the built CLI against scripted doubles on
 * loopback: a body that drips past the request timeout, a reset mid-body, a self-signed
 * certificate, http and https mixed up, a name that does not resolve, redirects. None may pass:
 * every check is error or inconclusive with a reason that names the fault, the exit code is 3,
 * and report.md, report.json and junit.xml are still written. Then --ca and --insecure.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.js';
import { after, drip, keyed, redirect, resetMidBody, selfSignedCertificate, startScriptedServer } from '../support/scripted-server.js';
import type { Behaviour, Certificate, ScriptedServer } from '../support/scripted-server.js';

const API_KEY = 'netfaults-key-8d1f0c3b9a7e4d26';
const env = { GATECHECK_API_KEY: API_KEY };
/** The gateway a test wants: the key opens the route, anything else gets 403. */
const healthy = keyed('x-api-key', API_KEY);

/** One route with an auth check: a few dozen requests, each given 500 ms. */
function policyFile(vendor: 'plain' | 'aws-rest'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gatecheck-netfaults-')), 'policy.yaml');
  writeFileSync(
    file,
    `version: 1
vendor: ${vendor}
limits: { maxRequests: 80, maxDurationSec: 20, requestTimeoutMs: 500 }
credentials:
  main: { value: "\${GATECHECK_API_KEY}" }
routes:
  - method: GET
    path: /items
    auth: { required: true, credential: main }
`,
  );
  return file;
}

const servers: ScriptedServer[] = [];
async function serve(behaviour: Behaviour, tls?: Certificate): Promise<ScriptedServer> {
  const server = await startScriptedServer(behaviour, tls);
  servers.push(server);
  return server;
}
afterAll(() => Promise.all(servers.map((s) => s.close())));

function run(target: string, vendor: 'plain' | 'aws-rest' = 'plain', extra: string[] = []): Promise<CliRun> {
  return runCli(['run', '--policy', policyFile(vendor), '--target', target, ...extra], env, 30_000);
}

/** Not verified, said why, exit 3, every report written: fails if any check passed. */
function expectUnverified(result: CliRun, reason: RegExp): void {
  expect(result.report, result.stderr).toBeDefined();
  const checks = result.report!.checks;
  expect(checks.length).toBeGreaterThan(0);
  expect(checks.filter((c) => c.status === 'pass').map((c) => c.summary)).toEqual([]);
  for (const check of checks) expect(['error', 'inconclusive'], check.summary).toContain(check.status);
  expect(checks.map((c) => c.summary).join('\n')).toMatch(reason);
  expect(result.report!.verdict).toBe('error');
  expect(result.code).toBe(3);
  for (const file of ['report.md', 'report.json', 'junit.xml']) expect(existsSync(join(result.outDir, file)), file).toBe(true);
  expect(readFileSync(join(result.outDir, 'report.md'), 'utf8')).toMatch(reason);
}

describe('faults a real network has: never pass, exit 3, reports written', () => {
  let cert: Certificate;
  beforeAll(() => {
    cert = selfSignedCertificate();
  });

  it('slow drip: headers, then a body that never completes within requestTimeoutMs', async () => {
    const server = await serve(drip(100));
    expectUnverified(await run(server.url), /timeout mid-body: a 200 head, then the body was not complete within 500 ms/);
  });

  it('reset mid-body: a head, then the socket is destroyed (after one whole answer)', async () => {
    const server = await serve(after(1, healthy, resetMidBody));
    const result = await run(server.url);
    expectUnverified(result, /positive control failed: the valid credential got ECONNRESET mid-body: a 200 head/);
    expect(server.hits()).toBeLessThan(5);
  });

  it('TLS with a self-signed certificate: named, with the flags that get past it', async () => {
    const server = await serve(healthy, cert);
    expectUnverified(
      await run(server.url),
      /tls: self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\); pass --ca FILE to trust it, or --insecure/,
    );
    expect(server.hits()).toBe(0);
  });

  it('http:// spoken to an HTTPS port', async () => {
    const server = await serve(healthy, cert);
    expectUnverified(await run(`http://127.0.0.1:${server.port}`), /tls: the target answered TLS on an http:\/\/ URL; use https:\/\//);
  });

  it('https:// spoken to an HTTP port', async () => {
    const server = await serve(healthy);
    expectUnverified(
      await run(`https://127.0.0.1:${server.port}`),
      /tls: the target did not answer TLS on an https:\/\/ URL \(ERR_SSL_\w+\)/,
    );
  });

  it('a name that does not resolve (.invalid never does)', async () => {
    expectUnverified(await run('http://gatecheck-no-such-host.invalid:80'), /unreachable: ENOTFOUND gatecheck-no-such-host\.invalid/);
  });

  it('redirect of the valid credential: recorded, not followed, not reached', async () => {
    const server = await serve(redirect('/login'));
    const result = await run(server.url);
    // The route's control request sees the redirect first: nothing of the route is judged.
    expectUnverified(
      result,
      /route not reached: GET http:\/\/127\.0\.0\.1:\d+\/\S* → 302 redirect to \/login \(redirects are not followed/,
    );
    expect(server.hits()).toBeLessThan(5);
  });

  it('aws-rest: a 302 to a login page is not an auth refusal (unresolved), and the evidence shows where it pointed', async () => {
    const server = await serve(keyed('x-api-key', API_KEY, redirect('/login')));
    const result = await run(server.url, 'aws-rest');
    expectUnverified(
      result,
      /could not observe: no credential → 302 redirect to \/login, not followed; .*\(redirects: aws-rest refuses with 401\/403/,
    );
    const evidence = result.report!.checks[0]!.evidence as Array<{ responseHeaders: Record<string, string> }>;
    expect(evidence.some((e) => e.responseHeaders.location === '/login')).toBe(true);
  });
});

describe('redirects and trust that do verify', () => {
  let cert: Certificate;
  beforeAll(() => {
    cert = selfSignedCertificate();
  });

  it('plain: a 302 to a login page is a refusal, so the auth check passes', async () => {
    const server = await serve(keyed('x-api-key', API_KEY, redirect('/login')));
    const result = await run(server.url, 'plain');
    expect(
      result.report!.checks.map((c) => `${c.kind}=${c.status}`),
      result.report!.checks[0]?.summary,
    ).toEqual(['auth=pass']);
    expect(result.code).toBe(0);
  });

  it('--ca FILE trusts the self-signed certificate, and the report names the file', async () => {
    const server = await serve(healthy, cert);
    const result = await run(server.url, 'plain', ['--ca', cert.certFile]);
    expect(
      result.report!.checks.map((c) => `${c.kind}=${c.status}`),
      result.report!.checks[0]?.summary,
    ).toEqual(['auth=pass']);
    expect(result.code).toBe(0);
    expect((result.report as unknown as { tls: unknown }).tls).toEqual({ insecure: false, caFile: cert.certFile });
    expect(readFileSync(join(result.outDir, 'report.md'), 'utf8')).toContain(
      `also trusting the CA certificates in \`${cert.certFile}\` (--ca)`,
    );
  });

  it('--insecure skips verification, and the report says so', async () => {
    const server = await serve(healthy, cert);
    const result = await run(server.url, 'plain', ['--insecure']);
    expect(result.code).toBe(0);
    expect((result.report as unknown as { tls: unknown }).tls).toEqual({ insecure: true });
    expect(readFileSync(join(result.outDir, 'report.md'), 'utf8')).toContain('certificate verification **off** (--insecure)');
  });

  it.each([
    ['a missing --ca file', ['--ca', '/nonexistent/ca.pem'], '--ca: cannot read /nonexistent/ca.pem (ENOENT)'],
    ['a --ca file that is not PEM', ['--ca', 'package.json'], '--ca: package.json holds no PEM certificate'],
    ['--ca with --insecure', ['--ca', 'package.json', '--insecure'], '--ca and --insecure: choose one'],
    ['--insecure with --engine k6', ['--insecure', '--engine', 'k6'], '--ca and --insecure apply to the paced engine'],
  ])('%s is bad input: exit 2, names the flag, sends nothing', async (_name, flags, message) => {
    // Plain HTTP, so that any request at all would be counted.
    const server = await serve(healthy);
    const result = await run(server.url, 'plain', flags);
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(2);
    expect(result.report).toBeUndefined();
    expect(server.hits()).toBe(0);
  });
});
