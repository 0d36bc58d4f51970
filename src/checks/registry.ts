/**
 * THE list of check kinds: a kind is a folder under src/checks/, an entry here, a renderer under
 * src/report/ and a schema entry. Registry order is run order within a route: the few-request
 * probes first (auth, cors, waf: 429-aware), then the throttle probe (which waits for an idle
 * bucket and leaves it empty), then the SLO measurement (which waits for the refill); quota uses
 * a key up, so it runs after every route; metrics reconciles the whole run, after it.
 */
import { runAuthCheck } from './auth.js';
import type { AnyCheckDefinition } from './contract.js';
import { runCorsCheck } from './cors.js';
import { legacyRouteCheck, type LegacyCheck } from './legacy-adapter.js';
import { metricsLegacy } from './metrics.js';
import { runQuotaCheck } from './quota.js';
import { sloCheck } from './slo/check.js';
import { throttleCheck } from './throttle/check.js';
import { runWafCheck } from './waf.js';

export const CHECKS = [
  legacyRouteCheck('auth', 'route', (r) => (r.auth?.required ? [''] : []), runAuthCheck),
  legacyRouteCheck('cors', 'route', (r) => (r.cors ? [''] : []), runCorsCheck),
  legacyRouteCheck('waf', 'route', (r) => (r.waf ? [''] : []), runWafCheck),
  throttleCheck,
  sloCheck,
  legacyRouteCheck('quota', 'last', (r) => (r.quota ? [''] : []), runQuotaCheck),
  metricsLegacy,
] as const satisfies ReadonlyArray<AnyCheckDefinition | LegacyCheck>;

/** The check kinds of report.json (a public interface), from the registry. */
export type CheckKind = (typeof CHECKS)[number]['kind'];

export const CHECK_KINDS: CheckKind[] = [...new Set(CHECKS.map((check) => check.kind))];
