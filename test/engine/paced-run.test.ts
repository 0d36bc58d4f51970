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
const status =
  (code: number): Behaviour =>
  (_req, res) => {
    res.writeHead(code);
    res.end();
  };
/** Answers after `ms`, so requests stay in flight; the timer goes when the connection does. */
const hold =
  (ms: number): Behaviour =>
  (_req, res) => {
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

/**
 * How late the loop can send a request: setTimeout's 1 ms granularity, the floor() of its sleep,
 * and the 1 ms resolution and 0.1 rounding of the event-loop delay that runPaced measures. The
 * rest of any lateness is that measured delay (offered.loopDelayMs.max): a few ms on an idle
 * machine, tens of ms when other processes share the 2 cores. Bounds below are built from both.
 */
const TIMER_MS = 5;
const slackOf = (summary: PacedRunSummary) => TIMER_MS + summary.offered.loopDelayMs.max;

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

  it("keeps each request's intended time, and never sends one before it", async () => {
    const r = await rig(ok);
    const pacer = constantPacer(400);
    const { summary, observations } = await run(r, pacer, 40);
    const lags = observations.map((o) => {
      const i = Number(o.path.split('=')[1]);
      expect(o.intendedAtMs).toBeCloseTo(summary.startedAtMs + pacer.intendedAtMs(i), 9);
      expect(o.sentAtMs).toBeGreaterThanOrEqual(o.intendedAtMs);
      return o.sentAtMs - o.intendedAtMs;
    });
    // The summary reads the clock just before handing a request to the client, which stamps sentAtMs.
    expect(summary.maxSendLagMs).toBeLessThanOrEqual(Math.max(...lags));
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
    expect(Math.max(...observations.map((o) => o.sentAtMs))).toBeLessThan(r.budget.deadlineMs);
    // At most the requests due before the deadline (the run starts a moment after the budget was made);
    // one due within the slack of the deadline may leave after it, and is cut too.
    const due = Math.ceil((r.budget.deadlineMs - summary.startedAtMs) / 10);
    expect(due).toBeLessThanOrEqual(10);
    expect(summary.sent).toBeLessThanOrEqual(due);
    expect(summary.sent).toBeGreaterThanOrEqual(due - Math.floor(slackOf(summary) / 10) - 1);
  });
});

describe('runPaced: open model, maxInFlight', () => {
  // The server holds every answer for 500 ms. A volley leaves in one synchronous batch, so no
  // answer can free a slot during it; the paced rows last 30 ms, far less than the hold. So exactly
  // maxInFlight requests go out and every later due request is dropped, not queued.
  it.each<[string, number, number, () => Pacer]>([
    ['volley', 20, 1, () => volleyPacer()],
    ['volley', 20, 5, () => volleyPacer()],
    ['volley', 20, 20, () => volleyPacer()],
    ['constant 1000/s', 30, 3, () => constantPacer(1000)],
    ['constant 1000/s', 30, 40, () => constantPacer(1000)],
  ])('%s × %i against a server that holds answers, maxInFlight %i', async (_name, count, maxInFlight, pacer) => {
    const r = await rig(hold(500));
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
    // 100 ms between sends against a loopback answer of about a millisecond: one in flight is enough.
    const { summary } = await run(r, constantPacer(10), 4, 1);
    expect(summary).toMatchObject({ sent: 4, dropped: 0 });
  });
});

/** A guard that notes when it tripped, on the client's clock. */
class TimedGuard extends HealthGuard {
  trippedAtMs: number | undefined;
  constructor(private readonly now: () => number) {
    super({ window: 10, maxShare: 0.5 });
  }

  override record(observation: Observation): void {
    super.record(observation);
    if (this.tripped !== undefined) this.trippedAtMs ??= this.now();
  }
}

