import { describe, expect, it } from 'vitest';
import { createModel, REFUSED, type ModelSpec } from '../../src/checks/throttle/identify/models.js';
import { rateBounds, type TimedOutcome } from '../../src/checks/throttle/rate-bounds.js';

/** Sends at the given times (ms) through a model, arriving `tripMs` later, answered `tripMs` after that. */
function through(spec: ModelSpec, sends: number[], trip: (i: number) => number = () => 1): TimedOutcome[] {
  const model = createModel(spec);
  model.reset();
  return sends.map((sentAtMs, i) => {
    const arrival = sentAtMs + trip(i);
    const accepted = model.decide(arrival) !== REFUSED;
    model.commit(arrival, accepted);
    return { sentAtMs, doneAtMs: arrival + trip(i), accepted };
  });
}

const paced = (from: number, ratePerSec: number, count: number) => Array.from({ length: count }, (_, i) => from + (i * 1000) / ratePerSec);
const bucket = (ratePerSec: number, burst: number): ModelSpec => ({ family: 'token-bucket', ratePerSec, burst, coldExtra: 0 });

describe('model-free rate bounds', () => {
  it('bracket a token bucket overloaded at 1.4× and 2.7× its rate', () => {
    const sends = [...Array<number>(21).fill(0), ...paced(20, 135, 58), ...paced(460, 70, 64)];
    const b = rateBounds(through(bucket(50, 20), sends), { carry: 1, bucket: { minBurst: 10, lossPerAccept: 0 } });
    expect(b.lowerPerSec).toBeLessThanOrEqual(50);
    expect(b.upperPerSec).toBeGreaterThan(50);
    expect(b.lowerPerSec).toBeGreaterThan(45);
    expect(b.upperPerSec).toBeLessThan(56);
  });

  it('stay true when a busy client sends in bursts and its answers come back 150 ms late', () => {
    // The same schedule, written 0–80 ms late in clumps, answered up to 150 ms after arrival.
    const sends = [...Array<number>(21).fill(0), ...paced(20, 135, 58), ...paced(460, 70, 64)].map((t) => t + ((t * 7) % 80));
    const late = through(bucket(50, 20), sends, (i) => 1 + ((i * 37) % 150));
    const b = rateBounds(late, { carry: 1, bucket: { minBurst: 10, lossPerAccept: 0 } });
    expect(b.lowerPerSec).toBeLessThanOrEqual(50);
    expect(b.upperPerSec).toBeGreaterThan(50);
  });

  it('give no upper bound for windows: a window refuses until it ends, whatever its rate', () => {
    const spec: ModelSpec = { family: 'fixed-window', limit: 20, windowMs: 1000, alignment: 'first-request', restartOnRefusal: false };
    const outcomes = through(spec, paced(0, 70, 140));
    const b = rateBounds(outcomes, { carry: 20 });
    expect(b.upperPerSec).toBe(Infinity);
    expect(b.lowerPerSec).toBeLessThanOrEqual(20);
  });
});
