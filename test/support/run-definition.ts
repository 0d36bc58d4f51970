/**
 * Runs one check definition against a target the way the runner does (plan, collect with the
 * observations tagged on a stream, the pure evaluate), without the rest of a run: for tests that
 * drive a single check. Returns the result and what evaluate was given, so a test can judge again.
 */
import type { CheckContext } from '../../src/checks/context.js';
import type { CheckDefinition, Collected } from '../../src/checks/contract.js';
import { qualifyFindings } from '../../src/checks/findings.js';
import type { CheckResult } from '../../src/checks/types.js';
import { applyGate, isoDay, type GateLevel } from '../../src/gate/gate.js';
import { RunBudget } from '../../src/engine/budget.js';
import { HttpClient } from '../../src/engine/http-client.js';
import type { Observation } from '../../src/engine/observation.js';
import { ObservationStream } from '../../src/engine/stream.js';
import type { Policy } from '../../src/policy/types.js';
import { Redactor } from '../../src/util/redact.js';

export interface DefinitionRun<Notes> {
  result: CheckResult;
  collected: Collected<Notes>;
  wallMs: number;
}

export async function runDefinition<Kind extends string, Spec, Observed, Notes>(
  definition: CheckDefinition<Kind, Spec, Observed, Notes>,
  policy: Policy,
  baseUrl: string,
  options: { route?: string; maxRequests?: number; requestTimeoutMs?: number; failOn?: GateLevel } = {},
): Promise<DefinitionRun<Notes>> {
  const withTarget = { ...policy, target: baseUrl };
  const instance = definition.select(withTarget).find((i) => options.route === undefined || i.route === options.route);
  if (!instance) throw new Error(`the policy has no ${definition.kind} check${options.route ? ` on ${options.route}` : ''}`);
  const stream = new ObservationStream();
  const client = new HttpClient({ baseUrl, requestTimeoutMs: options.requestTimeoutMs ?? 2_000, stream });
  const ctx: CheckContext = {
    policy: withTarget,
    client,
    budget: new RunBudget(options.maxRequests ?? 5_000, client.now() + 60_000, () => client.now()),
    redactor: new Redactor(Object.values(policy.credentials)),
    progress: () => undefined,
  };
  const id = `${definition.kind}:${instance.route}${instance.idSuffix}`;
  const observations: Observation[] = [];
  stream.subscribe((o) => {
    if (o.check === id) observations.push(o);
  });
  const started = performance.now();
  stream.setCheck(id);
  try {
    const notes = await definition.collect(ctx, instance.spec);
    const collected = { observations, notes: JSON.parse(JSON.stringify(notes)) as Notes };
    const verdict = definition.evaluate(instance.spec, collected, withTarget);
    const raw: CheckResult = {
      id,
      kind: definition.kind as CheckResult['kind'],
      route: instance.route,
      ...verdict,
      observed: verdict.observed as Record<string, unknown>,
      expected: definition.expected(instance.spec, withTarget),
      durationMs: Math.round(client.now()),
      requestsSent: ctx.budget.requestsSent,
      findings: qualifyFindings(id, verdict),
    };
    // The status as a run reports it: settled by the gate (the policy's, or options.failOn).
    const failOn = options.failOn ?? policy.gate?.failOn ?? 'high';
    const result = applyGate([raw], { failOn, today: isoDay(new Date()) }).checks[0]!;
    return { result, collected, wallMs: Math.round(performance.now() - started) };
  } finally {
    stream.setCheck(undefined);
    await client.close();
  }
}
