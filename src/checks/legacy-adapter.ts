/**
 * TEMPORARY: a check kind that has not moved to the CheckDefinition contract yet (collect + pure
 * evaluate) keeps its old runner, which plans, sends and judges in one function; `judge` cannot
 * re-evaluate it. Each kind leaves this file as it moves to src/checks/<kind>/check.ts.
 */
import type { Policy, RoutePolicy } from '../policy/types.js';
import type { CheckContext } from './context.js';
import type { CheckPhase } from './contract.js';
import type { CheckResult } from './types.js';

export interface LegacyInstance {
  /** Route id, or the API for metrics. */
  route: string;
  /** The id suffixes of the results the run gives (usage plans: several). */
  idSuffixes: string[];
  routePolicy?: RoutePolicy;
}

export interface LegacyCheck<Kind extends string = string> {
  legacy: true;
  kind: Kind;
  phase: CheckPhase;
  instances: (policy: Policy) => LegacyInstance[];
  run: (ctx: CheckContext, instance: LegacyInstance) => Promise<CheckResult[]>;
}

/** A per-route kind: `suffixes(route)` empty when it does not apply. */
export function legacyRouteCheck<Kind extends string>(
  kind: Kind,
  phase: CheckPhase,
  suffixes: (route: RoutePolicy) => string[],
  run: (ctx: CheckContext, route: RoutePolicy) => Promise<CheckResult | CheckResult[]>,
): LegacyCheck<Kind> {
  return {
    legacy: true,
    kind,
    phase,
    instances: (policy) =>
      policy.routes.filter((r) => suffixes(r).length > 0).map((r) => ({ route: r.id, idSuffixes: suffixes(r), routePolicy: r })),
    run: async (ctx, instance) => [await run(ctx, instance.routePolicy!)].flat(),
  };
}
