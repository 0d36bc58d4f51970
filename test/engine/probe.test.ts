/**
 * sendProbe against a loopback server that answers 429 a set number of times, then something
 * else: how often it retries, how long it waits, and that the run's budget bounds both.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RunBudget } from '../../src/engine/budget.js';
import { HttpClient } from '../../src/engine/http-client.js';
import type { Observation } from '../../src/engine/observation.js';
import { sendProbe } from '../../src/engine/probe.js';
import type { ThrottleAwareness } from '../../src/engine/throttle-model.js';
import { after, startScriptedServer, type Behaviour, type ScriptedServer } from '../support/scripted-server.js';

const answer =
  (status: number, headers: Record<string, string> = {}): Behaviour =>
  (_req, res) => {
    res.writeHead(status, headers);
    res.end(status === 429 ? '{"message":"Too Many Requests"}' : '{}');
  };
const throttled = (retryAfter?: string) => answer(429, retryAfter === undefined ? {} : { 'retry-after': retryAfter });
const reset: Behaviour = (req) => req.socket.destroy();

interface Rig {
  server: ScriptedServer;
  client: HttpClient;
  budget: RunBudget;
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((close) => close()));
});

async function rig(behaviour: Behaviour, maxRequests = 100, deadlineMs = 60_000): Promise<Rig> {
  const server = await startScriptedServer(behaviour);
  const stop = new AbortController();
  const client = new HttpClient({ baseUrl: server.url, requestTimeoutMs: 2_000, signal: stop.signal });
  const budget = new RunBudget(maxRequests, client.now() + deadlineMs, () => client.now(), stop);
  open.push(async () => {
    await client.close();
    await server.close();
  });
  return { server, client, budget };
}

const request = { probe: 'cors.actual', method: 'GET', path: '/items' };

/** Gaps between consecutive attempts' send times. */
const gaps = (attempts: Observation[]) => attempts.slice(1).map((o, i) => o.sentAtMs - attempts[i]!.sentAtMs);

/**
 * Node's timers are at least their delay on the millisecond clock; against performance.now() they
 * can land up to ~1 ms short of it, so a wait of w ms shows as a gap of at least w − 1.
 */
const TIMER_GRAIN_MS = 1;

/** A 1 s refill, so that a shorter wait (or none) can only come from Retry-After. */
const SLOW_REFILL: ThrottleAwareness = { refillMs: 1_000, maxRetries: 4 };

describe('sendProbe: 429 retried after the refill time, doubling', () => {
  it.each([
    // [429s first, maxRetries, refillMs, attempts, throttledOut, final status]
    [0, 4, 10, 1, false, 200],
    [1, 4, 10, 2, false, 200],
    [3, 4, 10, 4, false, 200],
    [4, 4, 10, 5, false, 200],
    [5, 4, 10, 5, true, 429],
    [50, 4, 10, 5, true, 429],
    [1, 0, 10, 1, true, 429],
    [2, 1, 10, 2, true, 429],
  ])(
    '%i × 429 first, maxRetries %i, refill %i ms: %i attempt(s), throttledOut %s, final %i',
    async (n, maxRetries, refillMs, attempts, out, final) => {
      const r = await rig(after(n, throttled(), answer(200)));
      const outcome = await sendProbe(r.client, r.budget, request, { refillMs, maxRetries });
      expect(outcome).toBeDefined();
      expect(outcome!.attempts).toHaveLength(attempts);
      expect(outcome!.throttledOut).toBe(out);
      expect(outcome!.final.status).toBe(final);
      expect(outcome!.final).toBe(outcome!.attempts[attempts - 1]);
      expect(outcome!.attempts.slice(0, -1).every((o) => o.status === 429)).toBe(true);
      expect(r.server.hits()).toBe(attempts);
      expect(r.budget.requestsSent).toBe(attempts);
      // Wait k before attempt k+1 is refillMs·2^k: 10, 20, 40, 80 ms.
      gaps(outcome!.attempts).forEach((gap, k) => expect(gap).toBeGreaterThanOrEqual(refillMs * 2 ** k - TIMER_GRAIN_MS));
    },
  );

  it('throttled out by maxRetries: back as soon as the last 429 is in, without one more wait', async () => {
    const r = await rig(throttled());
    const outcome = await sendProbe(r.client, r.budget, request, { refillMs: 200, maxRetries: 2 });
    const returnedAtMs = r.client.now();
    expect(outcome!.attempts).toHaveLength(3);
    expect(outcome!.throttledOut).toBe(true);
    // Waits of 200 and 400 ms between the three attempts; a third wait (800 ms) would retry nothing.
    expect(returnedAtMs - outcome!.final.doneAtMs).toBeLessThan(400);
  });

  it.each<[string, Behaviour, number | undefined]>([
    ['403', answer(403), 403],
    ['500', answer(500), 500],
    ['a reset connection', reset, undefined],
  ])('%s is the answer, not retried', async (_name, behaviour, status) => {
    const r = await rig(behaviour);
    const outcome = await sendProbe(r.client, r.budget, request, { refillMs: 10, maxRetries: 4 });
    expect(outcome!.attempts).toHaveLength(1);
    expect(outcome!.throttledOut).toBe(false);
    expect(outcome!.final.status).toBe(status);
    expect(r.server.hits()).toBe(1);
  });
});

