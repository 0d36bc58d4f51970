import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/engine/observation.js';
import { idleBucketWaitMs, isThrottled, throttleAwareness, throttleRetryWaitMs } from '../../src/engine/throttle-model.js';

const answer = (status: number, headers: Record<string, string> = {}): Observation => ({
  probe: 'auth.valid',
  method: 'GET',
  path: '/',
  intendedAtMs: 0,
  sentAtMs: 0,
  doneAtMs: 1,
  status,
  headers,
});

describe('throttle model', () => {
  it('waits for an empty bucket to fill, with half again as margin and 200 ms', () => {
    expect(idleBucketWaitMs({ rateLimit: 50, burstLimit: 10 })).toBe(500);
    expect(idleBucketWaitMs({ rateLimit: 3, burstLimit: 10 })).toBe(5200);
  });

  it('retries a 429 after three tokens, at least 100 ms (three seconds without a throttle policy)', () => {
    expect(throttleAwareness({ throttle: { rateLimit: 10 } })).toEqual({ refillMs: 300, maxRetries: 4, statuses: [429] });
    expect(throttleAwareness({ throttle: { rateLimit: 1000 } }).refillMs).toBe(100);
    expect(throttleAwareness({}).refillMs).toBe(3000);
  });

  it('honours Retry-After, else doubles the refill time per attempt', () => {
    const awareness = { refillMs: 300, maxRetries: 4 };
    expect(throttleRetryWaitMs(answer(429, { 'retry-after': '2' }), 0, awareness)).toBe(2000);
    expect(throttleRetryWaitMs(answer(429, { 'retry-after': 'soon' }), 2, awareness)).toBe(1200);
    expect([isThrottled(answer(429)), isThrottled(answer(403))]).toEqual([true, false]);
  });

  it('reads "throttled" from the route\'s throttle.status (nginx limit_req refuses with 503 by default)', () => {
    const awareness = throttleAwareness({ throttle: { rateLimit: 10, status: [503] } });
    expect(awareness.statuses).toEqual([503]);
    expect([isThrottled(answer(503), awareness.statuses), isThrottled(answer(429), awareness.statuses)]).toEqual([true, false]);
  });
});
