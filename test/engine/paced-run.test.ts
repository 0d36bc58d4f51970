/**
 * The paced loop against a loopback server (127.0.0.1, port 0): what it sends, drops, cuts and
 * measures. Rates and counts are kept small so each case runs well under a second.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RunBudget } from '../../src/engine/budget.js';
import { HealthGuard } from '../../src/engine/health-guard.js';
import { HttpClient } from '../../src/engine/http-client.js';
import type { Observation } from '../../src/engine/observation.js';
import { runPaced, type PacedRunSummary } from '../../src/engine/paced-run.js';
import { constantPacer, poissonPacer, rampPacer, volleyPacer, type Pacer } from '../../src/engine/pacer.js';
import { startScriptedServer, type Behaviour, type ScriptedServer } from '../support/scripted-server.js';

const ok: Behaviour = (_req, res) => res.end('{}');
const status = (code: number): Behaviour => (_req, res) => {
  res.writeHead(code);
  res.end();
};
/** Answers after `ms`, so requests stay in flight; the timer goes when the connection does. */
const hold = (ms: number): Behaviour => (_req, res) => {
  const timer = setTimeout(() => res.end('{}'), ms);
  res.on('close', () => clearTimeout(timer));
};
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

/** A server, a client on its URL and a budget on the client's clock (deadline in ms from now). */
async function rig(behaviour: Behaviour, maxRequests = 10_000, deadlineMs = 60_000): Promise<Rig> {
  const server = await startScriptedServer(behaviour);
  const stop = new AbortController();
  const client = new HttpClient({ baseUrl: server.url, requestTimeoutMs: 5_000, signal: stop.signal });
  const budget = new RunBudget(maxRequests, client.now() + deadlineMs, () => client.now(), stop);
  open.push(async () => {
    await client.close();
    await server.close();
  });
  return { server, client, budget };
}

interface Run {
  summary: PacedRunSummary;
  observations: Observation[];
  /** Indices `request(i)` was asked for, in order. */
  built: number[];
}

async function run(r: Rig, pacer: Pacer, count: number, maxInFlight = 1024, guard?: HealthGuard): Promise<Run> {
  const observations: Observation[] = [];
  const built: number[] = [];
  const summary = await runPaced({
    client: r.client,
    budget: r.budget,
    pacer,
    count,
    request: (i) => (built.push(i), { probe: 'test', method: 'GET', path: `/r?i=${i}` }),
    onObservation: (o) => observations.push(o),
    maxInFlight,
    ...(guard ? { guard } : {}),
  });
  return { summary, observations, built };
}

describe('runPaced: sends exactly count', () => {
  it.each<[string, number, () => Pacer]>([
    ['volley', 30, () => volleyPacer()],
    ['constant 500/s', 50, () => constantPacer(500)],
    ['poisson 500/s', 50, () => poissonPacer(500, 3)],
    ['ramp 100→500/s over 0.2 s', 60, () => rampPacer(100, 500, 0.2)],
    ['constant 10/s', 1, () => constantPacer(10)],
    ['constant 10/s', 0, () => constantPacer(10)],
  ])('%s × %i', async (_name, count, pacer) => {
    const r = await rig(ok);
    const { summary, observations, built } = await run(r, pacer(), count);
    expect(summary).toMatchObject({ scheduled: count, sent: count, dropped: 0, cutByBudget: 0 });
    expect(summary.stoppedBecause).toBeUndefined();
    // Every request built once, in order, and answered before runPaced returns.
    expect(built).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(observations.map((o) => o.status)).toEqual(new Array(count).fill(200));
    expect(r.server.hits()).toBe(count);
    expect(r.budget.requestsSent).toBe(count);
  });

  it('keeps each request\'s intended time, and never sends one before it', async () => {
    const r = await rig(ok);
    const pacer = constantPacer(400);
    const { summary, observations } = await run(r, pacer, 40);
    const byIndex = new Map(observations.map((o) => [Number(o.path.split('=')[1]), o]));
    for (const [i, o] of byIndex) {
      expect(o.intendedAtMs).toBeCloseTo(summary.startedAtMs + pacer.intendedAtMs(i), 9);
      expect(o.sentAtMs).toBeGreaterThanOrEqual(o.intendedAtMs);
      // maxSendLagMs is read just before the hand-off to the client, sentAtMs in it: same tick, well under 1 ms.
      expect(o.sentAtMs - o.intendedAtMs).toBeLessThanOrEqual(summary.maxSendLagMs + 1);
    }
  });
});

