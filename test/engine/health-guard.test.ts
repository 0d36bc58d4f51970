import { describe, expect, it } from 'vitest';
import { HealthGuard } from '../../src/engine/health-guard.js';
import type { Observation } from '../../src/engine/observation.js';

const answer = (status?: number): Observation => ({
  probe: 'p',
  method: 'GET',
  path: '/',
  intendedAtMs: 0,
  sentAtMs: 0,
  doneAtMs: 1,
  headers: {},
  ...(status === undefined ? { error: 'ECONNRESET' } : { status }),
});

describe('health guard: 20% of the last 50', () => {
  it('trips at the tenth 5xx or transport error, even before 50 answers were seen', () => {
    const guard = new HealthGuard();
    for (let i = 0; i < 9; i++) guard.record(answer(502));
    expect(guard.tripped).toBeUndefined();
    guard.record(answer());
    expect(guard.tripped).toMatch(/10 of the last 10 answers were 5xx or transport errors \(latest: ECONNRESET\)/);
  });

  it('never trips on 4xx and 429: those are the gateway answering', () => {
    const guard = new HealthGuard();
    for (let i = 0; i < 500; i++) guard.record(answer(i % 2 ? 429 : 403));
    expect(guard.tripped).toBeUndefined();
  });

  it('forgets failures older than the window: 9 bad in every 50 never trips', () => {
    const guard = new HealthGuard();
    for (let i = 0; i < 1000; i++) guard.record(answer(i % 50 < 9 ? 503 : 200));
    expect(guard.tripped).toBeUndefined();
  });

  it('trips on a burst of failures late in a long run', () => {
    const guard = new HealthGuard({ window: 50, maxShare: 0.2 });
    for (let i = 0; i < 1000; i++) guard.record(answer(200));
    for (let i = 0; i < 10; i++) guard.record(answer(500));
    expect(guard.tripped).toMatch(/10 of the last 50/);
  });
});
