/**
 * CloudWatch for a WebSocket API, end to end: the built CLI runs the WebSocket checks against
 * the reference gateway and reconciles the run with the gateway's CloudWatch emulator, for the
 * REST API (`api`) and the WebSocket one (`websocketApi`) side by side. A gateway that answers
 * every message but leaves them all out of its metrics gets `deficit:messagecount:api` (medium),
 * and fails exactly that check at `--fail-on medium`; the correct gateway passes.
 *
 * The two runs go in parallel (one gateway each: its metrics are per minute). Losing every message
 * cannot hide behind the minute-edge allowance: the WebSocket traffic lasts longer than the 2 s
 * of edge around a minute boundary, so some minute always has messages its MessageCount must hold.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/checks/types.js';
import { startGateway } from '../../src/gateway/server.js';
import { WS_MESSAGE_ROUTE } from '../../src/gateway/websocket.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { REPO, runCli, type CliRun } from '../support/cli.js';

const POLICY = join(REPO, 'test/fixtures/cloudwatch/ws-metrics-policy.yaml');
const KEY = 'ws-cw-key-3b8e1f0a7c6d';
const ENV = {
  GATECHECK_API_KEY: KEY,
  // Dummy credentials for the SDK's default chain: the emulator checks only that a SigV4 signature is there.
  AWS_ACCESS_KEY_ID: 'AKIDWSCWTEST',
  AWS_SECRET_ACCESS_KEY: 'ws-cw-test-not-a-secret',
  AWS_EC2_METADATA_DISABLED: 'true',
};
const WS_CHECK = 'metrics:wsfixture1/test';

async function run(lossy: boolean, extra: string[] = []): Promise<CliRun> {
  const gateway = await startGateway({ policy: loadPolicyFile(POLICY, { env: { GATECHECK_API_KEY: KEY } }), cloudwatch: true });
  if (lossy) {
    // The gateway answers every message, but its metrics keep only the upgrades.
    const record = gateway.wsRecorder.record.bind(gateway.wsRecorder);
    gateway.wsRecorder.record = (epochMs, route, status, latencyMs) => {
      if (route !== WS_MESSAGE_ROUTE) record(epochMs, route, status, latencyMs);
    };
  }
  try {
    const only = ['--only', 'auth,ws-auth,ws-throttle,metrics'];
    const cw = ['--endpoint-url', gateway.cloudwatch!.url, '--metrics-wait', '1'];
    return await runCli(['run', '--policy', POLICY, '--target', gateway.url, ...only, ...cw, ...extra], ENV, 60_000);
  } finally {
    await gateway.close();
  }
}

const byId = (r: CliRun) => new Map((r.report?.checks ?? []).map((c) => [`${c.kind}:${c.route}`, c]));
const findingsOf = (check: object): Finding[] => (check as { findings: Finding[] }).findings;

describe("gatecheck run reconciles a WebSocket API with the gateway's CloudWatch", () => {
  it('the correct gateway passes both metrics checks; one that drops message metrics gets the deficit and fails at medium', async () => {
    const [good, lossy] = await Promise.all([run(false), run(true, ['--fail-on', 'medium'])]);

    const ws = byId(good).get(WS_CHECK);
    expect(ws, good.stderr).toBeDefined();
    expect(ws!.status, ws!.summary).toBe('pass');
    expect(ws!.summary).toMatch(
      /ConnectCount (\d+) vs \1 opened, MessageCount \d+ vs \d+ answered by the route, ClientError \d+ vs \d+ refused upgrades/,
    );
    const observed = ws!.observed as { client: Record<string, number>; cloudwatch: Record<string, number> };
    expect(observed.client.messagesAnswered).toBeGreaterThan(50);
    expect(observed.client.upgradesRefused).toBeGreaterThan(0);
    // The REST API's check reconciles the HTTP requests alone: the WebSocket traffic is not in its Count.
    expect(byId(good).get('metrics:gatecheck-fixture/test')?.status).toBe('pass');
    console.info(`ws metrics e2e: client ${JSON.stringify(observed.client)}; CloudWatch ${JSON.stringify(observed.cloudwatch)}`);

    const short = byId(lossy).get(WS_CHECK);
    expect(short, lossy.stderr).toBeDefined();
    expect(short!.status, short!.summary).toBe('fail');
    expect(short!.summary).toMatch(/CloudWatch MessageCount 0 < \d+, the least the client's \d+ messages answered by the route allow/);
    expect(findingsOf(short!).map((f) => [f.id, f.severity, f.disposition])).toEqual([
      [`${WS_CHECK}#deficit:messagecount:api`, 'medium', 'gating'],
    ]);
    expect(byId(lossy).get('metrics:gatecheck-fixture/test')?.status).toBe('pass');
    expect(lossy.code).toBe(1);
  }, 60_000);
});