describe('sendProbe: Retry-After', () => {
  // The refill time here is 1 s: a retry well before it can only have followed Retry-After.
  it.each<[string, number, number]>([
    ['0.05', 50, 500],
    ['0.1', 100, 600],
  ])('Retry-After: %s waits %i ms, not the 1 s refill', async (value, waitMs, beforeMs) => {
    const r = await rig(after(1, throttled(value), answer(200)));
    const outcome = await sendProbe(r.client, r.budget, request, SLOW_REFILL);
    expect(outcome!.throttledOut).toBe(false);
    expect(outcome!.attempts).toHaveLength(2);
    const [gap] = gaps(outcome!.attempts);
    expect(gap).toBeGreaterThanOrEqual(waitMs - TIMER_GRAIN_MS);
    expect(gap).toBeLessThan(beforeMs);
  });

  // A value that is not a positive number of seconds is ignored: the refill time applies.
  it.each(['0', '-3', 'soon', 'Wed, 21 Oct 2015 07:28:00 GMT', ''])('Retry-After: "%s" falls back to the refill time', async (value) => {
    const r = await rig(after(1, throttled(value), answer(200)));
    const outcome = await sendProbe(r.client, r.budget, request, { refillMs: 60, maxRetries: 4 });
    expect(outcome!.attempts).toHaveLength(2);
    expect(gaps(outcome!.attempts)[0]).toBeGreaterThanOrEqual(60 - TIMER_GRAIN_MS);
  });
});

describe('sendProbe: never past the budget', () => {
  it('a cap already reached sends nothing and has no outcome', async () => {
    const r = await rig(answer(200), 0);
    expect(await sendProbe(r.client, r.budget, request, { refillMs: 10, maxRetries: 4 })).toBeUndefined();
    expect(r.server.hits()).toBe(0);
  });

  it.each([
    // [cap, attempts]: 429 forever, so the cap ends the retries before maxRetries does.
    [1, 1],
    [2, 2],
    [3, 3],
  ])('a cap of %i requests: %i attempt(s), all 429, throttled out', async (cap, attempts) => {
    const r = await rig(throttled(), cap);
    const outcome = await sendProbe(r.client, r.budget, request, { refillMs: 10, maxRetries: 4 });
    expect(outcome!.attempts).toHaveLength(attempts);
    expect(outcome!.throttledOut).toBe(true);
    expect(r.server.hits()).toBe(attempts);
  });

  it('a wait that would outlast the deadline is not taken: no retry, back at once', async () => {
    const r = await rig(after(1, throttled('2'), answer(200)), 100, 500);
    const startedAtMs = r.client.now();
    const outcome = await sendProbe(r.client, r.budget, request, SLOW_REFILL);
    expect(outcome!.attempts).toHaveLength(1);
    expect(outcome!.throttledOut).toBe(true);
    // Not the 2 s Retry-After.
    expect(r.client.now() - startedAtMs).toBeLessThan(1_000);
    expect(r.server.hits()).toBe(1);
  });

  it('doubling waits stop when the next one passes the deadline (20, 40, 80 fit in 280 ms; 160 does not)', async () => {
    // The fourth attempt goes at ≥ 137 ms (timers are never more than 1 ms early), when < 160 ms are
    // left; the third wait (80 ms) is taken unless the first two attempts ran 140 ms late.
    const r = await rig(throttled(), 100, 280);
    const outcome = await sendProbe(r.client, r.budget, request, { refillMs: 20, maxRetries: 10 });
    expect(outcome!.attempts).toHaveLength(4);
    expect(outcome!.throttledOut).toBe(true);
    // It gives up instead of sleeping through the deadline.
    expect(r.client.now()).toBeLessThan(r.budget.deadlineMs);
  });

  it('an interrupt during the wait ends the probe at once, with what it has', async () => {
    const r = await rig(after(1, throttled('5'), answer(200)));
    setTimeout(() => r.budget.interrupt(), 50);
    const startedAtMs = r.client.now();
    const outcome = await sendProbe(r.client, r.budget, request, { refillMs: 10, maxRetries: 4 });
    // Not the 5 s Retry-After.
    expect(r.client.now() - startedAtMs).toBeLessThan(1_000);
    expect(outcome!.attempts).toHaveLength(1);
    expect(outcome!.throttledOut).toBe(true);
    expect(r.server.hits()).toBe(1);
  });
});
