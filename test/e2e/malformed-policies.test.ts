/**
 * Every malformed policy of the loader's table, through the real CLI entry point (main(),
 * in-process for speed): exit 2, the field named on stderr, and not one request at the target.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import { startCountingServer, type CountingServer } from '../support/counting-server.js';
import type { CliIo } from '../../src/cli/io.js';
import { MALFORMED_POLICIES, validPolicy } from '../fixtures/policies/malformed.js';

/** Any request reaching it is a failure here: bad input must send nothing. */
let server: CountingServer;
let target = '';
beforeAll(async () => {
  server = await startCountingServer();
  target = server.url;
});
afterAll(() => server.close());

async function runMain(args: string[]): Promise<{ code: number; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  stdout.resume();
  const io: CliIo = {
    stdout,
    stderr,
    env: { GATECHECK_API_KEY: 'k-1234567890abcdef' },
    interactive: false,
    cwd: process.cwd(),
    stopSignal: () => new Promise(() => {}),
  };
  const code = await main(args, io);
  return { code, stderr: err };
}

describe('malformed policies through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatecheck-malformed-'));
  it('has at least 20 cases', () => expect(MALFORMED_POLICIES.length).toBeGreaterThanOrEqual(20));

  it.each(MALFORMED_POLICIES)('%s → exit 2, names the field, sends nothing', async (name, change, expected) => {
    const policy = validPolicy();
    change(policy);
    const file = join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
    writeFileSync(file, stringify(policy));
    const before = server.hits();
    const argv = ['run', '--policy', file, '--out', join(dir, 'out')];
    // The target flag would mask a broken target in the file; pass it only when the case is not about the URL.
    const { code, stderr } = await runMain(expected.startsWith('target') ? argv : [...argv, '--target', target]);
    expect(stderr).toContain(expected);
    expect(code).toBe(2);
    expect(server.hits()).toBe(before);
  });
});
