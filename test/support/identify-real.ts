/**
 * Identification against a real limiter: design the probe from the policy a user would write for it (the truth's
 * nominal rate and burst), send the schedule through the engine (HttpClient + runPaced + schedulePacer, the same
 * open-model sender the checks use), identify from what the client saw, and hold the result against the truth.
 *
 * Shared by bench/throttle-models.ts (real mode) and test/e2e/identify-limiters.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { identify, type FamilyFit, type Identification, type IdentifyHints } from '../../src/checks/throttle/identify/identify.js';
import { designProbe, type ProbeSchedule } from '../../src/checks/throttle/identify/probe.js';
import type { ObservedRequest } from '../../src/checks/throttle/identify/score.js';
import { RunBudget } from '../../src/engine/budget.js';
import { HttpClient } from '../../src/engine/http-client.js';
import { runPaced, type PacedRunSummary } from '../../src/engine/paced-run.js';
import { schedulePacer } from '../../src/engine/pacer.js';
import type { LimiterTruth } from './limiters/index.js';

/** The policy a user of this limiter would write: its nominal rate and burst (and window, for window limiters). */
export function policyFor(truth: LimiterTruth): IdentifyHints {
  return {
    rateLimit: truth.ratePerSec,
    burstLimit: truth.burst ?? truth.limit ?? truth.coldBurst,
    ...(truth.windowSec !== undefined ? { windowSec: truth.windowSec } : {}),
  };
}

export interface RealRun {
  schedule: ProbeSchedule;
  observations: ObservedRequest[];
  /** Answers with the truth's refusal status / 2xx / anything else (other statuses, transport errors: left out). */
  refused: number;
  accepted: number;
  other: number;
  /** Statuses of the refusals seen, e.g. {503: 40}. */
  refusalStatuses: Record<number, number>;
  paced: PacedRunSummary;
  /** How far the first send was from the schedule's startEpochMs (ms; the straddle volley's wall-clock placement). */
  startOffsetMs: number;
  /** First send to last answer (ms). */
  trafficMs: number;
}

/**
 * Sends the probe designed for `hints` to `url` with a fresh API key and returns what the client saw. `refusal` is
 * the status that means "throttled" here (the truth's: 429, or 503 for nginx's default and the 503 presets).
 */
export async function probeLimiter(url: string, hints: IdentifyHints, refusal: number): Promise<RealRun> {
  const key = `gc-${randomUUID()}`;
  const volley = hints.burstLimit * 2 + 10;
  const client = new HttpClient({ baseUrl: url, requestTimeoutMs: 10_000, connections: Math.max(64, volley + 8) });
  try {
    // Open the volley's sockets first, on the unlimited /health: a cold volley should not wait on TCP handshakes
    // (the sends would then smear over tens of ms and the first arrivals lag their sends).
    await Promise.all(Array.from({ length: volley }, () => client.send({ probe: 'warm-up', method: 'GET', path: '/health' })));
    const schedule = designProbe({ ...hints, epochMs: client.epochAtOriginMs + client.now() + 300 });
    const times = schedule.requests.map((r) => r.atMs);
    const budget = new RunBudget(schedule.requests.length, Infinity, () => client.now());
    // Sleep to just before the start, then yield until it: the cold volley should leave at 100 ms past a second.
    const startAt = schedule.startEpochMs - client.epochAtOriginMs;
    if (startAt - client.now() > 5) await sleep(Math.floor(startAt - client.now() - 3));
    while (client.now() < startAt) await new Promise<void>((resolve) => setImmediate(resolve));
    const observed: Array<{ i: number; sentAtMs: number; doneAtMs: number; status?: number }> = [];
    const paced = await runPaced({
      client,
      budget,
      pacer: schedulePacer(times, 'identification probe'),
      count: times.length,
      request: (i) => ({
        probe: `throttle.identify.${schedule.requests[i]!.segment}`,
        method: 'GET',
        path: '/api/items',
        headers: { 'x-api-key': key, 'x-probe-index': String(i) },
      }),
      onObservation: (o) => {
        observed.push({ i: Number(o.requestHeaders?.['x-probe-index']), sentAtMs: o.sentAtMs, doneAtMs: o.doneAtMs, status: o.status });
      },
      maxInFlight: 1024,
    });
    const epoch = client.epochAtOriginMs;
    const observations: ObservedRequest[] = [];
    const refusalStatuses: Record<number, number> = {};
    let other = 0;
    for (const o of observed) {
      const ok = o.status !== undefined && o.status >= 200 && o.status < 300;
      const refusedHere = o.status === refusal;
      if (!ok && !refusedHere) {
        other++;
        continue;
      }
      if (refusedHere) refusalStatuses[o.status!] = (refusalStatuses[o.status!] ?? 0) + 1;
      observations.push({
        sendMs: epoch + o.sentAtMs,
        answerMs: epoch + o.doneAtMs,
        accepted: ok,
        segment: schedule.requests[o.i]!.segment,
      });
    }
    observations.sort((a, b) => a.sendMs - b.sendMs);
    const firstSend = Math.min(...observations.map((o) => o.sendMs));
    const lastAnswer = Math.max(...observations.map((o) => o.answerMs));
    return {
      schedule,
      observations,
      accepted: observations.filter((o) => o.accepted).length,
      refused: observations.filter((o) => !o.accepted).length,
      other,
      refusalStatuses,
      paced,
      startOffsetMs: paced.startedAtMs + epoch - schedule.startEpochMs,
      trafficMs: lastAnswer - firstSend,
    };
  } finally {
    await client.close();
  }
}

