/**
 * ws-auth and ws-limits run in-process (collect, then the pure evaluate) against the reference
 * gateway on loopback: a credential in the query string, the size limit and a short idle timeout.
 */
import { describe, expect, it } from 'vitest';
import type { CheckContext } from '../../src/checks/context.js';
import type { CheckDefinition, Verdict } from '../../src/checks/contract.js';
import { wsAuthCheck } from '../../src/checks/websocket/auth.js';
import { wsLimitsCheck } from '../../src/checks/websocket/limits.js';
import { RunBudget } from '../../src/engine/budget.js';
import { HttpClient } from '../../src/engine/http-client.js';
import type { Observation } from '../../src/engine/observation.js';
import { ObservationStream } from '../../src/engine/stream.js';
import type { FaultName } from '../../src/gateway/faults.js';
import { startGateway } from '../../src/gateway/server.js';
import { parsePolicy } from '../../src/policy/load.js';
import { Redactor } from '../../src/util/redact.js';

const KEY = 'ws-collect-key-0123456789';
const POLICY = parsePolicy(
  `version: 1
credentials:
  main: { header: x-api-key, value: "${KEY}" }
routes:
  - { method: GET, path: /health }
websockets:
  - name: chat
    path: /ws
    auth: { required: true, credential: main, in: query, queryParam: token }
    limits: { maxMessageBytes: 4096, frameBytes: 1024, idleTimeoutSec: 0.5 }
`,
  'policy.yaml',
  { env: {} },
);

async function runWs<Spec, Observed, Notes>(definition: CheckDefinition<string, Spec, Observed, Notes>, faults: FaultName[] = []) {
  const gateway = await startGateway({ policy: POLICY, faults });
  const stream = new ObservationStream();
  const client = new HttpClient({ baseUrl: gateway.url, requestTimeoutMs: 2_000, stream });
  const policy = { ...POLICY, target: gateway.url };
  const redactor = new Redactor(Object.values(policy.credentials));
  const ctx: CheckContext = {
    policy,
    client,
    budget: new RunBudget(100, client.now() + 20_000, () => client.now()),
    redactor,
    progress: () => {},
  };
  const instance = definition.select(policy)[0]!;
  const observations: Observation[] = [];
  stream.subscribe((o) => observations.push(o));
  stream.setCheck(`${definition.kind}:${instance.route}`);
  try {
    const notes = await definition.collect(ctx, instance.spec);
    const verdict: Verdict<Observed> = definition.evaluate(instance.spec, { observations, notes }, policy);
    return { verdict, observations, redactor };
  } finally {
    await client.close();
    await gateway.close();
  }
}

describe('ws-auth against the reference gateway (credential in the query)', () => {
  it('passes: every bad way in refused, the header is the wrong place; observations tagged with the check', async () => {
    const { verdict, observations, redactor } = await runWs(wsAuthCheck);
    expect(verdict.status, verdict.summary).toBe('pass');
    expect(verdict.observed.cases.map((c) => `${c.case}=${c.answer}`)).toEqual([
      'missing=403',
      'empty=403',
      'wrong=403',
      'truncated=403',
      'wrong-place=403',
    ]);
    expect(observations.every((o) => o.check === 'ws-auth:WS chat' && o.ws?.event === 'connect')).toBe(true);
    expect(observations[0]!.path).toBe(`/ws?token=${KEY}`);
    // What a report would show of the control's URL: the key redacted.
    expect(redactor.redact(verdict.evidence[0]!.url!)).not.toContain(KEY);
  });

  it('fails with critical bypass findings under ws-auth-off', async () => {
    const { verdict } = await runWs(wsAuthCheck, ['ws-auth-off']);
    expect(verdict.status).toBe('fail');
    expect(verdict.findings.map((f) => f.id)).toEqual([
      'bypass:missing',
      'bypass:empty',
      'bypass:wrong',
      'bypass:truncated',
      'bypass:wrong-place',
    ]);
    expect(verdict.findings.every((f) => f.severity === 'critical')).toBe(true);
  });
});

describe('ws-limits against the reference gateway', () => {
  it('answers a message at the limit (sent in 1 KB frames), closes one byte over with 1009, and closes an idle socket', async () => {
    const { verdict, observations } = await runWs(wsLimitsCheck);
    expect(verdict.status, verdict.summary).toBe('pass');
    expect(verdict.observed).toMatchObject({ atLimit: 'accepted', overLimit: 'closed', overLimitCloseCode: 1009 });
    expect(verdict.observed.idleTimeout).toMatch(/^closed after 0\.\d s idle \(code 1001\)$/);
    expect(observations.find((o) => o.probe === 'ws-limits.at-limit')!.ws).toMatchObject({ bytes: 4096, frames: 4 });
  });
});