describe('runPaced: the budget cap', () => {
  it.each([
    // [cap, count, sent, cut]
    [0, 20, 0, 20],
    [1, 20, 1, 19],
    [7, 20, 7, 13],
    [20, 20, 20, 0],
    [25, 20, 20, 0],
  ])('a cap of %i for %i requests sends %i and cuts %i', async (cap, count, sent, cut) => {
    const r = await rig(ok, cap);
    const { summary } = await run(r, constantPacer(1000), count);
    expect(summary).toMatchObject({ sent, cutByBudget: cut, dropped: 0 });
    expect(r.server.hits()).toBe(sent);
  });

  it('a deadline already passed sends nothing and cuts everything', async () => {
    const r = await rig(ok, 10_000, -1);
    const { summary } = await run(r, volleyPacer(), 15);
    expect(summary).toMatchObject({ sent: 0, cutByBudget: 15 });
    expect(r.server.hits()).toBe(0);
  });

  it('a deadline 100 ms in stops a 100/s schedule after about 10 requests; the rest are cut', async () => {
    const r = await rig(ok, 10_000, 100);
    const { summary, observations } = await run(r, constantPacer(100), 50);
    expect(summary.sent + summary.cutByBudget).toBe(50);
    // At most the requests due before the deadline (the run starts a moment after the budget was made);
    // a due request that a late timer pushes past the deadline is cut too, hence the looser floor.
    const dueBeforeDeadline = Math.ceil((r.budget.deadlineMs - summary.startedAtMs) / 10);
    expect(dueBeforeDeadline).toBeLessThanOrEqual(10);
    expect(summary.sent).toBeLessThanOrEqual(dueBeforeDeadline);
    expect(summary.sent).toBeGreaterThanOrEqual(5);
    expect(Math.max(...observations.map((o) => o.sentAtMs))).toBeLessThan(r.budget.deadlineMs);
  });
});

describe('runPaced: open model, maxInFlight', () => {
  // The server holds every answer for 300 ms, longer than any schedule here (≤ 60 ms), so exactly
  // maxInFlight requests go out and every later due request is dropped, not queued.
  it.each<[string, number, number, () => Pacer]>([
    ['volley', 20, 1, () => volleyPacer()],
    ['volley', 20, 5, () => volleyPacer()],
    ['volley', 20, 20, () => volleyPacer()],
    ['constant 1000/s', 30, 3, () => constantPacer(1000)],
    ['constant 1000/s', 30, 40, () => constantPacer(1000)],
  ])('%s × %i against a server that holds answers, maxInFlight %i', async (_name, count, maxInFlight, pacer) => {
    const r = await rig(hold(300));
    const { summary, observations, built } = await run(r, pacer(), count, maxInFlight);
    const sent = Math.min(count, maxInFlight);
    expect(summary).toMatchObject({ sent, dropped: count - sent, cutByBudget: 0 });
    // A dropped request is neither built nor taken from the budget.
    expect(built).toHaveLength(sent);
    expect(r.budget.requestsSent).toBe(sent);
    expect(observations).toHaveLength(sent);
    expect(observations.every((o) => o.status === 200)).toBe(true);
  });

  it('nothing is dropped when answers come back before the next request is due', async () => {
    const r = await rig(ok);
    // 20 ms between sends against a loopback answer of about a millisecond: one in flight is enough.
    const { summary } = await run(r, constantPacer(50), 10, 1);
    expect(summary).toMatchObject({ sent: 10, dropped: 0 });
  });
});

describe('runPaced: the health guard', () => {
  // A guard of 5 bad answers in the last 10 trips after the fifth; at 200/s the schedule (100
  // requests, 0.5 s) is far from done by then, so it must stop short.
  it.each<[string, Behaviour]>([
    ['500', status(500)],
    ['503', status(503)],
    ['a reset connection', reset],
  ])('a server answering %s stops the schedule', async (_name, behaviour) => {
    const r = await rig(behaviour);
    const guard = new HealthGuard({ window: 10, maxShare: 0.5 });
    const { summary, observations } = await run(r, constantPacer(200), 100, 1024, guard);
    expect(summary.stoppedBecause).toMatch(/the gateway is failing: 5 of the last 5 answers/);
    expect(summary.sent).toBeGreaterThanOrEqual(5);
    // Answers come back within a few ms at 5 ms spacing: the trip lands a handful of sends after the fifth.
    expect(summary.sent).toBeLessThan(30);
    expect(summary.sent + summary.cutByBudget + summary.dropped).toBe(100);
    expect(observations).toHaveLength(summary.sent);
  });

  it.each<[string, Behaviour]>([
    ['429', status(429)],
    ['404', status(404)],
    ['200', ok],
  ])('a server answering %s runs the whole schedule', async (_name, behaviour) => {
    const r = await rig(behaviour);
    const guard = new HealthGuard({ window: 10, maxShare: 0.5 });
    const { summary } = await run(r, constantPacer(500), 50, 1024, guard);
    expect(summary).toMatchObject({ sent: 50, cutByBudget: 0 });
    expect(summary.stoppedBecause).toBeUndefined();
  });

  it('a guard tripped by an earlier phase sends nothing: every request is cut', async () => {
    const r = await rig(ok);
    const guard = new HealthGuard({ window: 2, maxShare: 0.5 });
    guard.record({ probe: 'earlier', method: 'GET', path: '/', intendedAtMs: 0, sentAtMs: 0, doneAtMs: 1, headers: {}, status: 502 });
    const { summary } = await run(r, volleyPacer(), 10, 1024, guard);
    expect(summary).toMatchObject({ sent: 0, cutByBudget: 10 });
    expect(summary.stoppedBecause).toMatch(/latest: 502/);
    expect(r.server.hits()).toBe(0);
  });
});

