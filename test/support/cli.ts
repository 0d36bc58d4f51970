import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertValidReports } from './report-schema.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(REPO, 'bin', 'gatecheck.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  outDir: string;
  /** report.json, when one was written. */
  report?: {
    verdict: string;
    checks: Array<{ kind: string; route: string; status: string; summary: string; observed: Record<string, unknown>; evidence: unknown[] }>;
  };
}

/** Runs the built CLI (`npm test` compiles first) as a user would, in a child process. */
export async function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<CliRun> {
  const outDir = mkdtempSync(join(tmpdir(), 'gatecheck-e2e-'));
  const withOut = ['run', 'demo', 'judge'].includes(args[0] ?? '') && !args.includes('--out') ? [...args, '--out', outDir] : args;
  const child = spawn(process.execPath, [CLI, ...withOut], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', CI: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  clearTimeout(timer);
  const report = readIfPresent(join(outDir, 'report.json')) as CliRun['report'];
  // Every report a test makes is checked against the published schemas: report.json's and SARIF 2.1.0.
  assertValidReports({ json: report, sarif: readIfPresent(join(outDir, 'report.sarif')) }, `gatecheck ${args.join(' ')}`);
  return { code, stdout, stderr, outDir, ...(report ? { report } : {}) };
}

/**
 * The file parsed as JSON; undefined when there is none (a run that wrote no report) or it is cut short
 * (a second Ctrl-C ends the process at once, possibly while the reports are being written).
 */
function readIfPresent(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** "kind=status" per check, sorted: one string that shows the whole verdict matrix in a failure message. */
export function statusMatrix(run: CliRun): string[] {
  return (run.report?.checks ?? []).map((c) => `${c.kind}=${c.status}`).sort();
}

/**
 * main() in-process with its own streams (no Node start-up, ~2 s each under load): for command
 * lines whose test is about gatecheck's answer, not about the process. Not a terminal: yargs
 * wraps help at its default width, as when piped or in CI. `cwd` is where relative output paths land.
 */
export async function runMain(
  args: string[],
  env: Record<string, string> = {},
  cwd = REPO,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { PassThrough } = await import('node:stream');
  const { main } = await import('../../src/cli/main.js');
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const io = { stdout, stderr, env, interactive: false, cwd, stopSignal: () => new Promise<void>(() => {}) };
  const code = await main(args, io);
  return { code, stdout: out, stderr: err };
}
