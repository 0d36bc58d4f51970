/**
 * A limit above what this machine can offer must never pass: the throttle check says
 * inconclusive (exit 3), names the client as the bottleneck and gives the k6 export command.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../../src/gateway/server.js';
import { parsePolicy } from '../../src/policy/load.js';
import { runCli } from '../support/cli.js';

// 20,000/s with a bucket of 100: the probe would have to offer 40,000/s for a second.
const POLICY = `version: 1
limits: { maxRequests: 60000, maxDurationSec: 30, requestTimeoutMs: 2000 }
routes:
  - method: GET
    path: /health
    throttle: { rateLimit: 20000, burstLimit: 100, probeSeconds: 1 }
`;

describe('a rate limit the client cannot reach', () => {
  it('is inconclusive with the k6 command, never pass', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gatecheck-unreachable-')), 'policy.yaml');
    writeFileSync(file, POLICY);
    const gateway = await startGateway({ policy: parsePolicy(POLICY, file, { env: {} }) });
    try {
      const run = await runCli(['run', '--policy', file, '--target', gateway.url], {});
      const throttle = run.report!.checks.find((c) => c.kind === 'throttle')!;
      expect(throttle.status, throttle.summary).toBe('inconclusive');
      expect(throttle.summary).toMatch(/client-bound/);
      // The verdict carries the rates as data; the report and the terminal give the k6 command.
      // What the client needed: the probe's fine overload (2.7× the policy's rate, 54,000/s) when its sends showed the
      // shortfall, or, when no request was refused at all, the policy's highest rate (22,000/s): which one a busy
      // machine shows first varies, both are more than it offered.
      const needed = (throttle.observed.clientBound as { neededRatePerSec: number }).neededRatePerSec;
      expect([22_000, 54_000]).toContain(Math.round(needed / 1000) * 1000);
      expect(readFileSync(join(run.outDir, 'report.md'), 'utf8')).toContain('gatecheck export k6 --policy');
      expect(run.stdout).toContain('gatecheck export k6 --policy');
      expect(run.report!.verdict).toBe('error');
      expect(run.code).toBe(3);
    } finally {
      await gateway.close();
    }
  }, 60_000);
});
