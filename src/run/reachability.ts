import type { CheckContext } from '../checks/context.js';
import { probeRoute, routeRequest } from '../checks/context.js';
import { isNotRouted } from '../checks/auth/vendor.js';
import type { Observation } from '../engine/observation.js';
import { isOkStatus, type RoutePolicy } from '../policy/types.js';

/** Whether the control request reached the route, and the full URL it went to. */
export interface RouteReach {
  url: string;
  /** Undefined when the route was reached; otherwise why every check of the route is an error. */
  problem?: string;
  /** The control's answer, for the report (status, or the transport error). */
  answer?: string;
}

/**
 * One request to the route as the policy describes it (its method, its path under the target's
 * base path, its credential) before any check of the route judges anything. A wrong base path
 * (`/api/api/items`), a missing stage (`/prod`), the wrong scheme or a route that does not exist
 * would otherwise be judged as a CORS refusal or an auth bypass: instead every check of the route
 * is an error naming the URL sent, and no load goes to it. 401/403 (the auth layer answered),
 * 429 and 5xx count as reached: the checks read those themselves.
 */
export async function reachRoute(ctx: CheckContext, route: RoutePolicy): Promise<RouteReach> {
  const request = routeRequest(ctx.policy, route, 'reachability');
  const url = ctx.redactor.redact(ctx.client.urlFor(request.path));
  const outcome = await probeRoute(ctx, route, request);
  if (!outcome) return { url, problem: ctx.budget.interrupted ? 'interrupted' : 'the request cap allows no request' };
  const problem = unreachedWhy(ctx, route, outcome.final, outcome.throttledOut);
  const answer = outcome.final.status !== undefined ? String(outcome.final.status) : (outcome.final.error ?? 'no answer');
  const sent = `${route.method} ${url}`;
  return problem === undefined ? { url, answer } : { url, answer, problem: `route not reached: ${sent} → ${problem}` };
}

function unreachedWhy(ctx: CheckContext, route: RoutePolicy, answer: Observation, throttledOut: boolean): string | undefined {
  if (throttledOut) return undefined;
  const status = answer.status;
  if (status === undefined) return transportProblem(answer.error ?? 'no answer');
  if (isOkStatus(route, status)) return undefined;
  const body = answer.bodySnippet ?? '';
  if (status === 400 && /plain HTTP request was sent to HTTPS port|speaking plain HTTP to an SSL-enabled/i.test(body)) {
    return '400: the port speaks HTTPS; use an https:// target';
  }
  if (status >= 300 && status < 400) {
    const location = answer.headers.location;
    return `${status} redirect${location ? ` to ${location}` : ''} (redirects are not followed: point the target at the final URL)`;
  }
  if (isNotRouted(ctx.policy.vendor, answer))
    return `${status}: the gateway routes this method and path nowhere; check the target's base path (stage) and the route's path`;
  if (status === 400 || status === 404 || status === 405) {
    return `${status}: no such route at this URL; check the target's base path (a stage such as /prod) and the route's path and method`;
  }
  return undefined;
}

function transportProblem(error: string): string {
  // The client's TLS descriptions already say which scheme to use (http-client.ts describeError).
  return error.startsWith('tls:') ? error : `unreachable: ${error}`;
}
