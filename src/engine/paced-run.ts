import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunBudget } from './budget.js';
import type { HealthGuard } from './health-guard.js';
import type { HttpClient, ProbeRequest } from './http-client.js';
import type { Observation } from './observation.js';
import type { Pacer } from './pacer.js';

/** What the loop needs of a client: its clock and a send (HttpClient, or the WebSocket pool of ws-client.ts). */
export type PacedSender = Pick<HttpClient, 'now' | 'send'>;

export interface PacedRunOptions {
  client: PacedSender;
  budget: RunBudget;
  pacer: Pacer;
  /** How many requests to schedule. */
  count: number;
  /** Builds request i (so probes can vary a payload or a header per request). */
  request: (i: number) => ProbeRequest;
  /** Receives every observation as it completes (aggregators, progress). */
  onObservation: (observation: Observation) => void;
  /**
   * Open model: a slow response never delays the next send. When this many requests are in
   * flight, a due request is dropped and counted (k6's dropped_iterations) instead of queued
   * behind the client, so a client-bound run is visible rather than hidden.
   */
  maxInFlight: number;
  /** Stops the schedule when the gateway is failing (5xx, transport errors); shared by a check's phases. */
  guard?: HealthGuard;
}

/**
 * What the client really offered, measured, so that "the client could not keep up" is decided
 * from the run and never from the plan: the achieved send rate overall and per 100 ms window,
 * and how late the event loop ran (a busy machine shows here first).
 */
export interface OfferedLoad {
  /** Sent requests per second over the send span. */
  ratePerSec: number;
  /** Sends per 100 ms window, as a rate: the slowest, the median and the fastest full window. */
  windowRatePerSec: { min: number; median: number; max: number };
  /** The event loop's own delay while the schedule ran (p99 and max), beyond its 1 ms timer. */
  loopDelayMs: { p99: number; max: number };
}

export interface PacedRunSummary {
  scheduled: number;
  sent: number;
  /** Due requests not sent because maxInFlight requests were outstanding. */
  dropped: number;
  /** Requests not sent because the run's cap or deadline was reached. */
  cutByBudget: number;
  startedAtMs: number;
  /** Wall time from the first intended send to the last send. */
  sendSpanMs: number;
  /** Largest lag of an actual send behind its intended time. */
  maxSendLagMs: number;
  offered: OfferedLoad;
  /** Set when the guard stopped the schedule: the gateway was failing. */
  stoppedBecause?: string;
}

const WINDOW_MS = 100;

/**
 * The pacing loop: fire every request whose intended time has come, then sleep until the next
 * one is due. Late requests go out at once in a catch-up batch with their original intended
 * time kept, so latency measured from intendedAtMs includes the client's own lag.
 */
export async function runPaced(options: PacedRunOptions): Promise<PacedRunSummary> {
  const { client, budget, pacer, count, maxInFlight } = options;
  const startedAtMs = client.now();
  let next = 0;
  let inFlight = 0;
  let sent = 0;
  let dropped = 0;
  let cutByBudget = 0;
  let lastSendMs = startedAtMs;
  let maxSendLagMs = 0;
  // Resolved when the last outstanding response has come back after the schedule is done.
  let scheduleDone = false;
  let drained: () => void = () => {};
  const allAnswered = new Promise<void>((resolve) => (drained = resolve));
  const onAnswer = (observation: Observation) => {
    inFlight--;
    options.guard?.record(observation);
    options.onObservation(observation);
    if (scheduleDone && inFlight === 0) drained();
  };
  const sendsPerWindow: number[] = [];
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();

  while (next < count) {
    if (options.guard?.tripped !== undefined) {
      cutByBudget += count - next;
      break;
    }
    const elapsedMs = client.now() - startedAtMs;
    while (next < count && pacer.intendedAtMs(next) <= elapsedMs) {
      const i = next++;
      if (inFlight >= maxInFlight) {
        dropped++;
        continue;
      }
      if (!budget.take()) {
        cutByBudget += count - i;
        next = count;
        break;
      }
      const intendedAtMs = startedAtMs + pacer.intendedAtMs(i);
      inFlight++;
      sent++;
      lastSendMs = client.now();
      maxSendLagMs = Math.max(maxSendLagMs, lastSendMs - intendedAtMs);
      const window = Math.floor((lastSendMs - startedAtMs) / WINDOW_MS);
      sendsPerWindow[window] = (sendsPerWindow[window] ?? 0) + 1;
      void client.send(options.request(i), intendedAtMs).then(onAnswer);
    }
    if (next >= count) break;
    const waitMs = startedAtMs + pacer.intendedAtMs(next) - client.now();
    // setTimeout sleeps at least ~1 ms; for shorter gaps yield to the event loop so responses
    // are processed, then send the batch that has come due.
    if (waitMs > 1.5) await sleep(Math.floor(waitMs));
    else await new Promise<void>((resolve) => setImmediate(resolve));
  }
  scheduleDone = true;
  if (inFlight > 0) await allAnswered;
  // Kept on until the last answer: a late event loop delays reading answers as much as sending.
  loopDelay.disable();
  const sendSpanMs = lastSendMs - startedAtMs;
  const summary: PacedRunSummary = {
    scheduled: count,
    sent,
    dropped,
    cutByBudget,
    startedAtMs,
    sendSpanMs,
    maxSendLagMs,
    offered: offeredLoad(sent, sendSpanMs, sendsPerWindow, loopDelay),
  };
  if (options.guard?.tripped !== undefined) summary.stoppedBecause = options.guard.tripped;
  return summary;
}

function offeredLoad(
  sent: number,
  sendSpanMs: number,
  sendsPerWindow: number[],
  loopDelay: { percentile(p: number): number; max: number },
): OfferedLoad {
  // Only whole windows: the last one is cut short by the end of the schedule.
  const windows = Math.floor(sendSpanMs / WINDOW_MS);
  const full = Array.from({ length: windows }, (_, i) => ((sendsPerWindow[i] ?? 0) * 1000) / WINDOW_MS);
  full.sort((a, b) => a - b);
  const at = (q: number) => full[Math.min(full.length - 1, Math.floor(q * full.length))] ?? 0;
  const round = (v: number) => Math.round(v * 10) / 10;
  // The histogram counts the 1 ms timer interval itself; what is above it is delay.
  const delay = (ns: number) => (Number.isFinite(ns) ? round(Math.max(0, ns / 1e6 - 1)) : 0);
  return {
    ratePerSec: round(sendSpanMs > 0 ? ((sent - 1) / sendSpanMs) * 1000 : 0),
    windowRatePerSec: { min: round(at(0)), median: round(at(0.5)), max: round(at(1)) },
    loopDelayMs: { p99: delay(loopDelay.percentile(99)), max: delay(loopDelay.max) },
  };
}
