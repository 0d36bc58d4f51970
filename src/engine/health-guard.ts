import type { Observation } from './observation.js';

/** When a gateway is hurting: at least `maxShare` of the last `window` answers were 5xx or transport errors. */
export interface HealthLimits {
  window: number;
  maxShare: number;
}

export const DEFAULT_HEALTH_LIMITS: HealthLimits = { window: 50, maxShare: 0.2 };

/**
 * Watches the answers of one check's load and trips when the gateway is failing, so the check
 * stops with `error` instead of hammering a gateway that is already down (and a 5xx storm is
 * never read as a throttle or a latency). It counts 5xx and transport errors in a ring of the
 * last `window` answers; it trips as soon as `maxShare·window` of them are bad, even before the
 * ring is full (ten failures are ten failures).
 */
export class HealthGuard {
  private readonly ring: boolean[] = [];
  private next = 0;
  private bad = 0;
  private reason: string | undefined;

  /**
   * `throttled`: statuses that are the route's throttle refusing (its `throttle.status`, e.g. nginx's 503), not
   * the gateway failing: a throttle check provokes them on purpose.
   */
  constructor(
    readonly limits: HealthLimits = DEFAULT_HEALTH_LIMITS,
    private readonly throttled: readonly number[] = [],
  ) {}

  record(observation: Observation): void {
    const isBad = observation.status === undefined || (observation.status >= 500 && !this.throttled.includes(observation.status));
    if (this.ring.length < this.limits.window) this.ring.push(isBad);
    else {
      if (this.ring[this.next]) this.bad--;
      this.ring[this.next] = isBad;
      this.next = (this.next + 1) % this.limits.window;
    }
    if (isBad) this.bad++;
    if (this.reason === undefined && this.bad >= Math.max(1, Math.ceil(this.limits.maxShare * this.limits.window))) {
      const what = observation.status === undefined ? (observation.error ?? 'no answer') : String(observation.status);
      this.reason =
        `the gateway is failing: ${this.bad} of the last ${this.ring.length} answers were 5xx or transport errors ` +
        `(latest: ${what}); stopped sending to it`;
    }
  }

  /** Why the load was stopped, once tripped. */
  get tripped(): string | undefined {
    return this.reason;
  }
}
