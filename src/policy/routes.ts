import { nearMiss } from './near-miss.js';
import type { Policy, RoutePolicy } from './types.js';

/** How --route may name a route, for the help of every command that takes it. */
export const ROUTE_FORMS = 'its id ("GET /api/items"), its name, or its index (0 = the first)';

/** A route named on the command line, or why none matches. */
export type RouteLookup = { route: RoutePolicy } | { problem: string };

/**
 * The route a `--route` value names, the same way for every command (`bench`, `export`): its id
 * (`GET /api/items`, the method in any case), its name, its index in `routes` (`0`, or
 * `routes[0]` as error messages write it), or its path when only one route has that path.
 */
export function findRoute(policy: Pick<Policy, 'routes'>, given: string): RouteLookup {
  const spec = given.trim();
  const routes = policy.routes;
  const index = /^(?:routes\[)?(\d+)\]?$/.exec(spec);
  if (index) {
    const route = routes[Number(index[1])];
    if (route) return { route };
    return { problem: `no route at index ${index[1]}: the policy has ${routes.length} (0 to ${routes.length - 1})` };
  }
  const id = /^([A-Za-z]+)\s+(\/\S*)$/.exec(spec);
  const byId = id ? routes.find((r) => r.id === `${id[1]!.toUpperCase()} ${id[2]}`) : undefined;
  if (byId) return { route: byId };
  const byName = routes.find((r) => r.name === spec);
  if (byName) return { route: byName };
  const byPath = routes.filter((r) => r.path === spec);
  if (byPath.length === 1) return { route: byPath[0]! };
  if (byPath.length > 1)
    return { problem: `"${spec}" is the path of ${byPath.length} routes (${byPath.map((r) => r.id).join(', ')}): give the id` };
  const meant = nearMiss(spec, [...routes.map((r) => r.id), ...routes.map((r) => r.name)]);
  const hint = meant !== undefined ? `; did you mean "${meant}"?` : '';
  return { problem: `no route "${spec}"${hint} (routes: ${routeList(policy)})` };
}

/** `0: GET /api/items, 1: POST /api/items (create)`: what `--route` can name. */
export function routeList(policy: Pick<Policy, 'routes'>): string {
  return policy.routes.map((r, i) => `${i}: ${r.id}${r.name !== r.id ? ` (${r.name})` : ''}`).join(', ');
}
