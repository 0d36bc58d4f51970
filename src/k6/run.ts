import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** k6's documented exit codes, for messages. */
export const K6_EXIT_CODES: Record<number, string> = {
  0: 'ok',
  97: 'cloud test failed',
  98: 'cloud test stopped',
  99: 'thresholds failed',
  100: 'setup timeout',
  101: 'teardown timeout',
  103: 'generic error',
  104: 'invalid config',
  105: 'external abort',
  107: 'script exception',
  108: 'aborted by the script (test.abort)',
};

/** The k6 executable on PATH, or undefined. Looks, never runs. */
export async function findK6(pathEnv: string | undefined, platform: NodeJS.Platform): Promise<string | undefined> {
  const names = platform === 'win32' ? ['k6.exe', 'k6.cmd', 'k6'] : ['k6'];
  for (const dir of (pathEnv ?? '').split(delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = join(dir, name);
      try {
        await access(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export interface K6Process {
  exitCode: number;
  /** Set when the process could not be started at all. */
  spawnError?: string;
}

/** Runs `k6 <args>`; output goes to the sinks line by line (the caller redacts). */
export function runK6(
  binary: string,
  args: string[],
  env: Record<string, string | undefined>,
  cwd: string,
  sinks: { stdout: (text: string) => void; stderr: (text: string) => void },
): Promise<K6Process> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(binary, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      resolve({ exitCode: -1, spawnError: (error as Error).message });
      return;
    }
    child.stdout.on('data', (chunk: Buffer) => sinks.stdout(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => sinks.stderr(chunk.toString()));
    child.on('error', (error) => resolve({ exitCode: -1, spawnError: error.message }));
    child.on('close', (code, signal) => resolve({ exitCode: code ?? (signal ? 128 : -1) }));
  });
}
