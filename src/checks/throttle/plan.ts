import { idleBucketWaitMs } from '../../engine/throttle-model.js';
import type { ThrottlePolicy } from '../../policy/types.js';
import { loadScenario, resolveScenario, type ResolvedPhase } from '../../scenarios/scenario.js';

/** The probe plan for one bucket: sizes derived from the limits being verified. */
export interface ThrottlePlan {
  /** Wait before the volley so the bucket is full (burst/rate, with margin). */
  idleWaitMs: number;
  volleySize: number;
  pacedRatePerSec: number;
  pacedCount: number;
}

/** The probe's shape, from scenarios/throttle-probe.yaml (shared with `export k6`). */
const PROBE_SCENARIO = loadScenario('throttle-probe');

/** Sockets for one volley; past this a volley is no longer simultaneous anyway (and the burst shows as a lower bound). */
export const MAX_VOLLEY_SOCKETS = 512;

export function planThrottle(throttle: Omit<ThrottlePolicy, 'status'>): ThrottlePlan {
  type Phases = [Extract<ResolvedPhase, { kind: 'volley' }>, Extract<ResolvedPhase, { kind: 'rate' }>];
  const [volley, paced] = resolveScenario(PROBE_SCENARIO, throttle) as Phases;
  // The volley must overflow a bucket larger than allowed (so a too-large burst shows), with a
  // margin of at least 10 requests; it is kept no larger than that, because every extra
  // request lengthens the volley, and the bucket refills while it leaves.
  const volleySize = Math.max(volley.requests, Math.ceil(throttle.burstLimit * (1 + throttle.tolerance)) + 10);
  // Offer well above the rate (at least +10/s) so the bucket stays empty and accepted(t) follows the refill rate.
  const pacedRatePerSec = Math.max(paced.fromRatePerSec, throttle.rateLimit + 10);
  return {
    idleWaitMs: idleBucketWaitMs(throttle),
    volleySize,
    pacedRatePerSec,
    pacedCount: Math.ceil(pacedRatePerSec * throttle.probeSeconds),
  };
}

/** The warm-up opens the volley's sockets: as many requests as the volley, up to the socket cap. */
export function warmUpSize(plan: ThrottlePlan): number {
  return Math.min(plan.volleySize, MAX_VOLLEY_SOCKETS);
}
