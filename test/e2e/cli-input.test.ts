/**
 * Bad input: exit 2, a message that names the field or flag, and not one request sent.
 * Faults in the target: exit 3 with the report still written.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli } from '../support/cli.js';
import { startCountingServer, type CountingServer } from '../support/counting-server.js';

/** Any request reaching it is a failure here: bad input must send nothing. */
let server: CountingServer;
let target = '';
beforeAll(async () => {
  server = await startCountingServer();
  target = server.url;
});
afterAll(() => server.close());

function policyFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gatecheck-bad-')), 'p.yaml');
  writeFileSync(file, text);
  return file;
}

/** A policy without credentials: one route with what `route` adds. */
const bare = (route: string) => `version: 1\nroutes:\n  - method: GET\n    path: /x\n${route}`;

function existingFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gatecheck-out-')), 'not-a-dir');
  writeFileSync(file, 'x');
  return file;
}

const base = (route: string) =>
  `version: 1\ncredentials:\n  main: { value: "\${GATECHECK_API_KEY}" }\nroutes:\n  - method: GET\n    path: /x\n${route}`;

describe('bad input', () => {
  it.each([
    [
      'rate of 0',
      ['run', '--policy', policyFile(base('    throttle: { rateLimit: 0, burstLimit: 5 }\n'))],
      'routes[0].throttle.rateLimit: must be > 0',
    ],
    [
      'unknown credential',
      ['run', '--policy', policyFile(base('    auth: { required: true, credential: nope }\n'))],
      'routes[0].auth.credential: credential "nope" is not defined',
    ],
    [
      'unknown key',
      ['run', '--policy', policyFile(base('    thrott1e: {}\n'))],
      'routes[0].thrott1e: unknown key: did you mean `throttle`?',
    ],
    [
      'missing env var',
      ['run', '--policy', policyFile(base('    auth: { required: true, credential: main }\n'))],
      'environment variable GATECHECK_API_KEY is not set',
    ],
    ['missing file', ['run', '--policy', '/nonexistent/policy.yaml'], 'cannot read the file'],
    [
      'bad --target',
      ['run', '--policy', join(REPO, 'policies/demo.yaml'), '--target', 'ftp://x'],
      '--target: must be an http:// or https:// URL',
    ],
    ['bad --only', ['run', '--policy', join(REPO, 'policies/demo.yaml'), '--only', 'auth,bogus'], '--only: unknown check kind "bogus"'],
    [
      'bad --max-requests',
      ['run', '--policy', join(REPO, 'policies/demo.yaml'), '--max-requests', '0'],
      '--max-requests: must be a whole number',
    ],
    ['unknown flag', ['run', '--policy', join(REPO, 'policies/demo.yaml'), '--targett', 'x'], 'Unknown argument'],
    ['unknown fault', ['demo', '--fault', 'nope'], '--fault: unknown fault "nope"'],
    ['no command', [], 'Name a command'],
    [
      '--only a kind the policy lacks',
      ['run', '--policy', policyFile(bare('    throttle: { rateLimit: 5, burstLimit: 5 }\n')), '--only', 'waf'],
      '--only: the policy has no "waf" check; it has throttle',
    ],
    ['--out is a file', ['run', '--policy', join(REPO, 'policies/demo.yaml'), '--out', existingFile()], '--out: cannot write reports to'],
  ])('%s: exit 2, names it, sends nothing', async (_name, args, message) => {
    const before = server.hits();
    const argsWithTarget = args[0] === 'run' && !args.includes('--target') ? [...args, '--target', target] : args;
    const run = await runCli(argsWithTarget, args.includes('demo') ? {} : { GATECHECK_DEMO_API_KEY: 'k'.repeat(20) });
    expect(run.stderr).toContain(message);
    expect(run.code).toBe(2);
    expect(server.hits()).toBe(before);
    expect(run.report).toBeUndefined();
  });

  it('validate: exit 0 on a good policy, 2 with every problem on a bad one', async () => {
    const good = await runCli(['validate', '--policy', join(REPO, 'policies/demo.yaml')], { GATECHECK_DEMO_API_KEY: 'x'.repeat(20) });
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('valid');
    const bad = await runCli([
      'validate',
      '--policy',
      policyFile(base('    throttle: { rateLimit: 0, burstLimit: 1.5 }\n    method2: 1\n')),
    ]);
    expect(bad.code).toBe(2);
    // The unset GATECHECK_API_KEY is named beside the three schema problems: one run lists them all.
    expect(bad.stderr).toContain('4 problems');
    expect(bad.stderr).toContain('environment variable GATECHECK_API_KEY is not set');
  });

  it('a policy with no checks: validate warns, run sends nothing it could judge and exits 3 saying why', async () => {
    const file = policyFile(bare(''));
    const validate = await runCli(['validate', '--policy', file]);
    expect(validate.code).toBe(0);
    expect(validate.stderr).toContain('asks for no checks');
    const run = await runCli(['run', '--policy', file, '--target', target]);
    expect(run.code).toBe(3);
    expect((run.report as unknown as { abortReason: string }).abortReason).toMatch(/no check ran/);
  });

  it('--help on every command shows an example', async () => {
    for (const command of ['run', 'validate', 'demo', 'serve']) {
      const help = await runCli([command, '--help']);
      expect(help.code, command).toBe(0);
      expect(help.stdout, command).toContain('Examples:');
    }
  });
});

describe('a target that is down', () => {
  it('gives error (exit 3), never pass, and still writes the report', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const run = await runCli(['run', '--policy', join(REPO, 'policies/demo.yaml'), '--target', `http://127.0.0.1:${port}`], {
      GATECHECK_DEMO_API_KEY: 'k'.repeat(20),
    });
    expect(run.code).toBe(3);
    expect(run.report!.verdict).toBe('error');
    expect(run.report!.checks.length).toBeGreaterThan(0);
    expect(run.report!.checks.every((c) => c.status === 'error')).toBe(true);
    expect(run.report!.checks[0]!.summary).toMatch(/unreachable: ECONNREFUSED/);
  });
});