describe('runPaced: offered load', () => {
  // Sends are never early (a request goes when its intended time has passed), so the span from the
  // start to the last send is at least the last intended time and the offered rate at most the
  // pacer's. Sleeps are setTimeout's (1 ms granularity, plus the event loop's delay on a busy
  // machine, where another test worker shares the 2 cores: stalls of ~30 ms were seen). 40 ms
  // covers that and still rejects a schedule that drifts (1 ms lost per send is 100+ ms here).
  const SLACK_MS = 40;
  it.each([
    [200, 100],
    [100, 50],
    [400, 200],
  ])('constant %i/s for %i requests (0.5 s) is offered at that rate', async (rate, count) => {
    const r = await rig(ok);
    const { summary } = await run(r, constantPacer(rate), count);
    const lastIntendedMs = ((count - 1) * 1000) / rate;
    expect(summary.sendSpanMs).toBeGreaterThanOrEqual(lastIntendedMs);
    expect(summary.sendSpanMs).toBeLessThan(lastIntendedMs + SLACK_MS);
    // Rounded to 0.1/s by the summary.
    expect(summary.offered.ratePerSec).toBeLessThanOrEqual(rate + 0.05);
    expect(summary.offered.ratePerSec).toBeGreaterThan(((count - 1) * 1000) / (lastIntendedMs + SLACK_MS));
    expect(summary.offered.ratePerSec).toBeCloseTo(((count - 1) * 1000) / summary.sendSpanMs, 1);
    // 100 ms windows hold rate/10 sends; the lag can move a send or two across a boundary.
    const perWindow = rate / 10;
    expect(Math.abs(summary.offered.windowRatePerSec.median - rate)).toBeLessThanOrEqual((2 / perWindow) * rate);
    expect(summary.maxSendLagMs).toBeLessThan(SLACK_MS);
  });

  it('a volley is all intended at the start and spans no whole 100 ms window, so it has no window rates', async () => {
    const r = await rig(ok);
    const { summary, observations } = await run(r, volleyPacer(), 10);
    expect(observations.every((o) => o.intendedAtMs === summary.startedAtMs)).toBe(true);
    expect(summary.sendSpanMs).toBeLessThan(100);
    expect(summary.offered.windowRatePerSec).toEqual({ min: 0, median: 0, max: 0 });
  });
});

describe('runPaced: an interrupted budget', () => {
  it('stops sending at once: nothing is sent after interrupt(), the rest is cut', async () => {
    const r = await rig(ok);
    let interruptedAtMs = Number.POSITIVE_INFINITY;
    setTimeout(() => {
      interruptedAtMs = r.client.now();
      r.budget.interrupt();
    }, 100);
    const { summary, observations } = await run(r, constantPacer(200), 200);
    const returnedAtMs = r.client.now();
    expect(summary.sent + summary.cutByBudget).toBe(200);
    // Only requests due before the interrupt went (one every 5 ms); the schedule had 1 s to go.
    expect(summary.sent).toBeGreaterThan(5);
    expect(summary.sent).toBeLessThanOrEqual(Math.floor((interruptedAtMs - summary.startedAtMs) / 5) + 1);
    expect(Math.max(...observations.map((o) => o.sentAtMs))).toBeLessThan(interruptedAtMs);
    // The loop notices at the next due request (5 ms on), then waits only for the answers in flight.
    expect(returnedAtMs - interruptedAtMs).toBeLessThan(100);
    expect(r.server.hits()).toBe(summary.sent);
  });

  it('drops what is in flight against a server that holds answers, instead of waiting for them', async () => {
    const r = await rig(hold(5_000));
    let interruptedAtMs = Number.POSITIVE_INFINITY;
    setTimeout(() => {
      interruptedAtMs = r.client.now();
      r.budget.interrupt();
    }, 100);
    const { summary, observations } = await run(r, constantPacer(200), 200);
    expect(r.client.now() - interruptedAtMs).toBeLessThan(200);
    expect(summary.sent + summary.cutByBudget).toBe(200);
    expect(observations).toHaveLength(summary.sent);
    expect(observations.every((o) => o.status === undefined && o.error !== undefined)).toBe(true);
  });

  it('interrupted before the start sends nothing', async () => {
    const r = await rig(ok);
    r.budget.interrupt();
    const { summary } = await run(r, volleyPacer(), 10);
    expect(summary).toMatchObject({ sent: 0, cutByBudget: 10 });
    expect(r.server.hits()).toBe(0);
  });
});
