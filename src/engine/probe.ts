import type { RunBudget } from './budget.js';
import type { HttpClient, ProbeRequest } from './http-client.js';
import type { Observation } from './observation.js';
import {
  DEFAULT_THROTTLE_AWARENESS,
  DEFAULT_THROTTLED_STATUSES,
  isThrottled,
  throttleRetryWaitMs,
  type ThrottleAwareness,
} from './throttle-model.js';

export interface ProbeOutcome {
  /** The answer the check reads: the first one that was not a 429 (or the last 429). */
  final: Observation;
  /** Every attempt, 429s included, for the evidence. */
  attempts: Observation[];
  /** True when every attempt was throttled: the check must not read `final` as its result. */
  throttledOut: boolean;
}

/**
 * Sends one probe for an auth, CORS or WAF check. A 429 says nothing about those checks
 * (the throttle answered, not the thing under test), so it is retried after the bucket has
 * had time to refill (the throttle model's retry policy), never read as the result.
 */
export async function sendProbe(
  client: HttpClient,
  budget: RunBudget,
  request: ProbeRequest,
  awareness: ThrottleAwareness = DEFAULT_THROTTLE_AWARENESS,
): Promise<ProbeOutcome | undefined> {
  const attempts: Observation[] = [];
  for (let attempt = 0; attempt <= awareness.maxRetries; attempt++) {
    if (!budget.take()) return attempts.length ? { final: attempts[attempts.length - 1]!, attempts, throttledOut: true } : undefined;
    const observation = await client.send(request);
    attempts.push(observation);
    if (!isThrottled(observation, awareness.statuses ?? DEFAULT_THROTTLED_STATUSES))
      return { final: observation, attempts, throttledOut: false };
    // The last attempt's 429 is final: waiting after it would retry nothing (16 s at the default refill).
    if (attempt === awareness.maxRetries) break;
    const waitMs = throttleRetryWaitMs(observation, attempt, awareness);
    if (waitMs > budget.msLeft) break;
    await budget.pause(waitMs);
  }
  return { final: attempts[attempts.length - 1]!, attempts, throttledOut: true };
}