describe('runPaced: the health guard', () => {
  // The guard (5 bad answers in the last 10) trips on the fifth; at 200/s the schedule (100
  // requests, 0.5 s) is far from done by then, so it must stop short, sending nothing after the trip.
  it.each<[string, Behaviour]>([
    ['500', status(500)],
    ['503', status(503)],
    ['a reset connection', reset],
  ])('a server answering %s stops the schedule', async (_name, behaviour) => {
    const r = await rig(behaviour);
    const guard = new TimedGuard(() => r.client.now());
    const { summary, observations } = await run(r, constantPacer(200), 100, 1024, guard);
    expect(summary.stoppedBecause).toMatch(/the gateway is failing: 5 of the last 5 answers/);
    expect(summary.sent).toBeGreaterThanOrEqual(5);
    expect(Math.max(...observations.map((o) => o.sentAtMs))).toBeLessThan(guard.trippedAtMs!);
    expect(summary.cutByBudget).toBeGreaterThan(0);
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
  // Sends are never early (a request goes once its intended time has passed), so the span from the
  // start to the last send is at least the last intended time and the offered rate at most the
  // pacer's; no send is later than the slack. A pacer that drifts (1 ms lost per send is 100+ ms
  // here) or sleeps too long breaks these on an idle machine and a busy one alike.
  it.each([
    [200, 100],
    [100, 50],
    [400, 200],
  ])('constant %i/s for %i requests (0.5 s) is offered at that rate', async (rate, count) => {
    const r = await rig(ok);
    const { summary } = await run(r, constantPacer(rate), count);
    const slackMs = slackOf(summary);
    const lastIntendedMs = ((count - 1) * 1000) / rate;
    expect(summary.maxSendLagMs).toBeLessThanOrEqual(slackMs);
    expect(summary.sendSpanMs).toBeGreaterThanOrEqual(lastIntendedMs);
    expect(summary.sendSpanMs).toBeLessThanOrEqual(lastIntendedMs + slackMs);
    // Rounded to 0.1/s by the summary.
    const round = 0.05 + 1e-9;
    expect(Math.abs(summary.offered.ratePerSec - ((count - 1) * 1000) / summary.sendSpanMs)).toBeLessThanOrEqual(round);
    expect(summary.offered.ratePerSec).toBeLessThanOrEqual(rate + round);
    expect(summary.offered.ratePerSec).toBeGreaterThanOrEqual(((count - 1) * 1000) / (lastIntendedMs + slackMs) - round);
    // A 100 ms window holds rate/10 sends; lateness moves at most slack·rate + 1 of them into the next.
    const movable = (slackMs * rate) / 1000 + 1;
    expect(Math.abs(summary.offered.windowRatePerSec.median - rate)).toBeLessThanOrEqual(movable * 10);
  });

  it('a volley: every request intended at the start, so the send span is the largest lag', async () => {
    const r = await rig(ok);
    const { summary, observations } = await run(r, volleyPacer(), 10);
    expect(observations.every((o) => o.intendedAtMs === summary.startedAtMs)).toBe(true);
    expect(summary.maxSendLagMs).toBeCloseTo(summary.sendSpanMs, 9);
  });
});

describe('runPaced: an interrupted budget', () => {
  /** Interrupts the budget after `ms`; returns when it did, on the client clock. */
  function interruptAfter(r: Rig, ms: number): { atMs: number } {
    const when = { atMs: Number.POSITIVE_INFINITY };
    setTimeout(() => {
      when.atMs = r.client.now();
      r.budget.interrupt();
    }, ms);
    return when;
  }

  it('stops sending at once: nothing is sent after interrupt(), the rest is cut', async () => {
    const r = await rig(ok);
    const interrupted = interruptAfter(r, 100);
    const { summary, observations } = await run(r, constantPacer(200), 200);
    const returnedAtMs = r.client.now();
    expect(summary.sent + summary.cutByBudget).toBe(200);
    expect(Math.max(...observations.map((o) => o.sentAtMs))).toBeLessThan(interrupted.atMs);
    // Sent: the requests due before the interrupt (one every 5 ms), less those within the slack of it.
    const before = interrupted.atMs - summary.startedAtMs;
    expect(summary.sent).toBeLessThanOrEqual(Math.floor(before / 5) + 1);
    expect(summary.sent).toBeGreaterThanOrEqual(Math.floor((before - slackOf(summary)) / 5));
    // The rest of the schedule was 0.9 s; it winds down at the next due request and the answers in flight.
    expect(returnedAtMs - interrupted.atMs).toBeLessThan(250);
    // Requests still in flight at the interrupt fail at once (the client drops its sockets), so some
    // sent requests may never have reached the server; none reached it unsent.
    expect(observations).toHaveLength(summary.sent);
    expect(r.server.hits()).toBeLessThanOrEqual(summary.sent);
    expect(observations.filter((o) => o.status === 200).length).toBeLessThanOrEqual(r.server.hits());
  });

  it('drops what is in flight against a server that holds answers, instead of waiting for them', async () => {
    const r = await rig(hold(5_000));
    const interrupted = interruptAfter(r, 100);
    const { summary, observations } = await run(r, constantPacer(200), 200);
    // Not the 5 s hold: destroying the client's sockets fails every exchange in flight at once.
    expect(r.client.now() - interrupted.atMs).toBeLessThan(1_000);
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
