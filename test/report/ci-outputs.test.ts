/**
 * What the CLI hands to CI besides the report files (src/cli/ci.ts): report.sarif's locations,
 * built from the policy as loaded, and the Markdown appended to $GITHUB_STEP_SUMMARY.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { appendStepSummary, sarifSource } from '../../src/cli/ci.js';
import type { CliIo } from '../../src/cli/io.js';
import { loadPolicyFile } from '../../src/policy/load.js';

function fakeIo(cwd: string, env: Record<string, string> = {}): CliIo & { errors: () => string } {
  const stderr = new PassThrough();
  let errors = '';
  stderr.on('data', (d: Buffer) => (errors += d.toString()));
  return { stdout: new PassThrough(), stderr, env, interactive: false, cwd, stopSignal: () => Promise.resolve(), errors: () => errors };
}

describe('sarifSource', () => {
  it('gives the policy file relative to the working directory and the line of each route', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'gatecheck-ci-'));
    const yaml = [
      'version: 1',
      'routes:',
      '  - method: GET',
      '    path: /a',
      '    slo: { p99Ms: 5 }',
      '  - { method: POST, path: /b, slo: { p99Ms: 5 } }',
    ];
    writeFileSync(join(cwd, 'my api.yaml'), yaml.join('\n'));
    const policy = loadPolicyFile(join(cwd, 'my api.yaml'), { env: {} });
    expect(sarifSource(fakeIo(cwd), 'my api.yaml', policy)).toEqual({
      policyUri: 'my%20api.yaml',
      routeLines: { 'GET /a': 3, 'POST /b': 6 },
    });
    expect(sarifSource(fakeIo(join(cwd, 'sub')), join(cwd, 'my api.yaml'), policy).policyUri).toBe('../my%20api.yaml');
  });
});

describe('appendStepSummary', () => {
  it('appends the Markdown to $GITHUB_STEP_SUMMARY, after what earlier steps wrote', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'gatecheck-ci-'));
    const file = join(cwd, 'summary.md');
    writeFileSync(file, '# earlier step\n');
    await appendStepSummary(fakeIo(cwd, { GITHUB_STEP_SUMMARY: file }), '| check |\n| - |\n');
    expect(readFileSync(file, 'utf8')).toBe('# earlier step\n| check |\n| - |\n\n');
  });

  it('does nothing without the variable, and only warns when the file cannot be written', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'gatecheck-ci-'));
    await appendStepSummary(fakeIo(cwd), 'x');
    const io = fakeIo(cwd, { GITHUB_STEP_SUMMARY: join(cwd, 'no', 'such', 'dir', 'summary.md') });
    await appendStepSummary(io, 'x');
    expect(io.errors()).toMatch(/^gatecheck: warning: cannot append to \$GITHUB_STEP_SUMMARY \(ENOENT\)/);
  });
});
