import type { Observation } from './observation.js';

/**
 * THE throttle model: how long a route's token bucket takes to give tokens back, and what every
 * probe does about a 429. The throttle check, the SLO measurement, the probes of auth, CORS and
 * WAF (sendProbe), quota and `export k6` all read their waits from here, so they agree on when a
 * bucket is full again. It lives in the engine because sendProbe needs it and the engine imports
 * nothing from the checks; it takes plain numbers, not policy types.
 */

/** The two numbers of a token bucket: refill per second and capacity. */
export interface BucketLimits {
  rateLimit: number;
  burstLimit: number;
}

/** How a probe treats a throttled answer: wait for the bucket to give a token back, a few times at most. */
export interface ThrottleAwareness {
  /** How long the bucket needs to give a token back (ms); from the route's throttle policy. */
  refillMs: number;
  maxRetries: number;
  /** Statuses that mean "throttled" on the route (the policy's `throttle.status`); default [429]. */
  statuses?: readonly number[];
}

/** Throttled, unless the route's policy lists other statuses. */
export const DEFAULT_THROTTLED_STATUSES: readonly number[] = [429];

/** For a route without a throttle policy: a second, and the usual retries. */
export const DEFAULT_THROTTLE_AWARENESS: ThrottleAwareness = { refillMs: 1_000, maxRetries: 4, statuses: DEFAULT_THROTTLED_STATUSES };

/** How long one token takes to come back, ms. */
export function tokenIntervalMs(rateLimit: number): number {
  return 1000 / rateLimit;
}

/** How long to wait after a 429 before retrying a probe on a route with this throttle (if any). */
export function throttleAwareness(route: { throttle?: { rateLimit: number; status?: readonly number[] } | undefined }): ThrottleAwareness {
  // One token comes back every 1/rateLimit s; wait a few of those, at least 100 ms.
  const tokenMs = route.throttle ? tokenIntervalMs(route.throttle.rateLimit) : 1000;
  return {
    refillMs: Math.max(100, Math.ceil(tokenMs * 3)),
    maxRetries: DEFAULT_THROTTLE_AWARENESS.maxRetries,
    statuses: route.throttle?.status ?? DEFAULT_THROTTLED_STATUSES,
  };
}

/**
 * How long a bucket needs to go from empty to full (burst / rate), with half again as margin
 * and 200 ms for scheduling: the wait before a probe that needs an idle bucket.
 */
export function idleBucketWaitMs(limits: BucketLimits): number {
  return Math.ceil((limits.burstLimit / limits.rateLimit) * 1500) + 200;
}

/**
 * The throttle said no: the answer tells nothing about what the probe tests. `statuses` is the route's list
 * (`throttle.status`): a gateway such as nginx limit_req refuses with 503 unless told otherwise.
 */
export function isThrottled(observation: Pick<Observation, 'status'>, statuses: readonly number[] = DEFAULT_THROTTLED_STATUSES): boolean {
  return observation.status !== undefined && statuses.includes(observation.status);
}

/**
 * The 429 retry policy: after the `attempt`-th try (0-based) was throttled, wait what the
 * gateway asked for (Retry-After, in seconds), else the refill time doubled per attempt.
 */
export function throttleRetryWaitMs(answer: Observation, attempt: number, awareness: ThrottleAwareness): number {
  const retryAfterSec = Number(answer.headers['retry-after']);
  return Number.isFinite(retryAfterSec) && retryAfterSec > 0 ? retryAfterSec * 1000 : awareness.refillMs * 2 ** attempt;
}
