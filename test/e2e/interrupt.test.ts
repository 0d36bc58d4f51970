/**
 * Ctrl-C during `gatecheck run`: sending stops, the reports are written for what was checked,
 * unfinished checks are `skip` (interrupted), report.json says `"interrupted": true`, exit 130
 * within 2 s. A second Ctrl-C exits at once.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayHandle } from '../../src/gateway/server.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { CLI, REPO } from '../support/cli.js';

const API_KEY = 'interrupt-key-8d41c2e95b';
const POLICY = join(REPO, 'test/fixtures/policies/reference.yaml');

interface Interrupted {
  code: number | null;
  /** Signal → exit, ms. */
  exitMs: number;
  outDir: string;
}

/** Starts a run, waits for `when` on its progress output, then sends `signals` SIGINTs 50 ms apart. */
async function interruptRun(target: string, when: RegExp, signals: number): Promise<Interrupted> {
  const outDir = mkdtempSync(join(tmpdir(), 'gatecheck-interrupt-'));
  const args = [CLI, 'run', '--policy', POLICY, '--target', target, '--out', outDir];
  const env = { PATH: process.env.PATH ?? '', CI: 'true', GATECHECK_API_KEY: API_KEY };
  const child = spawn(process.execPath, args, { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`never saw ${when}: ${stderr}`)), 60_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (when.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const signalledAt = performance.now();
  for (let i = 0; i < signals; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill('SIGINT');
  }
  const code = await exited;
  return { code, exitMs: performance.now() - signalledAt, outDir };
}

describe('Ctrl-C during a run', () => {
  let gateway: GatewayHandle;
  beforeAll(async () => {
    gateway = await startGateway({ policy: loadPolicyFile(POLICY, { env: { GATECHECK_API_KEY: API_KEY } }) });
  });
  afterAll(() => gateway?.close());

  it('mid-throttle: exit 130 within 2 s, every report written, unfinished checks skipped', async () => {
    // The throttle probe is under way (idle wait, volley, paced load) when the signal comes.
    const run = await interruptRun(gateway.url, /throttle GET \/api\/items: waiting/, 1);
    expect(run.code).toBe(130);
    expect(run.exitMs).toBeLessThan(2_000);
    for (const file of ['report.md', 'report.json', 'junit.xml']) expect(existsSync(join(run.outDir, file)), file).toBe(true);
    const report = JSON.parse(readFileSync(join(run.outDir, 'report.json'), 'utf8')) as {
      interrupted: boolean;
      checks: Array<{ kind: string; status: string; summary: string }>;
    };
    expect(report.interrupted).toBe(true);
    // What finished before the signal keeps its verdict; the rest never pass.
    expect(report.checks.find((c) => c.kind === 'auth')!.status).toBe('pass');
    const throttle = report.checks.find((c) => c.kind === 'throttle')!;
    expect(throttle.status).toBe('skip');
    expect(throttle.summary).toMatch(/interrupted/);
    expect(report.checks.find((c) => c.kind === 'quota')!.status).toBe('skip');
    expect(readFileSync(join(run.outDir, 'report.md'), 'utf8')).toMatch(/interrupted/);
  }, 90_000);

  it('a second Ctrl-C exits at once with 130', async () => {
    const run = await interruptRun(gateway.url, /waf GET \/api\/items: start/, 2);
    expect(run.code).toBe(130);
    expect(run.exitMs).toBeLessThan(2_000);
  }, 90_000);
});
