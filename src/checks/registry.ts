/**
 * THE list of check kinds: a kind is a folder under src/checks/, an entry here, a renderer under
 * src/report/ and a schema entry. Registry order is run order within a route: the few-request
 * probes first (auth, cors, waf: 429-aware), then the throttle probe (which waits for an idle
 * bucket and leaves it empty), then the SLO measurement (which waits for the refill); quota uses
 * a key up, so it runs after every route; metrics reconciles the whole run, after it. The
 * WebSocket kinds belong to no HTTP route: they run after the routes, auth first, the size probes
 * before the throttle probe leaves the message bucket empty.
 */
import { authCheck } from './auth/check.js';
import { canaryCheck } from './canary/check.js';
import type { AnyCheckDefinition } from './contract.js';
import { corsCheck } from './cors/check.js';
import { metricsCheck } from './metrics/check.js';
import { quotaCheck } from './quota/check.js';
import { sigv4Check } from './sigv4/check.js';
import { sloCheck } from './slo/check.js';
import { throttleCheck } from './throttle/check.js';
import { tracingCheck } from './tracing/check.js';
import { wafCheck } from './waf/check.js';
import { wsAuthCheck } from './websocket/auth.js';
import { wsLimitsCheck } from './websocket/limits.js';
import { wsThrottleCheck } from './websocket/throttle.js';

export const CHECKS = [
  authCheck,
  sigv4Check,
  corsCheck,
  wafCheck,
  tracingCheck,
  // A few hundred requests as fast as loopback allows: before the throttle probe, which needs an idle bucket after it.
  canaryCheck,
  throttleCheck,
  sloCheck,
  wsAuthCheck,
  wsLimitsCheck,
  wsThrottleCheck,
  quotaCheck,
  metricsCheck,
] as const satisfies ReadonlyArray<AnyCheckDefinition>;

/** The check kinds of report.json (a public interface), from the registry. */
export type CheckKind = (typeof CHECKS)[number]['kind'];

export const CHECK_KINDS: CheckKind[] = [...new Set(CHECKS.map((check) => check.kind))];
