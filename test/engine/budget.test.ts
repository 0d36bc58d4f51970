import { describe, expect, it } from 'vitest';
import { RunBudget } from '../../src/engine/budget.js';

describe('run budget: caps and interruption', () => {
  it('takes requests until the cap', () => {
    const budget = new RunBudget(3, 1_000, () => 0);
    expect([budget.take(), budget.take(), budget.take(), budget.take()]).toEqual([true, true, true, false]);
    expect(budget.requestsLeft).toBe(0);
  });

  it('after interrupt(): no request is taken, no time is left, and the signal is aborted', () => {
    const budget = new RunBudget(100, 60_000, () => 0);
    budget.interrupt();
    expect(budget.take()).toBe(false);
    expect(budget.msLeft).toBe(0);
    expect(budget.interrupted).toBe(true);
    expect(budget.signal.aborted).toBe(true);
  });

  it('a pause returns at once when the run is interrupted during it', async () => {
    const budget = new RunBudget(100, 60_000, () => 0);
    const started = performance.now();
    const paused = budget.pause(10_000);
    setTimeout(() => budget.interrupt(), 20);
    await paused;
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('a pause waits its time otherwise', async () => {
    const budget = new RunBudget(100, 60_000, () => 0);
    const started = performance.now();
    await budget.pause(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });
});
