/**
 * Runs one check definition the way `gatecheck run` does, minus the CLI and the reachability
 * control: collect with the check's observations tagged on a stream, then the pure evaluate.
 */
import type { CheckContext } from '../../src/checks/context.js';
import type { CheckDefinition, Collected, Verdict } from '../../src/checks/contract.js';
import { RunBudget } from '../../src/engine/budget.js';
import { HttpClient } from '../../src/engine/http-client.js';
import type { Observation } from '../../src/engine/observation.js';
import { ObservationStream } from '../../src/engine/stream.js';
import type { Policy } from '../../src/policy/types.js';
import { Redactor } from '../../src/util/redact.js';

export interface CheckRun<Observed, Notes> {
  verdict: Verdict<Observed>;
  expected: Record<string, unknown>;
  collected: Collected<Notes>;
  /** The run's redactor, with every value the check derived from a secret. */
  redactor: Redactor;
}

export async function runCheck<Spec, Observed, Notes>(
  definition: CheckDefinition<string, Spec, Observed, Notes>,
  policy: Policy,
  baseUrl: string,
  routeIndex = 0,
): Promise<CheckRun<Observed, Notes>> {
  const route = policy.routes[routeIndex]!;
  const instance = definition.select(policy).find((i) => i.route === route.id);
  if (!instance) throw new Error(`${definition.kind} selects nothing on ${route.id}`);
  const stream = new ObservationStream();
  const client = new HttpClient({ baseUrl, requestTimeoutMs: 2_000, stream });
  const redactor = new Redactor(Object.values(policy.credentials));
  const ctx: CheckContext = {
    policy,
    client,
    budget: new RunBudget(2_000, client.now() + 30_000, () => client.now()),
    redactor,
    progress: () => undefined,
  };
  const id = `${definition.kind}:${route.id}`;
  const observations: Observation[] = [];
  stream.subscribe((o) => {
    if (o.check === id) observations.push(o);
  });
  stream.setCheck(id);
  try {
    const notes = await definition.collect(ctx, instance.spec);
    const collected = { observations, notes };
    return {
      verdict: definition.evaluate(instance.spec, collected, policy),
      expected: definition.expected(instance.spec, policy),
      collected,
      redactor,
    };
  } finally {
    stream.setCheck(undefined);
    await client.close();
  }
}
