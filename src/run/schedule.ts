import type { AnyCheckDefinition, CheckInstance, CheckPhase } from '../checks/contract.js';
import { CHECKS, type CheckKind } from '../checks/registry.js';
import type { Policy, RoutePolicy } from '../policy/types.js';

/** One check to run: its definition and instance, and the route it belongs to (none for metrics). */
export interface ScheduledCheck {
  definition: AnyCheckDefinition;
  instance: CheckInstance<unknown>;
  route?: RoutePolicy;
  /** The result ids this check gives (one per instance: `kind:route` plus its suffix). */
  ids: string[];
}

const PHASES: CheckPhase[] = ['route', 'last', 'after-run'];

/**
 * The run's order: per route, in registry order; then the `last` kinds route by route (they use
 * something up); then the `after-run` kinds (the CloudWatch reconciliation of the whole run).
 */
export function scheduleChecks(policy: Policy, only?: readonly CheckKind[]): ScheduledCheck[] {
  const selected = CHECKS.filter((check) => !only || only.includes(check.kind));
  const routeOf = (id: string) => policy.routes.find((r) => r.id === id);
  const all: ScheduledCheck[] = selected.flatMap((check): ScheduledCheck[] => {
    const definition = check as AnyCheckDefinition;
    return definition.select(policy).map((instance) => ({
      definition,
      instance,
      ...withRoute(routeOf(instance.route)),
      ids: [`${check.kind}:${instance.route}${instance.idSuffix}`],
    }));
  });
  const routeIndex = (s: ScheduledCheck) => (s.route ? policy.routes.indexOf(s.route) : policy.routes.length);
  const kindIndex = (s: ScheduledCheck) => selected.findIndex((check) => check.kind === s.definition.kind);
  return all
    .map((s, order) => ({ s, order }))
    .sort((a, b) => {
      const phase = PHASES.indexOf(a.s.definition.phase) - PHASES.indexOf(b.s.definition.phase);
      return phase || routeIndex(a.s) - routeIndex(b.s) || kindIndex(a.s) - kindIndex(b.s) || a.order - b.order;
    })
    .map(({ s }) => s);
}

function withRoute(route: RoutePolicy | undefined): { route?: RoutePolicy } {
  return route ? { route } : {};
}

/** The check kinds a policy asks for, in registry order: what --only may choose from. */
export function kindsInPolicy(policy: Policy): CheckKind[] {
  return [...new Set(scheduleChecks(policy).map((s) => s.definition.kind as CheckKind))];
}