export interface Judged {
  id: Identification;
  /** The fit judged: the best, or the runner-up when flagged ambiguous and it names the truth's algorithm. */
  fit: FamilyFit | undefined;
  algorithmOk: boolean;
  /** Identified rate / true rate − 1 (of the fit judged, else of the best). */
  rateError: number;
  rateOk: boolean;
  /** Identified burst (or limit) − the truth's. */
  burstError: number;
  burstOk: boolean;
  ok: boolean;
  /** CPU time of identify() (user + system, ms). */
  cpuMs: number;
}

/** What an idle key admits at once, per the truth: a bucket's burst, a window's limit. */
export function truthBurst(truth: LimiterTruth): number {
  return truth.burst ?? truth.limit ?? truth.coldBurst;
}

/**
 * Identifies and judges against the tolerances: algorithm right, rate within ±5%, burst/limit within ±2
 * requests or 5%. A lockout (vsthrottle `block`) hides the refill: its rate is right when the range that fits
 * contains the true rate (±5%).
 */
export function identifyAndJudge(run: RealRun, hints: IdentifyHints, truth: LimiterTruth): Judged {
  const before = process.cpuUsage();
  const id = identify(run.observations, hints);
  const cpu = process.cpuUsage(before);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const fit =
    id.algorithm === truth.algorithm ? id.best : id.ambiguous && id.runnerUp?.algorithm === truth.algorithm ? id.runnerUp : undefined;
  const judged = fit ?? id.best;
  const rateError = judged.params.ratePerSec / truth.ratePerSec - 1;
  const range = judged.params.rateRangePerSec;
  const rateHidden = truth.lockoutSec !== undefined && truth.algorithm === 'token-bucket';
  const rateOk = rateHidden
    ? range !== undefined && range[0] <= truth.ratePerSec * 1.05 && range[1] >= truth.ratePerSec * 0.95
    : Math.abs(rateError) <= 0.05 + 1e-9; // inclusive: 19/20 − 1 is −0.05000000000000004 in floating point
  const burstError = judged.params.burst - truthBurst(truth);
  const burstOk = Math.abs(burstError) <= Math.max(2, 0.05 * truthBurst(truth));
  const algorithmOk = fit !== undefined;
  return { id, fit, algorithmOk, rateError, rateOk, burstError, burstOk, ok: algorithmOk && rateOk && burstOk, cpuMs };
}

/**
 * Did the client keep its schedule? The identification reads arrival times from measured sends and answers, so a
 * late client changes the probe, not the honesty of the fit; but a probe that went out late is not the probe that
 * was designed (a volley smeared over tens of ms, a trickle with holes, the straddle volley off its wall-clock
 * boundary), so assertions only hold when it kept it. Bounds: no send later than half a request's refill at the
 * policy's rate (at most 25 ms) behind its intended time; the start within 20 ms of the designed one (half the
 * straddle volley's half-spread); the event loop's p99 delay under 10 ms.
 */
export function keptSchedule(run: RealRun, hints: IdentifyHints): { kept: boolean; why: string } {
  const lag = run.paced.maxSendLagMs;
  const lagBound = Math.min(25, 500 / hints.rateLimit);
  const loop = run.paced.offered.loopDelayMs.p99;
  const why =
    `max send lag ${lag.toFixed(1)} ms (bound ${lagBound.toFixed(0)}), event-loop p99 delay ${loop.toFixed(1)} ms (bound 10), ` +
    `start offset ${run.startOffsetMs.toFixed(1)} ms (bound 20)`;
  return { kept: lag <= lagBound && loop <= 10 && Math.abs(run.startOffsetMs) <= 20, why };
}
