import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';

/** The CLI in this process (no Node start-up per call): exit code, stdout and stderr. */
export async function runMain(
  args: string[],
  env: Record<string, string> = {},
  cwd = process.cwd(),
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const io: CliIo = { stdout, stderr, env, interactive: false, cwd, stopSignal: () => new Promise(() => {}) };
  const code = await main(args, io);
  return { code, stdout: out, stderr: err };
}
