/**
 * The across-connections instance of ws-throttle against a real gateway whose bucket scope differs
 * from the policy's: per-connection buckets where the policy says one per stage let a client
 * multiply its limit by opening sockets. The one-connection instance cannot see it and passes; the
 * across-connections one fails. (The reverse, a shared bucket where the policy promises one per
 * connection, is the same estimator finding the bucket too small: test/checks/ws-evaluate.test.ts
 * covers the scaling, test/gateway/websocket.test.ts the shared bucket.)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../../src/gateway/server.js';
import { parsePolicy } from '../../src/policy/load.js';
import { runCli } from '../support/cli.js';

const KEY = 'ws-e2e-key-5d1f0c9a7b3e4d21';
const env = { WS_KEY: KEY };

function policyText(perConnection: boolean): string {
  return `version: 1
limits: { maxRequests: 2000, maxDurationSec: 30, requestTimeoutMs: 2000 }
credentials:
  main: { header: x-api-key, value: "\${WS_KEY}" }
routes:
  - { method: GET, path: /health }
websockets:
  - name: chat
    path: /ws
    auth: { required: true, credential: main }
    throttle: { rateLimit: 50, burstLimit: 10, probeSeconds: 1, perConnection: ${perConnection}, connections: 4 }
`;
}

async function check(gatewayPerConnection: boolean, policyPerConnection: boolean) {
  const gateway = await startGateway({ policy: parsePolicy(policyText(gatewayPerConnection), 'gateway.yaml', { env }) });
  const file = join(mkdtempSync(join(tmpdir(), 'gatecheck-ws-')), 'policy.yaml');
  writeFileSync(file, policyText(policyPerConnection));
  try {
    const run = await runCli(['run', '--policy', file, '--target', gateway.url, '--only', 'ws-throttle'], env);
    const checks = (run.report?.checks ?? []) as unknown as Array<{
      id: string;
      status: string;
      findings: Array<{ id: string; disposition?: string }>;
    }>;
    const gating = checks.flatMap((c) => c.findings.filter((f) => f.disposition === 'gating').map((f) => f.id));
    return { run, byId: new Map(checks.map((c) => [c.id, c.status])), gating };
  } finally {
    await gateway.close();
  }
}

describe('ws-throttle across connections', () => {
  it('a bucket per connection where the policy says one per stage: more sockets, more messages (fails)', async () => {
    const { run, byId, gating } = await check(true, false);
    expect(byId.get('ws-throttle:WS chat'), run.stdout).toBe('pass');
    expect(byId.get('ws-throttle:WS chat [4 connections]'), run.stdout).toBe('fail');
    expect(gating.length).toBeGreaterThan(0);
    for (const id of gating) expect(id).toMatch(/^ws-throttle:WS chat \[4 connections\]#(no-limit|rate-too-high|burst-too-large)$/);
    expect(run.code).toBe(1);
  }, 60_000);
});
